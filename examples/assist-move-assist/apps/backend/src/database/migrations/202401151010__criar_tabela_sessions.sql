-- Sessões de login (refresh tokens). O Redis guarda o cache; o PostgreSQL é a fonte da verdade.

-- UP
SET lock_timeout = '2s';

-- pgpreflight: ignore[nullable-column] system rows have no author (created_by/updated_by); revoked_at NULL = sessão ativa
CREATE TABLE sessions (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL CONSTRAINT fk_sessions_user REFERENCES users (id) ON DELETE CASCADE,
    token_hash  text        NOT NULL,
    ip_address  inet        NOT NULL,
    user_agent  text        NOT NULL DEFAULT '',
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    created_by  uuid        CONSTRAINT fk_sessions_created_by REFERENCES users (id),
    updated_by  uuid        CONSTRAINT fk_sessions_updated_by REFERENCES users (id),
    CONSTRAINT pk_sessions PRIMARY KEY (id),
    CONSTRAINT uq_sessions_token_hash UNIQUE (token_hash),
    CONSTRAINT ck_sessions_expires_after_created CHECK (expires_at > created_at),
    CONSTRAINT ck_sessions_revoked_after_created CHECK (revoked_at IS NULL OR revoked_at >= created_at)
);

-- (user_id, created_at) cobre a FK user_id e a listagem "sessões recentes do usuário".
CREATE INDEX idx_sessions_user_id_created_at ON sessions (user_id, created_at);
CREATE INDEX idx_sessions_expires_at ON sessions (expires_at);
CREATE INDEX idx_sessions_created_by ON sessions (created_by);
CREATE INDEX idx_sessions_updated_by ON sessions (updated_by);

CREATE TRIGGER trg_sessions_updated_at
    BEFORE UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- DOWN
DROP TABLE IF EXISTS sessions;
