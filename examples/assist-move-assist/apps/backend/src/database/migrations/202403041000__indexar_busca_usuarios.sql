-- A tela de usuários ganhou busca por nome (ILIKE '%termo%'): índice GIN trigram em users.name.
-- users já tem dados em produção: o índice é criado com CONCURRENTLY, fora de transação
-- (o migrate.sh aplica arquivos com CONCURRENTLY em modo autocommit).

-- UP
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_users_name_trgm ON users USING gin (name gin_trgm_ops);

-- DOWN
SET lock_timeout = '2s';
DROP INDEX CONCURRENTLY IF EXISTS idx_users_name_trgm;
