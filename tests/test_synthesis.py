"""Synthesised rows honour CHECK lists, enums, foreign keys and unique columns (scratch server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pgpreflight.linter.explain.synthesis import synthesize

SCHEMA = """
CREATE TYPE humor AS ENUM ('feliz', 'triste', 'neutro');
CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL UNIQUE CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    status text NOT NULL DEFAULT 'ativo' CHECK (status IN ('ativo', 'inativo', 'bloqueado')),
    role text NOT NULL CHECK (role IN ('admin', 'gestor', 'voluntario', 'beneficiaria')),
    humor humor NOT NULL,
    verificado boolean NOT NULL DEFAULT false,
    nascido date,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE oficinas (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nome text NOT NULL,
    vagas integer NOT NULL CHECK (vagas > 500),
    uf text NOT NULL CHECK (uf ~ '^[A-Z]{2}$'),
    data_inicio date NOT NULL,
    data_fim date NOT NULL,
    CHECK (data_fim >= data_inicio)
);
CREATE TABLE inscricoes (
    id uuid PRIMARY KEY,
    oficina_id bigint NOT NULL REFERENCES oficinas (id),
    user_id uuid NOT NULL REFERENCES users (id),
    codigo integer NOT NULL,
    UNIQUE (oficina_id, user_id)
);
CREATE UNIQUE INDEX inscricoes_codigo ON inscricoes (codigo);
CREATE TABLE opaque (id int PRIMARY KEY, p point NOT NULL);
"""


@pytest.fixture
def conn(pg_db: str) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(pg_db, autocommit=True) as c:
        c.execute(SCHEMA)
        yield c


def one(conn: Any, sql: str) -> Any:
    return conn.execute(sql).fetchone()[0]


def test_children_pull_in_their_empty_parents_and_everything_is_valid(conn: Any) -> None:
    results = {r.table: r for r in synthesize(conn, ["public.inscricoes"], 400)}
    # parents first, each filled
    assert list(results) == ["public.oficinas", "public.users", "public.inscricoes"]
    assert all(r.status == "generated" for r in results.values()), results
    assert one(conn, "SELECT count(*) FROM users") == 400
    assert one(conn, "SELECT count(*) FROM inscricoes") == 400
    # the CHECK (vagas > 500) and (data_fim >= data_inicio) filtered the candidates
    assert one(conn, "SELECT count(*) FROM oficinas") == 400
    assert one(conn, "SELECT min(vagas) FROM oficinas") > 500
    assert (
        one(conn, "SELECT count(DISTINCT uf) FROM oficinas") > 20
    )  # 'PE', 'SP', ... from the regex CHECK
    # unique columns are unique (the constraints would have refused duplicates anyway)
    assert one(conn, "SELECT count(DISTINCT email) FROM users") == 400
    assert one(conn, "SELECT count(DISTINCT (oficina_id, user_id)) FROM inscricoes") == 400
    assert one(conn, "SELECT count(DISTINCT codigo) FROM inscricoes") == 400
    # foreign keys point at existing parents, spread over many of them
    assert (
        one(
            conn,
            "SELECT count(*) FROM inscricoes i LEFT JOIN users u ON u.id = i.user_id WHERE u.id"
            " IS NULL",
        )
        == 0
    )
    assert one(conn, "SELECT count(DISTINCT user_id) FROM inscricoes") > 50
    # statistics are there for the planner
    assert one(conn, "SELECT reltuples FROM pg_class WHERE relname = 'inscricoes'") == 400


def test_check_lists_and_enums_are_honoured_and_skewed(conn: Any) -> None:
    (r,) = synthesize(conn, ["public.users"], 2000)
    assert r.status == "generated" and r.rows == 2000
    roles = dict(conn.execute("SELECT role, count(*) FROM users GROUP BY role").fetchall())
    assert set(roles) <= {"admin", "gestor", "voluntario", "beneficiaria"}
    assert len(roles) == 4
    # skewed: the first value is the most common by far, the last a minority
    assert roles["admin"] > 1000 and roles["beneficiaria"] < 300
    humores = dict(conn.execute("SELECT humor::text, count(*) FROM users GROUP BY 1").fetchall())
    assert set(humores) == {"feliz", "triste", "neutro"} and humores["feliz"] > humores["neutro"]
    assert one(conn, "SELECT count(DISTINCT verificado) FROM users") == 2
    assert one(conn, "SELECT max(nascido) - min(nascido) FROM users") > 300


def test_tables_with_data_are_left_alone(conn: Any) -> None:
    conn.execute(
        "INSERT INTO oficinas (nome, vagas, uf, data_inicio, data_fim) VALUES ('x', 600, 'PE',"
        " now(), now())"
    )
    assert [r.table for r in synthesize(conn, ["public.oficinas"], 100)] == []
    assert one(conn, "SELECT count(*) FROM oficinas") == 1


def test_a_table_that_cannot_be_synthesised_says_why(conn: Any) -> None:
    (r,) = synthesize(conn, ["public.opaque"], 10)
    assert r.status == "failed" and "point" in (r.reason or "")
    conn.execute(
        "CREATE TABLE impossible (id int PRIMARY KEY, n int NOT NULL CHECK (n < 0 AND n > 0))"
    )
    (r,) = synthesize(conn, ["public.impossible"], 10)
    assert r.status == "failed" and "CHECK" in (r.reason or "")


def test_checks_on_defaulted_columns_do_not_block_generation(conn: Any) -> None:
    conn.execute(
        "CREATE TABLE projetos (id int PRIMARY KEY, orcamento numeric NOT NULL DEFAULT 0 CHECK"
        " (orcamento >= 0),"
        " nome text NOT NULL CHECK (btrim(nome) <> ''))"
    )
    (r,) = synthesize(conn, ["public.projetos"], 50)
    assert r.status == "generated" and r.rows == 50


# Issue #14 item 8: what misled the EXPLAIN verdicts on lemmy and kestra, each in a minimal
# schema of our own. Every assertion reads the rows back from the scratch server.

MISLEADING = """
CREATE FUNCTION iso_instant(text) RETURNS timestamptz LANGUAGE sql IMMUTABLE RETURN $1::timestamptz;
CREATE TYPE estado AS ENUM ('criado', 'rodando', 'falhou', 'pronto');
CREATE FUNCTION estado_de(text) RETURNS estado LANGUAGE sql IMMUTABLE RETURN $1::estado;
CREATE TABLE instancia (id serial PRIMARY KEY, dominio text NOT NULL UNIQUE);
INSERT INTO instancia (dominio) VALUES ('local.example');
CREATE TABLE pessoa (
    id serial PRIMARY KEY,
    nome text NOT NULL,
    instancia_id int NOT NULL REFERENCES instancia (id),
    apagada boolean NOT NULL DEFAULT false,
    removida boolean NOT NULL DEFAULT false,
    banida_em timestamptz,
    CONSTRAINT pessoa_nome_instancia UNIQUE (nome, instancia_id)
);
CREATE INDEX pessoa_ativa ON pessoa (nome) WHERE NOT (apagada OR removida);
CREATE INDEX pessoa_banida ON pessoa (banida_em) WHERE banida_em IS NOT NULL;
CREATE TABLE apelido (
    pessoa_id int NOT NULL REFERENCES pessoa (id),
    apelido text NOT NULL,
    PRIMARY KEY (pessoa_id, apelido)
);
CREATE TABLE execucao (
    chave varchar(30) PRIMARY KEY,
    valor jsonb NOT NULL,
    apagada boolean NOT NULL GENERATED ALWAYS AS (CAST(valor ->> 'apagada' AS boolean)) STORED,
    fluxo varchar(150) NOT NULL GENERATED ALWAYS AS (valor ->> 'fluxo') STORED,
    estado estado NOT NULL GENERATED ALWAYS AS (estado_de(valor #>> '{estado, atual}')) STORED,
    inicio timestamptz NOT NULL GENERATED ALWAYS AS (iso_instant(valor #>> '{estado, inicio}')) STORED,
    tentativas int GENERATED ALWAYS AS (CAST(valor ->> 'tentativas' AS int)) STORED,
    etiquetas text[] NOT NULL,
    estados estado[]
);
CREATE INDEX execucao_fluxo ON execucao (apagada, fluxo);
"""


@pytest.fixture
def misleading(pg_db: str) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(pg_db, autocommit=True) as c:
        c.execute(MISLEADING)
        yield c


def test_foreign_keys_spread_over_many_parents_when_the_parent_holds_a_seed_row(
    misleading: Any,
) -> None:
    """A migration's one seed row (the local instance) was every child's parent: each probe on
    the foreign key selected 100% of the rows."""
    results = {r.table: r for r in synthesize(misleading, ["public.pessoa"], 2000)}
    assert results["public.pessoa"].status == "generated", results
    assert one(misleading, "SELECT count(*) FROM pessoa") == 2000
    assert one(misleading, "SELECT count(DISTINCT instancia_id) FROM pessoa") >= 100
    # the largest parent holds a small share of the children, not all of them
    top = one(
        misleading,
        "SELECT max(n) FROM (SELECT count(*) AS n FROM pessoa GROUP BY instancia_id) s",
    )
    assert top < 2000 * 0.05
    # the seed row is still there, and the parent says how many rows it had before
    assert one(misleading, "SELECT count(*) FROM instancia WHERE dominio = 'local.example'") == 1
    assert results["public.instancia"].existing == 1
    assert results["public.instancia"].rows >= 99


def test_composite_natural_keys_are_distinct(misleading: Any) -> None:
    """`UNIQUE (nome, instancia_id)` and `PRIMARY KEY (pessoa_id, apelido)`: a text column
    beside a foreign key used to repeat, and the first duplicate aborted the whole table."""
    results = {r.table: r for r in synthesize(misleading, ["public.apelido"], 1500)}
    assert [r.status for r in results.values()] == ["generated"] * len(results), results
    assert one(misleading, "SELECT count(*) FROM pessoa") == 1500
    assert one(misleading, "SELECT count(DISTINCT (nome, instancia_id)) FROM pessoa") == 1500
    assert one(misleading, "SELECT count(*) FROM apelido") == 1500
    assert one(misleading, "SELECT count(DISTINCT pessoa_id) FROM apelido") > 300


def test_partial_index_predicates_hold_for_a_share_of_the_rows(misleading: Any) -> None:
    """`WHERE NOT (apagada OR removida)` matched no synthesised row (booleans came out 70% true),
    so every probe of the partial index returned nothing; `IS NOT NULL` matched every row."""
    (_, r) = synthesize(misleading, ["public.pessoa"], 2000)
    assert r.table == "public.pessoa" and r.status == "generated"
    ativa = one(misleading, "SELECT avg((NOT (apagada OR removida))::int)::float FROM pessoa")
    banida = one(misleading, "SELECT avg((banida_em IS NOT NULL)::int)::float FROM pessoa")
    assert 0.2 < ativa < 0.8, ativa
    assert 0.2 < banida < 0.8, banida
    shares = {p["index"]: p for p in r.to_dict()["partial"]}
    assert shares["public.pessoa_ativa"]["rows"] == round(ativa * 2000)
    assert shares["public.pessoa_banida"]["share"] == pytest.approx(banida, abs=0.001)


def test_json_generated_and_array_columns_are_synthesised(misleading: Any) -> None:
    """kestra's tables keep a JSON document and generate NOT NULL columns from its keys: with
    `'{}'` every generated column was NULL and no row could be inserted. Arrays were empty."""
    (r,) = synthesize(misleading, ["public.execucao"], 1000)
    assert r.status == "generated" and r.rows == 1000, r
    assert one(misleading, "SELECT count(DISTINCT apagada) FROM execucao") == 2
    assert one(misleading, "SELECT count(DISTINCT fluxo) FROM execucao") > 20
    assert one(misleading, "SELECT count(DISTINCT estado) FROM execucao") == 4
    assert one(misleading, "SELECT max(inicio) - min(inicio) FROM execucao").days > 300
    assert one(misleading, "SELECT count(DISTINCT tentativas) FROM execucao") > 10
    assert one(misleading, "SELECT count(DISTINCT chave) FROM execucao") == 1000
    assert one(misleading, "SELECT min(cardinality(etiquetas)) FROM execucao") >= 1
    assert one(misleading, "SELECT count(DISTINCT e) FROM execucao, unnest(etiquetas) e") > 5
    assert one(misleading, "SELECT count(DISTINCT e) FROM execucao, unnest(estados) e") == 4


def test_aborted_attempts_leave_no_bloat_behind(misleading: Any) -> None:
    """person's synthesis on lemmy aborted after thousands of rows: the table stayed empty and
    its indexes were reported at 2 MB. A trigger here refuses the optional column half-way."""
    misleading.execute(
        """
        CREATE TABLE nota (id int PRIMARY KEY, titulo text NOT NULL, obs text);
        CREATE INDEX nota_titulo ON nota (titulo);
        CREATE FUNCTION recusa_obs() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.obs IS NOT NULL AND NEW.id > 1500 THEN RAISE EXCEPTION 'obs recusada'; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER recusa BEFORE INSERT ON nota FOR EACH ROW EXECUTE FUNCTION recusa_obs();
        """
    )
    (r,) = synthesize(misleading, ["public.nota"], 2000)
    assert r.status == "generated" and r.rows == 2000, r
    assert any("obs recusada" in n for n in r.notes), r.notes
    size = one(misleading, "SELECT pg_relation_size('nota_titulo')")
    heap = one(misleading, "SELECT pg_relation_size('nota')")
    misleading.execute("VACUUM FULL nota")  # a clean load of the same rows, for comparison
    assert size == one(misleading, "SELECT pg_relation_size('nota_titulo')")
    assert heap == one(misleading, "SELECT pg_relation_size('nota')")


def test_one_of_several_references_and_references_to_the_same_table(misleading: Any) -> None:
    """lemmy's report_combined: `CHECK (num_nonnulls(post_report_id, ...) = 1)` rejected every
    generated row; modlog's bulk_action_parent_id (a reference to modlog itself) stayed NULL, so
    its index had nothing to find."""
    misleading.execute(
        """
        CREATE TABLE denuncia (
            id serial PRIMARY KEY,
            pessoa_id int REFERENCES pessoa (id),
            instancia_id int REFERENCES instancia (id),
            anterior_id int REFERENCES denuncia (id),
            CHECK (num_nonnulls(pessoa_id, instancia_id) = 1)
        );
        CREATE INDEX denuncia_anterior ON denuncia (anterior_id);
        """
    )
    results = {r.table: r for r in synthesize(misleading, ["public.denuncia"], 1000)}
    r = results["public.denuncia"]
    assert r.status == "generated" and r.rows == 1000, r
    pessoa = one(misleading, "SELECT avg((pessoa_id IS NOT NULL)::int)::float FROM denuncia")
    assert 0.3 < pessoa < 0.7
    linked = one(misleading, "SELECT avg((anterior_id IS NOT NULL)::int)::float FROM denuncia")
    assert 0.3 < linked < 0.7
    assert one(misleading, "SELECT count(DISTINCT anterior_id) FROM denuncia") > 200
    assert any("VACUUM FULL" in n for n in r.notes), r.notes
    size = one(misleading, "SELECT pg_relation_size('denuncia_anterior')")
    misleading.execute("VACUUM FULL denuncia")
    assert size == one(misleading, "SELECT pg_relation_size('denuncia_anterior')")


def test_rows_are_generated_without_jit_compilation(conn: Any) -> None:
    """Compiling a generating INSERT's expressions took longer than running it (lemmy's modlog:
    19.4 s of 19.9 s): each generating transaction turns JIT off for itself, and only there."""
    conn.execute(
        """
        CREATE TABLE jit_seen (id int PRIMARY KEY, jit text);
        CREATE FUNCTION note_jit() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN NEW.jit := current_setting('jit'); RETURN NEW; END $$;
        CREATE TRIGGER note_jit BEFORE INSERT ON jit_seen FOR EACH ROW EXECUTE FUNCTION note_jit();
        """
    )
    session = one(conn, "SHOW jit")
    (result,) = synthesize(conn, ["public.jit_seen"], 50)
    assert result.status == "generated" and result.rows == 50
    assert conn.execute("SELECT DISTINCT jit FROM jit_seen").fetchall() == [("off",)]
    assert one(conn, "SHOW jit") == session


def test_a_table_that_exhausts_the_server_is_not_generated_twice(conn: Any) -> None:
    """concourse's pipelines create a table per row from a trigger until the lock table is
    full (out of shared memory, SQLSTATE 53200); a retry without the optional columns inserts
    as many rows through the same trigger and fails the same way, after as long."""
    conn.execute(
        """
        CREATE SEQUENCE tries;
        CREATE TABLE pipeline (id int PRIMARY KEY, name text);
        CREATE FUNCTION per_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM nextval('tries');
            RAISE EXCEPTION 'out of shared memory' USING ERRCODE = 'out_of_memory';
        END $$;
        CREATE TRIGGER per_row BEFORE INSERT ON pipeline FOR EACH ROW EXECUTE FUNCTION per_row();
        """
    )
    (result,) = synthesize(conn, ["public.pipeline"], 100)
    assert result.status == "failed" and result.reason == "out of shared memory"
    assert one(conn, "SELECT last_value FROM tries") == 1  # one INSERT ran, once
    assert any("not retried" in n for n in result.notes), result.notes
