"""SQL inside DO blocks: exact positions, checked by every rule, dynamic SQL reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from pglast import ast
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.migration import DynamicSql, Statement

from tests.helpers import lint_findings, write_history

DO_BLOCK = """-- UP
DO $body$
DECLARE n integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'users_email_idx') THEN
      CREATE INDEX users_email_idx ON users (email);
  END IF;
  SELECT count(*) INTO n FROM users;
  EXECUTE 'DROP TABLE legacy';
  EXECUTE format('ALTER TABLE %I ADD COLUMN x int', 'users');
END
$body$;
-- DOWN
SELECT 1;
"""


def nested_statements(stmt: Statement) -> tuple[list[Statement], list[DynamicSql]]:
    """What parsing left on a DO statement (`Statement.do`): its statements and dynamic SQL."""
    return (stmt.do.nested, stmt.do.dynamic) if stmt.do is not None else ([], [])


def top_statements(sql: str, tmp_path: Path) -> list[Statement]:
    write_history(sql, tmp_path / "m")
    [migration] = discover([tmp_path / "m"], "auto")
    return migration.up.statements


def text_at(stmt: Statement) -> str:
    return stmt.source.text[stmt.offset : stmt.end_offset]


def test_nested_statements_have_their_own_positions(tmp_path: Path) -> None:
    [do] = top_statements(DO_BLOCK, tmp_path)
    nested, dynamic = nested_statements(do)
    assert [(s.line, s.column, type(s.node).__name__) for s in nested] == [
        (6, 7, "IndexStmt"),
        (8, 3, "SelectStmt"),
        (9, 12, "DropStmt"),
    ]
    assert [text_at(s) for s in nested] == [
        "CREATE INDEX users_email_idx ON users (email)",
        "SELECT count(*) INTO n FROM users",  # PL/pgSQL blanks INTO; the span still covers it
        "DROP TABLE legacy",
    ]
    assert all(s.parent is do and s.section == "up" for s in nested)
    [dyn] = dynamic
    assert do.source.lines.position(dyn.offset) == (10, 11) and dyn.expression.startswith("format(")


def test_node_locations_map_into_the_body(tmp_path: Path) -> None:
    [do] = top_statements(DO_BLOCK, tmp_path)
    index = nested_statements(do)[0][0]
    assert isinstance(index.node, ast.IndexStmt)
    assert do.source.lines.position(index.node_offset(index.node.relation)) == (6, 39)


def test_single_quoted_body_with_doubled_quotes(tmp_path: Path) -> None:
    sql = "DO 'BEGIN UPDATE t SET a = ''x''; DELETE FROM t; END';\n"
    [do] = top_statements(sql, tmp_path)
    nested, _ = nested_statements(do)
    assert [text_at(s) for s in nested] == ["UPDATE t SET a = ''x''", "DELETE FROM t"]
    assert [s.column for s in nested] == [11, 35]


def test_other_languages_and_broken_bodies_yield_nothing(tmp_path: Path) -> None:
    sql = (
        "DO LANGUAGE plperl $$ print 1 $$;\n"
        "DO $$ BEGIN SELEC 1; END $$;\n"
        "DO LANGUAGE plpgsql $$ BEGIN DELETE FROM t; END $$;\n"
    )
    stmts = top_statements(sql, tmp_path)
    assert [len(nested_statements(s)[0]) for s in stmts] == [0, 0, 1]


def test_sections_keep_top_level_statements_and_of_expands(tmp_path: Path) -> None:
    [do] = top_statements(DO_BLOCK, tmp_path)
    assert do.nested and do.nested[0].parent is do
    write_history(DO_BLOCK, tmp_path / "m2")
    [migration] = discover([tmp_path / "m2"], "auto")
    assert len(migration.up.statements) == 1
    assert [type(n).__name__ for _, n in migration.up.of(ast.IndexStmt, ast.DropStmt)] == [
        "IndexStmt",
        "DropStmt",
    ]
    assert list(migration.up.of(ast.IndexStmt, nested=False)) == []


def test_every_rule_sees_statements_inside_do_blocks(tmp_path: Path) -> None:
    history = (
        "-- file: 202401010000__base.sql\n"
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n"
        "CREATE TABLE legacy (id bigint);\n"
    )
    sql = history + "-- file: 202401020000__do.sql\n" + DO_BLOCK
    found = {
        (f.rule, f.line, f.column)
        for f in lint_findings(
            sql, ["require-concurrent-index", "drop-table", "dynamic-sql-not-analysed"], tmp_path
        )
        if "__do" in f.path
    }
    assert found == {
        ("require-concurrent-index", 6, 7),  # another engineer's lock rule, inside the IF
        ("drop-table", 9, 12),  # EXECUTE of a constant string is analysed
        ("dynamic-sql-not-analysed", 10, 11),  # format(...) is not
    }


def test_nested_statements_share_their_do_blocks_facts_inside_a_transaction(tmp_path: Path) -> None:
    from pgpreflight.linter.engine import _nested_facts
    from pgpreflight.linter.facts import compute_facts

    sql = (
        "-- +goose Up\n"
        "-- +goose NO TRANSACTION\n"
        "SET lock_timeout = '1s';\n"
        "DO $$ BEGIN DELETE FROM users; END $$;\n"
    )
    write_history(sql, tmp_path / "m")
    [migration] = discover([tmp_path / "m"], "auto")
    facts = compute_facts(migration, "per-file")
    _nested_facts(migration, facts)
    do = migration.up.statements[1]
    inner = do.nested[0]
    assert not facts.of(do).in_transaction  # the file runs without a transaction
    assert facts.of(inner).in_transaction  # but a DO block is atomic
    assert facts.of(inner).lock_timeout == facts.of(do).lock_timeout == "1s"


def test_suppression_above_the_do_block_covers_its_statements(tmp_path: Path) -> None:
    sql = (
        "-- pgpreflight: ignore[drop-table] legacy is empty, checked on 2024-01-01\n"
        "DO $$ BEGIN\n"
        "  DROP TABLE legacy;\n"
        "END $$;\n"
    )
    assert lint_findings(sql, ["drop-table", "unused-suppression"], tmp_path) == []


def test_function_bodies_are_parsed_not_run(tmp_path: Path) -> None:
    sql = (
        "CREATE FUNCTION purge() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DROP TABLE legacy; END "
        "$$;\n"
        "CREATE FUNCTION broken() RETURNS void LANGUAGE plpgsql AS $$ BEGIN IF true THEN NULL; END "
        "$$;\n"
        "CREATE FUNCTION plain() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
        "DO $$ BEGIN PERFORM 1 END $$;\n"
    )
    found = [
        (f.rule, f.line)
        for f in lint_findings(sql, ["drop-table", "invalid-plpgsql-body"], tmp_path)
    ]
    assert found == [("invalid-plpgsql-body", 2), ("invalid-plpgsql-body", 4)]


def test_a_do_block_runs_as_one_transaction_on_the_server(pg_db: str) -> None:
    """The PostgreSQL facts behind giving nested statements in_transaction=True: a DO block is
    atomic even in autocommit, and CONCURRENTLY cannot run inside one."""
    import psycopg

    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '2s'")
        conn.execute("CREATE TABLE t (id bigint)")
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute("DO $$ BEGIN CREATE TABLE u (id bigint); PERFORM 1 / 0; END $$")
        assert conn.execute("SELECT to_regclass('u')").fetchone() == (None,)  # rolled back
        with pytest.raises(psycopg.errors.ActiveSqlTransaction):
            conn.execute("DO $$ BEGIN CREATE INDEX CONCURRENTLY t_id_idx ON t (id); END $$")
