-- Consultas do repositório de oficinas (apps/backend/src/modules/oficinas/repositories).

-- name: find_oficinas_by_nome
-- Busca por nome com ILIKE '%termo%' (índice GIN trigram idx_oficinas_nome_trgm).
SELECT o.id, o.nome, o.cidade, o.estado, o.status, o.data_inicio
FROM oficinas AS o
WHERE o.nome ILIKE '%' || $1 || '%'
ORDER BY similarity(o.nome, $1) DESC
LIMIT 20;

-- name: find_oficina_by_id
-- Detalhe da oficina com projeto e responsável (joins pelas FKs).
SELECT o.id, o.nome, o.descricao, o.cidade, o.estado, o.local, o.status, o.modalidade,
       o.data_inicio, o.data_fim, o.vagas, o.gratuita,
       p.id AS projeto_id, p.nome AS projeto_nome,
       u.id AS responsavel_id, u.name AS responsavel_nome
FROM oficinas AS o
JOIN projects AS p ON p.id = o.projeto_id
JOIN users AS u ON u.id = o.responsavel_id
WHERE o.id = $1;

-- name: list_oficinas_by_status_and_period
-- Filtro por status e período (idx_oficinas_status_data_inicio).
SELECT o.id, o.nome, o.cidade, o.estado, o.data_inicio, o.data_fim, o.vagas
FROM oficinas AS o
WHERE o.status = $1
  AND o.data_inicio >= $2
  AND o.data_inicio < $3
ORDER BY o.data_inicio
LIMIT 100;

-- name: list_oficinas_in_period
-- Calendário: oficinas que começam num intervalo de datas (idx_oficinas_data_inicio).
SELECT o.id, o.nome, o.cidade, o.estado, o.status, o.data_inicio
FROM oficinas AS o
WHERE o.data_inicio BETWEEN $1 AND $2
ORDER BY o.data_inicio;

-- name: list_oficinas_by_cidade
-- Filtro por cidade e estado (idx_oficinas_cidade_estado, da migração 202404101130).
SELECT o.id, o.nome, o.status, o.data_inicio
FROM oficinas AS o
WHERE o.cidade = $1
  AND o.estado = $2
ORDER BY o.data_inicio DESC
LIMIT 50;

-- name: list_oficinas_gratuitas
-- Filtro "somente gratuitas/pagas" + ordem por data. O índice idx_oficinas_gratuita
-- (202404151000) não ajuda: gratuita tem dois valores e o planner percorre idx_oficinas_data_inicio.
SELECT o.id, o.nome, o.cidade, o.estado, o.data_inicio
FROM oficinas AS o
WHERE o.gratuita = $1
ORDER BY o.data_inicio DESC
LIMIT 50;

-- name: list_oficinas_by_projeto
SELECT o.id, o.nome, o.status, o.data_inicio, o.vagas
FROM oficinas AS o
WHERE o.projeto_id = $1
ORDER BY o.data_inicio DESC;

-- name: list_oficinas_by_responsavel
SELECT o.id, o.nome, o.status, o.data_inicio
FROM oficinas AS o
WHERE o.responsavel_id = $1
  AND o.status IN ('planejada', 'inscricoes_abertas', 'em_andamento')
ORDER BY o.data_inicio;

-- name: count_oficinas_by_status_since
-- Painel: oficinas por status desde uma data.
SELECT o.status, count(*) AS total
FROM oficinas AS o
WHERE o.data_inicio >= $1
GROUP BY o.status
ORDER BY total DESC;

-- name: list_oficinas_recentes
SELECT o.id, o.nome, o.cidade, o.estado, o.status, o.created_at
FROM oficinas AS o
WHERE o.status = 'inscricoes_abertas'
ORDER BY o.data_inicio DESC
LIMIT 20;
