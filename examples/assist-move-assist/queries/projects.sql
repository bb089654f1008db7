-- Consultas do repositório de projetos (apps/backend/src/modules/projects/repositories).

-- name: search_projects_by_nome
-- Busca por nome (índice GIN trigram idx_projects_nome_trgm).
SELECT p.id, p.nome, p.status, p.data_inicio
FROM projects AS p
WHERE p.nome ILIKE '%' || $1 || '%'
ORDER BY similarity(p.nome, $1) DESC
LIMIT 20;

-- name: list_projects_by_status
SELECT p.id, p.nome, p.data_inicio, p.data_fim, p.orcamento
FROM projects AS p
WHERE p.status = $1
ORDER BY p.data_inicio DESC;

-- name: list_projects_starting_between
SELECT p.id, p.nome, p.status, p.data_inicio
FROM projects AS p
WHERE p.data_inicio >= $1
  AND p.data_inicio < $2
ORDER BY p.data_inicio;

-- name: list_projects_by_responsavel
SELECT p.id, p.nome, p.status, p.data_inicio
FROM projects AS p
WHERE p.responsavel_id = $1
ORDER BY p.data_inicio DESC;

-- name: count_oficinas_per_active_project
-- Projetos ativos com o número de oficinas (join pela FK oficinas.projeto_id).
SELECT p.id, p.nome, count(o.id) AS oficinas
FROM projects AS p
LEFT JOIN oficinas AS o ON o.projeto_id = p.id
WHERE p.status = 'ativo'
GROUP BY p.id, p.nome
ORDER BY oficinas DESC
LIMIT 50;
