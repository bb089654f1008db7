-- Pedidos de redefinição de senha (token enviado por e-mail, uso único).

-- UP
SET lock_timeout = '2s';

-- pgpreflight: ignore[nullable-column] system rows have no author (created_by/updated_by); used_at NULL = token ainda não usado
CREATE TABLE password_resets (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL CONSTRAINT fk_password_resets_user REFERENCES users (id) ON DELETE CASCADE,
    token_hash  text        NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    created_by  uuid        CONSTRAINT fk_password_resets_created_by REFERENCES users (id),
    updated_by  uuid        CONSTRAINT fk_password_resets_updated_by REFERENCES users (id),
    CONSTRAINT pk_password_resets PRIMARY KEY (id),
    CONSTRAINT uq_password_resets_token_hash UNIQUE (token_hash),
    CONSTRAINT ck_password_resets_expires_after_created CHECK (expires_at > created_at),
    CONSTRAINT ck_password_resets_used_after_created CHECK (used_at IS NULL OR used_at >= created_at)
);

CREATE INDEX idx_password_resets_user_id ON password_resets (user_id);
CREATE INDEX idx_password_resets_expires_at ON password_resets (expires_at);
CREATE INDEX idx_password_resets_created_by ON password_resets (created_by);
CREATE INDEX idx_password_resets_updated_by ON password_resets (updated_by);

CREATE TRIGGER trg_password_resets_updated_at
    BEFORE UPDATE ON password_resets
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- DOWN
DROP TABLE IF EXISTS password_resets;
