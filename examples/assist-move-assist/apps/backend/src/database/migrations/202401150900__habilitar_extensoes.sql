-- Extensões usadas pelo backend: pgcrypto (digest/crypt), uuid-ossp (scripts legados
-- que chamam uuid_generate_v4) e pg_trgm (índices GIN para buscas com ILIKE).

-- UP
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- DOWN
DROP EXTENSION IF EXISTS pg_trgm; -- [down-does-not-revert] extensões são compartilhadas: podiam existir antes do UP
DROP EXTENSION IF EXISTS "uuid-ossp"; -- [down-does-not-revert]
DROP EXTENSION IF EXISTS pgcrypto; -- [down-does-not-revert]
