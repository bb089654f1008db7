-- Dados de exemplo do Assist Move Assist para `pgpreflight check --data`.
--
-- Volume suficiente para o EXPLAIN ANALYZE mostrar planos reais (o planner usa o número real de
-- páginas): 50 mil users, 100 mil sessions, 100 mil oficinas, 2 mil projects, ~4 mil
-- user_permissions. Distribuições assimétricas (status, temas, cidades) para que a seletividade
-- mude conforme o valor, e datas espalhadas por três anos.
--
-- Idempotente (convenção do guia): cada linha tem um id determinístico, pg_temp.seed_id('<tabela>', n),
-- e todo INSERT só insere as linhas que ainda não existem (WHERE NOT EXISTS nas tabelas grandes,
-- ON CONFLICT DO NOTHING nas pequenas); rodar de novo não duplica nada. Nas tabelas grandes o
-- anti-join é mais barato que ON CONFLICT, que faz inserção especulativa linha a linha.
--
-- Usa só o esquema das migrações limpas (até 202403181410__validar_modalidade_oficinas), para
-- poder ser carregado antes das migrações pendentes. Não toca em password_resets nem em inscricoes:
-- a migração 202404101130 adiciona password_resets.canal NOT NULL sem DEFAULT, que só passa com a
-- tabela vazia (o erro é apontado pelo lint, não escondido pelos dados).

SET client_min_messages = warning;
SET work_mem = '64MB';  -- as ordenações abaixo cabem em memória
SELECT setseed(0.4242);

-- Id determinístico e crescente com n, no formato de um UUIDv7 (prefixo ordenado, "7" de versão,
-- código da tabela): ids crescentes mantêm as inserções no fim do índice da chave primária (com
-- ids aleatórios a carga fica ~25% mais lenta). Função temporária (pg_temp), some com a sessão;
-- SQL simples e IMMUTABLE para o planner expandi-la em linha.
CREATE OR REPLACE FUNCTION pg_temp.seed_id(tabela text, n integer) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT (lpad(to_hex(n), 12, '0') || '7'
            || CASE tabela WHEN 'users' THEN '001' WHEN 'projects' THEN '002'
                           WHEN 'oficinas' THEN '003' ELSE '004' END
            || '8' || lpad(to_hex(n), 15, '0'))::uuid
$$;

-- Usuárias e usuários -------------------------------------------------------------------------
-- 1..20 admin, 21..500 gestor, os demais beneficiaria (70%) ou voluntario (30%).
-- A primeira admin é a conta do sistema: created_by NULL; as demais foram criadas por ela.
INSERT INTO users (id, name, email, password_hash, role, status, email_verificado,
                   last_login_at, created_at, updated_at, created_by, updated_by)
SELECT pg_temp.seed_id('users', s.g),
       s.nome,
       translate(lower(split_part(s.nome, ' ', 1) || '.' || split_part(s.nome, ' ', 2)),
                 'áàâãéêíóôõúüç', 'aaaaeeiooouuc') || s.g || '@exemplo.org.br',
       '$2b$10$' || md5('senha:' || s.g),           -- hash fictício (bcrypt de verdade seria lento)
       CASE WHEN s.g <= 20 THEN 'admin'
            WHEN s.g <= 500 THEN 'gestor'
            WHEN s.r_role < 0.70 THEN 'beneficiaria'
            ELSE 'voluntario' END,
       CASE WHEN s.r_status < 0.85 THEN 'ativo'
            WHEN s.r_status < 0.97 THEN 'inativo'
            ELSE 'bloqueado' END,
       s.r_verif < 0.90,
       CASE WHEN s.r_login < 0.80 THEN s.criado + (now() - s.criado) * s.r_login / 0.80 END,
       s.criado,
       s.criado + (now() - s.criado) * s.r_upd * s.r_upd,
       CASE WHEN s.g > 1 THEN pg_temp.seed_id('users', 1) END,
       CASE WHEN s.r_upd < 0.25 THEN pg_temp.seed_id('users', 1) END
FROM (
    SELECT g,
           CASE WHEN g = 1 THEN 'Sistema Assist Move'
                ELSE p.nomes[1 + floor(random() * array_length(p.nomes, 1))::int] || ' '
                  || p.sobrenomes[1 + floor(random() * array_length(p.sobrenomes, 1))::int] || ' '
                  || p.sobrenomes[1 + floor(random() * array_length(p.sobrenomes, 1))::int]
           END AS nome,
           now() - interval '3 years' + random() * interval '3 years' AS criado,
           random() AS r_role, random() AS r_status, random() AS r_verif,
           random() AS r_login, random() AS r_upd
    FROM generate_series(1, 50000) AS g
    CROSS JOIN (SELECT
        ARRAY['Ana', 'Maria', 'Francisca', 'Antônia', 'Adriana', 'Juliana', 'Márcia', 'Fernanda',
              'Patrícia', 'Aline', 'Sandra', 'Camila', 'Amanda', 'Bruna', 'Jéssica', 'Letícia',
              'Júlia', 'Luciana', 'Vanessa', 'Mariana', 'Gabriela', 'Vera', 'Vitória', 'Larissa',
              'Cláudia', 'Beatriz', 'Rita', 'Luana', 'Sônia', 'Renata', 'Eliane', 'Josefa',
              'José', 'João', 'Antônio', 'Carlos', 'Paulo', 'Pedro', 'Lucas', 'Luiz', 'Marcos',
              'Luís', 'Gabriel', 'Rafael', 'Daniel', 'Marcelo', 'Bruno', 'Eduardo', 'Felipe',
              'Raimundo', 'Rodrigo', 'Thiago', 'Matheus', 'Gustavo', 'Tereza', 'Raquel',
              'Simone', 'Débora', 'Priscila', 'Kátia', 'Conceição', 'Rosângela', 'Valéria'] AS nomes,
        ARRAY['Silva', 'Santos', 'Oliveira', 'Souza', 'Rodrigues', 'Ferreira', 'Alves', 'Pereira',
              'Lima', 'Gomes', 'Costa', 'Ribeiro', 'Martins', 'Carvalho', 'Almeida', 'Lopes',
              'Soares', 'Fernandes', 'Vieira', 'Barbosa', 'Rocha', 'Dias', 'Nascimento', 'Andrade',
              'Moreira', 'Nunes', 'Marques', 'Machado', 'Mendes', 'Freitas', 'Cardoso', 'Ramos',
              'Gonçalves', 'Santana', 'Teixeira', 'Araújo', 'Cavalcanti', 'Monteiro', 'Moura',
              'Correia', 'Batista', 'Campos', 'Farias', 'Pinto', 'Xavier', 'Brito', 'Queiroz'] AS sobrenomes
    ) AS p
) AS s

WHERE NOT EXISTS (SELECT 1 FROM users AS u WHERE u.id = pg_temp.seed_id('users', s.g))
ORDER BY s.g;

-- Permissões -------------------------------------------------------------------------------
INSERT INTO permissions (id, codigo, descricao, created_by)
SELECT md5('permission:' || v.codigo)::uuid, v.codigo, v.descricao, pg_temp.seed_id('users', 1)
FROM (VALUES
    ('usuarios:ler', 'Consultar usuários'),
    ('usuarios:editar', 'Criar e editar usuários'),
    ('beneficiarias:ler', 'Consultar cadastro de beneficiárias'),
    ('beneficiarias:editar', 'Editar cadastro de beneficiárias'),
    ('projetos:ler', 'Consultar projetos'),
    ('projetos:criar', 'Criar projetos'),
    ('projetos:editar', 'Editar projetos'),
    ('oficinas:ler', 'Consultar oficinas'),
    ('oficinas:criar', 'Criar oficinas'),
    ('oficinas:editar', 'Editar oficinas'),
    ('oficinas:excluir', 'Cancelar e excluir oficinas'),
    ('inscricoes:gerenciar', 'Gerenciar inscrições nas oficinas'),
    ('relatorios:ler', 'Ver relatórios'),
    ('relatorios:exportar', 'Exportar relatórios'),
    ('sessoes:revogar', 'Revogar sessões de outros usuários'),
    ('permissoes:gerenciar', 'Conceder e revogar permissões')
) AS v (codigo, descricao)
ON CONFLICT DO NOTHING;

-- Permissões individuais só para a equipe: admin recebe todas; gestor, leitura e edição de
-- projetos/oficinas/inscrições/relatórios. voluntario e beneficiaria ficam com as do papel (role).
INSERT INTO user_permissions (user_id, permission_id, created_at, updated_at, created_by)
SELECT u.id, p.id, u.created_at, u.created_at, pg_temp.seed_id('users', 1)
FROM users AS u
JOIN permissions AS p
  ON u.role = 'admin'
  OR (u.role = 'gestor' AND p.codigo IN ('usuarios:ler', 'beneficiarias:ler', 'projetos:ler',
        'projetos:editar', 'oficinas:ler', 'oficinas:criar', 'oficinas:editar',
        'inscricoes:gerenciar', 'relatorios:ler'))

ON CONFLICT DO NOTHING;

-- Projetos ---------------------------------------------------------------------------------
-- Responsáveis: gestores (users 21..500).
INSERT INTO projects (id, nome, descricao, status, data_inicio, data_fim, orcamento,
                      responsavel_id, created_at, updated_at, created_by)
SELECT pg_temp.seed_id('projects', s.g),
       s.eixo || ' ' || s.cidade || ' ' || extract(year FROM s.inicio)::int || ' #' || s.g,
       'Projeto do eixo ' || s.eixo || ' em ' || s.cidade,
       CASE WHEN s.inicio > current_date THEN 'planejado'
            WHEN s.r_status < 0.05 THEN 'cancelado'
            WHEN s.r_status < 0.10 THEN 'suspenso'
            WHEN s.inicio + s.duracao < current_date THEN 'concluido'
            ELSE 'ativo' END,
       s.inicio,
       CASE WHEN s.r_fim < 0.85 THEN s.inicio + s.duracao END,
       round((5000 + random() * 245000)::numeric, 2),
       pg_temp.seed_id('users', (21 + floor(random() * 480))::int),
       s.inicio - 30,
       s.inicio - 30,
       pg_temp.seed_id('users', (21 + floor(random() * 480))::int)
FROM (
    SELECT g,
           (ARRAY['Mulheres que Movem', 'Renda e Autonomia', 'Juventude Conectada', 'Saúde da Família',
                  'Cultura na Periferia', 'Trabalho Digno', 'Comunidade Ativa', 'Educação para Todos',
                  'Esporte e Cidadania', 'Economia Solidária'])[1 + floor(random() * 10)::int] AS eixo,
           (ARRAY['São Paulo', 'Rio de Janeiro', 'Belo Horizonte', 'Salvador', 'Fortaleza', 'Recife',
                  'Porto Alegre', 'Curitiba', 'Manaus', 'Belém'])[1 + floor(random() * 10)::int] AS cidade,
           (current_date - 1200 + floor(random() * 1300)::int) AS inicio,
           (90 + floor(random() * 640)::int) AS duracao,
           random() AS r_status, random() AS r_fim
    FROM generate_series(1, 2000) AS g
) AS s

WHERE NOT EXISTS (SELECT 1 FROM projects AS p WHERE p.id = pg_temp.seed_id('projects', s.g))
ORDER BY s.g;

-- Oficinas ---------------------------------------------------------------------------------
-- Temas e cidades com distribuição assimétrica (power(random(), 2.5): os primeiros da lista são
-- muito mais frequentes). Status coerente com as datas: ~60% concluídas, poucas canceladas.
INSERT INTO oficinas (id, projeto_id, nome, descricao, cidade, estado, local, status,
                      data_inicio, data_fim, vagas, gratuita, modalidade, responsavel_id,
                      created_at, updated_at, created_by, updated_by)
SELECT pg_temp.seed_id('oficinas', s.g),
       pg_temp.seed_id('projects', s.projeto),
       s.formato || t.temas[s.ti] || ' - Turma ' || (1 + s.g % 40),
       'Oficina de ' || lower(t.temas[s.ti]) || ' para a comunidade de ' || t.cidades[s.ci][1],
       t.cidades[s.ci][1],
       t.cidades[s.ci][2],
       (ARRAY['Centro Comunitário', 'Escola Municipal', 'Biblioteca Pública', 'Sede da Associação',
              'CRAS', 'Igreja do Bairro'])[1 + floor(s.r_local * 6)::int],
       CASE WHEN s.inicio > current_date + 30 THEN 'planejada'
            WHEN s.inicio > current_date THEN 'inscricoes_abertas'
            WHEN s.r_status < 0.07 THEN 'cancelada'
            WHEN s.inicio + s.duracao >= current_date THEN 'em_andamento'
            ELSE 'concluida' END,
       s.inicio,
       s.inicio + s.duracao,
       10 + floor(s.r_vagas * 31)::int,
       s.r_gratuita < 0.60,
       CASE WHEN s.r_modal < 0.75 THEN 'presencial' WHEN s.r_modal < 0.90 THEN 'online' ELSE 'hibrida' END,
       pg_temp.seed_id('users', s.responsavel),
       s.criado,
       s.criado + (s.inicio - s.criado::date) * interval '1 day' * s.r_upd,
       pg_temp.seed_id('users', s.responsavel),
       CASE WHEN s.r_upd < 0.30 THEN pg_temp.seed_id('users', s.responsavel) END
FROM (
    SELECT r.*,
           r.inicio - r.antecedencia + r.r_hora * interval '10 hours' AS criado
    FROM (
        SELECT g,
               1 + floor(random() * 2000)::int AS projeto,
               21 + floor(random() * 480)::int AS responsavel,
               (ARRAY['Oficina de ', 'Curso de ', 'Workshop: ', 'Introdução a '])[1 + floor(random() * 4)::int] AS formato,
               1 + floor(power(random(), 2.5) * 30)::int AS ti,   -- índice em temas (30)
               1 + floor(power(random(), 2.5) * 35)::int AS ci,   -- índice em cidades (35)
               current_date - 1000 + floor(random() * 1095)::int AS inicio,
               10 + floor(random() * 80)::int AS antecedencia,
               (ARRAY[0, 1, 2, 4, 6, 13, 27, 55])[1 + floor(random() * 8)::int] AS duracao,
               random() AS r_hora, random() AS r_status, random() AS r_vagas, random() AS r_gratuita,
               random() AS r_local, random() AS r_modal, random() AS r_upd
        FROM generate_series(1, 100000) AS g
    ) AS r
) AS s
CROSS JOIN (SELECT
    ARRAY['Costura Criativa', 'Informática Básica', 'Culinária Saudável', 'Artesanato em Crochê',
          'Empreendedorismo Feminino', 'Educação Financeira', 'Panificação Artesanal',
          'Maquiagem Profissional', 'Manicure e Pedicure', 'Inglês Básico',
          'Mídias Sociais para Negócios', 'Horta Urbana', 'Dança de Salão', 'Primeiros Socorros',
          'Cuidador de Idosos', 'Fotografia com Celular', 'Redação para o ENEM', 'Bordado Livre',
          'Reciclagem Criativa', 'Violão para Iniciantes', 'Teatro Comunitário', 'Libras',
          'Programação para Jovens', 'Capoeira', 'Yoga', 'Eletricista Residencial',
          'Direitos da Mulher', 'Cerâmica', 'Marcenaria', 'Xadrez'] AS temas,
    ARRAY[['São Paulo', 'SP'], ['Rio de Janeiro', 'RJ'], ['Belo Horizonte', 'MG'],
          ['Salvador', 'BA'], ['Fortaleza', 'CE'], ['Recife', 'PE'], ['Porto Alegre', 'RS'],
          ['Curitiba', 'PR'], ['Manaus', 'AM'], ['Belém', 'PA'], ['Goiânia', 'GO'],
          ['Campinas', 'SP'], ['Brasília', 'DF'], ['São Luís', 'MA'], ['Maceió', 'AL'],
          ['Natal', 'RN'], ['Teresina', 'PI'], ['João Pessoa', 'PB'], ['Florianópolis', 'SC'],
          ['Vitória', 'ES'], ['Cuiabá', 'MT'], ['Campo Grande', 'MS'], ['Aracaju', 'SE'],
          ['Niterói', 'RJ'], ['Juiz de Fora', 'MG'], ['Londrina', 'PR'], ['Santos', 'SP'],
          ['Feira de Santana', 'BA'], ['Joinville', 'SC'], ['Caxias do Sul', 'RS'],
          ['Porto Velho', 'RO'], ['Macapá', 'AP'], ['Boa Vista', 'RR'], ['Palmas', 'TO'],
          ['Rio Branco', 'AC']] AS cidades
) AS t

WHERE NOT EXISTS (SELECT 1 FROM oficinas AS o WHERE o.id = pg_temp.seed_id('oficinas', s.g))
ORDER BY s.g;

-- Sessões ----------------------------------------------------------------------------------
-- 100 mil sessões em três anos; usuárias ativas entram mais (power(random(), 1.5) favorece os
-- primeiros ids); ~40% revogadas antes de expirar.
INSERT INTO sessions (id, user_id, token_hash, ip_address, user_agent, expires_at, revoked_at,
                      created_at, updated_at, created_by)
SELECT pg_temp.seed_id('sessions', s.g),
       pg_temp.seed_id('users', s.usuario),
       md5('token:' || s.g),
       ((ARRAY['177', '179', '186', '187', '189', '191', '200', '201'])[1 + floor(s.r_ip * 8)::int]
         || '.' || (s.g % 251) || '.' || (s.g % 241) || '.' || (1 + s.g % 239))::inet,
       (ARRAY['Mozilla/5.0 (Linux; Android 13) Chrome/119.0 Mobile',
              'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Safari/604.1',
              'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/119.0',
              'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0',
              'AssistMoveApp/2.3 (Android)'])[1 + floor(s.r_ua * 5)::int],
       s.criado + interval '30 days',
       CASE WHEN s.r_rev < 0.40 THEN s.criado + s.r_rev / 0.40 * interval '30 days' END,
       s.criado,
       CASE WHEN s.r_rev < 0.40 THEN s.criado + s.r_rev / 0.40 * interval '30 days' ELSE s.criado END,
       NULL  -- created_by: sessões nascem do fluxo de login (sistema), sem autor
FROM (
    SELECT g,
           1 + floor(power(random(), 1.5) * 50000)::int AS usuario,
           -- em ordem de chegada: created_at cresce com o id (como na produção)
           now() - interval '3 years' + (g - random()) / 100000 * interval '3 years' AS criado,
           random() AS r_ip, random() AS r_ua, random() AS r_rev
    FROM generate_series(1, 100000) AS g
) AS s

WHERE NOT EXISTS (SELECT 1 FROM sessions AS x WHERE x.id = pg_temp.seed_id('sessions', s.g))
ORDER BY s.g;

ANALYZE users;
ANALYZE permissions;
ANALYZE user_permissions;
ANALYZE projects;
ANALYZE oficinas;
ANALYZE sessions;
