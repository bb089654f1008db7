-- Inscrições nas oficinas. MIGRAÇÃO COM ERROS (exemplo para o pgpreflight): sem seção DOWN. -- [missing-down-section]
-- Erros de propósito, cada um marcado no fim da linha com o id da regra entre colchetes.

-- UP
SET lock_timeout = '2s';

-- Faltam updated_at, created_by e updated_by (a convenção pede as quatro colunas de auditoria).
CREATE TABLE inscricoes ( -- [missing-audit-columns]
    id                   uuid        NOT NULL DEFAULT gen_random_uuid(),
    oficina_id           uuid        NOT NULL CONSTRAINT fk_inscricoes_oficina REFERENCES oficinas (id) ON DELETE CASCADE,
    user_id              uuid        NOT NULL CONSTRAINT fk_inscricoes_user REFERENCES users (id), -- [foreign-key-without-index] user_id não é a primeira coluna de nenhum índice
    presenca_confirmada  boolean     NOT NULL, -- [boolean-without-default] deveria ter DEFAULT false
    created_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_inscricoes PRIMARY KEY (id),
    -- Este UNIQUE indexa oficina_id (primeira coluna), mas não user_id.
    CONSTRAINT uq_inscricoes_oficina_user UNIQUE (oficina_id, user_id)
);
