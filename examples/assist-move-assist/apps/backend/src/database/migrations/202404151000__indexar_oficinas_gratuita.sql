-- Índice para o filtro "somente gratuitas" da listagem de oficinas.
-- MIGRAÇÃO INÚTIL (exemplo para o pgpreflight check): estaticamente está correta, mas gratuita é
-- boolean com ~60% true / ~40% false; o planner não usa o índice (seq scan ou índice de data_inicio
-- são mais baratos). Veredito esperado do EXPLAIN ANALYZE: "not used" / "no gain" (sem regra estática).

-- UP
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_oficinas_gratuita ON oficinas (gratuita);

-- DOWN
SET lock_timeout = '2s';
DROP INDEX CONCURRENTLY IF EXISTS idx_oficinas_gratuita;
