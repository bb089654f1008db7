-- Valida o CHECK ck_oficinas_modalidade criado NOT VALID na migração anterior. Fica numa
-- migração própria porque os locks só são liberados no fim da transação: validado junto do
-- ADD COLUMN, o scan de oficinas rodaria ainda sob ACCESS EXCLUSIVE (leituras e escritas
-- bloqueadas). Sozinho, VALIDATE CONSTRAINT usa SHARE UPDATE EXCLUSIVE e não bloqueia ninguém.

-- UP
SET lock_timeout = '2s';
ALTER TABLE oficinas VALIDATE CONSTRAINT ck_oficinas_modalidade;

-- DOWN
-- Volta ao estado anterior: o mesmo CHECK, ainda não validado.
SET lock_timeout = '2s';
ALTER TABLE oficinas DROP CONSTRAINT IF EXISTS ck_oficinas_modalidade;
ALTER TABLE oficinas
    ADD CONSTRAINT ck_oficinas_modalidade
    CHECK (modalidade IN ('presencial', 'online', 'hibrida')) NOT VALID;
