-- Oficinas online e híbridas. Padrão seguro para tabela grande já populada:
-- coluna com DEFAULT constante (sem reescrita desde o PostgreSQL 11), CHECK criado
-- NOT VALID (lock curto) e validado depois, na migração seguinte (sem bloquear escritas).

-- UP
SET lock_timeout = '2s';
ALTER TABLE oficinas ADD COLUMN modalidade text NOT NULL DEFAULT 'presencial';
ALTER TABLE oficinas
    ADD CONSTRAINT ck_oficinas_modalidade
    CHECK (modalidade IN ('presencial', 'online', 'hibrida')) NOT VALID;

-- DOWN
SET lock_timeout = '2s';
ALTER TABLE oficinas DROP CONSTRAINT IF EXISTS ck_oficinas_modalidade;
ALTER TABLE oficinas DROP COLUMN IF EXISTS modalidade;
