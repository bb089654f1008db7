-- Carga horária e link de inscrição nas oficinas; canal do pedido de redefinição de senha.
-- MIGRAÇÃO COM ERROS (exemplo para o pgpreflight): cada linha errada leva o id da regra entre colchetes.

-- UP
SET lock_timeout = '2s';
ALTER TABLE oficinas ADD COLUMN carga_horaria integer NOT NULL DEFAULT 4;
ALTER TABLE oficinas ADD COLUMN link_inscricao text NOT NULL DEFAULT ''; -- [down-does-not-revert] o DOWN esquece de remover esta coluna
-- Em produção password_resets tem linhas: NOT NULL sem DEFAULT falha ("contains null values").
ALTER TABLE password_resets ADD COLUMN canal text NOT NULL; -- [not-null-without-default]
-- oficinas já existe e é grande: sem CONCURRENTLY o índice bloqueia escritas durante o build;
-- e, na mesma transação dos ADD COLUMN, o ACCESS EXCLUSIVE deles segue valendo: leituras também param.
CREATE INDEX idx_oficinas_cidade_estado ON oficinas (cidade, estado); -- [require-concurrent-index] [statement-after-access-exclusive] [require-statement-timeout]

-- DOWN
SET lock_timeout = '2s';
DROP INDEX IF EXISTS idx_oficinas_cidade_estado;
ALTER TABLE password_resets DROP COLUMN IF EXISTS canal;
ALTER TABLE oficinas DROP COLUMN IF EXISTS carga_horaria;
