-- Projetos sociais; cada oficina pertence a um projeto.

-- UP
SET lock_timeout = '2s';

-- pgpreflight: ignore[nullable-column] system rows have no author (created_by/updated_by); data_fim NULL = projeto sem data de término
CREATE TABLE projects (
    id              uuid          NOT NULL DEFAULT gen_random_uuid(),
    nome            text          NOT NULL,
    descricao       text          NOT NULL DEFAULT '',
    status          text          NOT NULL DEFAULT 'planejado',
    data_inicio     date          NOT NULL,
    data_fim        date,
    orcamento       numeric(12,2) NOT NULL DEFAULT 0,
    responsavel_id  uuid          NOT NULL CONSTRAINT fk_projects_responsavel REFERENCES users (id),
    created_at      timestamptz   NOT NULL DEFAULT now(),
    updated_at      timestamptz   NOT NULL DEFAULT now(),
    created_by      uuid          CONSTRAINT fk_projects_created_by REFERENCES users (id),
    updated_by      uuid          CONSTRAINT fk_projects_updated_by REFERENCES users (id),
    CONSTRAINT pk_projects PRIMARY KEY (id),
    CONSTRAINT ck_projects_nome CHECK (btrim(nome) <> ''),
    CONSTRAINT ck_projects_status CHECK (status IN ('planejado', 'ativo', 'suspenso', 'concluido', 'cancelado')),
    CONSTRAINT ck_projects_periodo CHECK (data_fim IS NULL OR data_fim >= data_inicio),
    CONSTRAINT ck_projects_orcamento CHECK (orcamento >= 0)
);

CREATE INDEX idx_projects_responsavel_id ON projects (responsavel_id);
CREATE INDEX idx_projects_created_by ON projects (created_by);
CREATE INDEX idx_projects_updated_by ON projects (updated_by);
CREATE INDEX idx_projects_status ON projects (status);
CREATE INDEX idx_projects_data_inicio ON projects (data_inicio);
CREATE INDEX idx_projects_nome_trgm ON projects USING gin (nome gin_trgm_ops);

CREATE TRIGGER trg_projects_updated_at
    BEFORE UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- DOWN
DROP TABLE IF EXISTS projects;
