-- Oficinas (workshops) oferecidas pelos projetos, buscadas por nome, cidade, período e status.

-- UP
SET lock_timeout = '2s';

-- pgpreflight: ignore[nullable-column] system rows have no author (created_by/updated_by)
CREATE TABLE oficinas (
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    projeto_id      uuid        NOT NULL CONSTRAINT fk_oficinas_projeto REFERENCES projects (id),
    nome            text        NOT NULL,
    descricao       text        NOT NULL DEFAULT '',
    cidade          text        NOT NULL,
    estado          text        NOT NULL,
    local           text        NOT NULL DEFAULT '',
    status          text        NOT NULL DEFAULT 'planejada',
    data_inicio     date        NOT NULL,
    data_fim        date        NOT NULL,
    vagas           integer     NOT NULL DEFAULT 20,
    gratuita        boolean     NOT NULL DEFAULT true,
    responsavel_id  uuid        NOT NULL CONSTRAINT fk_oficinas_responsavel REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    created_by      uuid        CONSTRAINT fk_oficinas_created_by REFERENCES users (id),
    updated_by      uuid        CONSTRAINT fk_oficinas_updated_by REFERENCES users (id),
    CONSTRAINT pk_oficinas PRIMARY KEY (id),
    CONSTRAINT ck_oficinas_nome CHECK (btrim(nome) <> ''),
    CONSTRAINT ck_oficinas_estado CHECK (estado ~ '^[A-Z]{2}$'),
    CONSTRAINT ck_oficinas_status CHECK (status IN ('planejada', 'inscricoes_abertas', 'em_andamento', 'concluida', 'cancelada')),
    CONSTRAINT ck_oficinas_periodo CHECK (data_fim >= data_inicio),
    CONSTRAINT ck_oficinas_vagas CHECK (vagas > 0)
);

CREATE INDEX idx_oficinas_projeto_id ON oficinas (projeto_id);
CREATE INDEX idx_oficinas_responsavel_id ON oficinas (responsavel_id);
CREATE INDEX idx_oficinas_created_by ON oficinas (created_by);
CREATE INDEX idx_oficinas_updated_by ON oficinas (updated_by);
-- Busca por nome com ILIKE '%termo%': GIN trigram.
CREATE INDEX idx_oficinas_nome_trgm ON oficinas USING gin (nome gin_trgm_ops);
-- Filtros por status e período (btree).
CREATE INDEX idx_oficinas_status_data_inicio ON oficinas (status, data_inicio);
CREATE INDEX idx_oficinas_data_inicio ON oficinas (data_inicio);

CREATE TRIGGER trg_oficinas_updated_at
    BEFORE UPDATE ON oficinas
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- DOWN
DROP TABLE IF EXISTS oficinas;
