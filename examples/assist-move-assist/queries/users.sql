-- Consultas do repositório de usuários (apps/backend/src/modules/users/repositories).
-- SQL parametrizado como o backend envia ao driver `pg` ($1, $2, ...).

-- name: find_user_by_email
-- Login: e-mail sem diferenciar maiúsculas (índice único uq_users_email_lower em lower(email)).
SELECT u.id, u.name, u.email, u.password_hash, u.role, u.status
FROM users AS u
WHERE lower(u.email) = lower($1);

-- name: find_user_by_id
SELECT u.id, u.name, u.email, u.role, u.status, u.email_verificado, u.last_login_at, u.created_at
FROM users AS u
WHERE u.id = $1;

-- name: search_users_by_name
-- Busca da tela de usuários: ILIKE '%termo%' (índice GIN trigram idx_users_name_trgm).
SELECT u.id, u.name, u.email, u.role, u.status
FROM users AS u
WHERE u.name ILIKE '%' || $1 || '%'
ORDER BY similarity(u.name, $1) DESC
LIMIT 20;

-- name: list_users_by_status
-- Listagem paginada por status, mais recentes primeiro (idx_users_status_created_at).
SELECT u.id, u.name, u.email, u.role, u.created_at
FROM users AS u
WHERE u.status = $1
ORDER BY u.created_at DESC
LIMIT $2 OFFSET $3;

-- name: list_users_created_between
-- Relatório de cadastros por período e status.
SELECT u.id, u.name, u.role, u.created_at
FROM users AS u
WHERE u.status = $1
  AND u.created_at >= $2
  AND u.created_at < $3
ORDER BY u.created_at DESC
LIMIT 100;

-- name: list_user_permissions
-- Permissões individuais de um usuário (a chave primária de user_permissions começa por user_id).
SELECT p.codigo, p.descricao, up.created_at
FROM user_permissions AS up
JOIN permissions AS p ON p.id = up.permission_id
WHERE up.user_id = $1
ORDER BY p.codigo;

-- name: list_users_with_permission
-- Quem tem uma permissão (idx_user_permissions_permission_id e o código único).
SELECT u.id, u.name, u.email
FROM permissions AS p
JOIN user_permissions AS up ON up.permission_id = p.id
JOIN users AS u ON u.id = up.user_id
WHERE p.codigo = $1
ORDER BY u.name;

-- name: find_valid_password_reset
-- Token de redefinição de senha ainda válido (uq_password_resets_token_hash).
SELECT pr.id, pr.user_id, pr.expires_at
FROM password_resets AS pr
WHERE pr.token_hash = $1
  AND pr.used_at IS NULL
  AND pr.expires_at > now();

-- name: touch_last_login
UPDATE users
SET last_login_at = now(), updated_by = $1
WHERE id = $1;
