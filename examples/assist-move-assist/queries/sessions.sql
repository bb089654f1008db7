-- Consultas do repositório de sessões (apps/backend/src/modules/auth/repositories).

-- name: find_active_session_by_token
-- Refresh token (uq_sessions_token_hash).
SELECT s.id, s.user_id, s.expires_at
FROM sessions AS s
WHERE s.token_hash = $1
  AND s.revoked_at IS NULL
  AND s.expires_at > now();

-- name: list_sessions_by_user
-- Sessões recentes de um usuário (idx_sessions_user_id_created_at).
SELECT s.id, s.ip_address, s.user_agent, s.created_at, s.expires_at, s.revoked_at
FROM sessions AS s
WHERE s.user_id = $1
ORDER BY s.created_at DESC
LIMIT 10;

-- name: revoke_sessions_by_user
UPDATE sessions
SET revoked_at = now(), updated_by = $2
WHERE user_id = $1
  AND revoked_at IS NULL;

-- name: delete_expired_sessions
-- Limpeza diária (idx_sessions_expires_at).
DELETE FROM sessions
WHERE expires_at < now() - interval '30 days';

-- name: list_sessions_by_ip
-- Auditoria de segurança: sessões abertas a partir de um IP.
-- SEM ÍNDICE DE APOIO de propósito: nenhum índice começa por sessions.ip_address, então a consulta
-- lê a tabela inteira. Exemplo para a regra query-without-supporting-index.
SELECT s.id, s.user_id, s.user_agent, s.created_at
FROM sessions AS s
WHERE s.ip_address = $1 -- [filter-column-without-index]
ORDER BY s.created_at DESC
LIMIT 100;
