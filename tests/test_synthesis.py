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
