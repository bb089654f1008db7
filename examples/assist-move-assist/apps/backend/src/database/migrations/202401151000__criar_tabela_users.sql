-- Usuários do sistema (autenticação própria, JWT emitido pelo backend).

-- UP
-- pgpreflight: ignore[nullable-column] system rows have no author (created_by/updated_by NULL = criado pelo seed/sistema); last_login_at NULL = nunca entrou
CREATE TABLE users (
    id               uuid        NOT NULL DEFAULT gen_random_uuid(),
    name             text        NOT NULL,
    email            text        NOT NULL,
    password_hash    text        NOT NULL,
    role             text        NOT NULL DEFAULT 'voluntario',
    status           text        NOT NULL DEFAULT 'ativo',
    email_verificado boolean     NOT NULL DEFAULT false,
    last_login_at    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    created_by       uuid        CONSTRAINT fk_users_created_by REFERENCES users (id),
    updated_by       uuid        CONSTRAINT fk_users_updated_by REFERENCES users (id),
    CONSTRAINT pk_users PRIMARY KEY (id),
    CONSTRAINT ck_users_name CHECK (btrim(name) <> ''),
    CONSTRAINT ck_users_email CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    CONSTRAINT ck_users_role CHECK (role IN ('admin', 'gestor', 'voluntario', 'beneficiaria')),
    CONSTRAINT ck_users_status CHECK (status IN ('ativo', 'inativo', 'bloqueado'))
);

-- A tabela é nova (vazia): índices sem CONCURRENTLY são seguros aqui.
CREATE UNIQUE INDEX uq_users_email_lower ON users (lower(email));
CREATE INDEX idx_users_status_created_at ON users (status, created_at);
CREATE INDEX idx_users_created_by ON users (created_by);
CREATE INDEX idx_users_updated_by ON users (updated_by);

CREATE TRIGGER trg_users_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- DOWN
DROP TABLE IF EXISTS users;
