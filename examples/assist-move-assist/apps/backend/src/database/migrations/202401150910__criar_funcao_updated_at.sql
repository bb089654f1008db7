-- Função de trigger que mantém updated_at em todas as tabelas com colunas de auditoria.

-- UP
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- DOWN
DROP FUNCTION IF EXISTS set_updated_at();
