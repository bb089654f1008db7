-- Permissões (códigos "modulo:acao") e a tabela de junção user_permissions.

-- UP
SET lock_timeout = '2s';

-- pgpreflight: ignore[nullable-column] system rows have no author (permissões básicas vêm do seed)
CREATE TABLE permissions (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    codigo      text        NOT NULL,
    descricao   text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    created_by  uuid        CONSTRAINT fk_permissions_created_by REFERENCES users (id),
    updated_by  uuid        CONSTRAINT fk_permissions_updated_by REFERENCES users (id),
    CONSTRAINT pk_permissions PRIMARY KEY (id),
    CONSTRAINT uq_permissions_codigo UNIQUE (codigo),
    CONSTRAINT ck_permissions_codigo CHECK (codigo ~ '^[a-z_]+:[a-z_]+$')
);

CREATE INDEX idx_permissions_created_by ON permissions (created_by);
CREATE INDEX idx_permissions_updated_by ON permissions (updated_by);

CREATE TRIGGER trg_permissions_updated_at
    BEFORE UPDATE ON permissions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- pgpreflight: ignore[nullable-column] system rows have no author (concessões feitas pelo seed)
CREATE TABLE user_permissions (
    user_id        uuid        NOT NULL CONSTRAINT fk_user_permissions_user REFERENCES users (id) ON DELETE CASCADE,
    permission_id  uuid        NOT NULL CONSTRAINT fk_user_permissions_permission REFERENCES permissions (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    created_by     uuid        CONSTRAINT fk_user_permissions_created_by REFERENCES users (id),
    updated_by     uuid        CONSTRAINT fk_user_permissions_updated_by REFERENCES users (id),
    -- A chave primária (user_id, permission_id) já indexa a FK user_id.
    CONSTRAINT pk_user_permissions PRIMARY KEY (user_id, permission_id)
);

CREATE INDEX idx_user_permissions_permission_id ON user_permissions (permission_id);
CREATE INDEX idx_user_permissions_created_by ON user_permissions (created_by);
CREATE INDEX idx_user_permissions_updated_by ON user_permissions (updated_by);

CREATE TRIGGER trg_user_permissions_updated_at
    BEFORE UPDATE ON user_permissions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- DOWN
DROP TABLE IF EXISTS user_permissions;
DROP TABLE IF EXISTS permissions;
