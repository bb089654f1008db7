"""The PostgreSQL behaviour the issue-3 rules rely on, checked on a real server (the scratch
server fixture): what fails, and how `format_type()` spells the types the rules match."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from pglast import parse_sql
from pgpreflight.linter.schema import SchemaModel

from tests.helpers import ids, lint_findings


def _fails(dsn: str, setup: str, statement: str) -> str | None:
    """The error `statement` raises after `setup` (both rolled back), or None when it succeeds."""
    with psycopg.connect(dsn) as conn:
        conn.execute("SET statement_timeout = '10s'; SET lock_timeout = '2s'")
        try:
            if setup:
                conn.execute(setup)
            conn.execute(statement)
        except psycopg.Error as error:
            return str(error).splitlines()[0]
        finally:
            conn.rollback()
    return None


def _server_major(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return int(conn.info.server_version) // 10000


def test_uuid_ossp_functions_need_the_extension(pg_db: str) -> None:
    table = "CREATE TABLE d (id uuid PRIMARY KEY DEFAULT uuid_generate_v4())"
    error = _fails(pg_db, "", table)
    assert error is not None and "uuid_generate_v4() does not exist" in error
    if _fails(pg_db, "", 'CREATE EXTENSION "uuid-ossp"') is not None:
        pytest.skip("uuid-ossp is not available on this server")
    assert _fails(pg_db, 'CREATE EXTENSION "uuid-ossp"', table) is None


def test_gen_random_uuid_is_built_in_from_13(pg_db: str, tmp_path: Path) -> None:
    major = _server_major(pg_db)
    table = "CREATE TABLE d (id uuid PRIMARY KEY DEFAULT gen_random_uuid())"
    result = _fails(pg_db, "", table)
    assert (result is None) == (major >= 13)
    sql = f"-- UP\n{table};\n"
    findings = lint_findings(sql, "uuid-default-needs-extension", tmp_path, pg_version=major)
    assert bool(findings) == (major < 13)


def test_trigram_opclass_needs_pg_trgm(pg_db: str) -> None:
    index = "CREATE INDEX i ON t USING gin (name gin_trgm_ops)"
    error = _fails(pg_db, "CREATE TABLE t (name text)", index)
    assert error is not None and 'operator class "gin_trgm_ops" does not exist' in error
    if _fails(pg_db, "", "CREATE EXTENSION pg_trgm") is not None:
        pytest.skip("pg_trgm is not available on this server")
    assert _fails(pg_db, "CREATE EXTENSION pg_trgm; CREATE TABLE t (name text)", index) is None


def test_create_extension_twice_fails_without_if_not_exists(pg_db: str) -> None:
    if _fails(pg_db, "", "CREATE EXTENSION pg_trgm") is not None:
        pytest.skip("pg_trgm is not available on this server")
    error = _fails(pg_db, "CREATE EXTENSION pg_trgm", "CREATE EXTENSION pg_trgm")
    assert error is not None and "already exists" in error
    assert (
        _fails(pg_db, "CREATE EXTENSION pg_trgm", "CREATE EXTENSION IF NOT EXISTS pg_trgm") is None
    )


def test_not_null_without_default_fails_only_on_a_table_with_rows(pg_db: str) -> None:
    add = "ALTER TABLE orders ADD COLUMN channel text NOT NULL"
    assert _fails(pg_db, "CREATE TABLE orders (id int)", add) is None
    error = _fails(pg_db, "CREATE TABLE orders (id int); INSERT INTO orders VALUES (1)", add)
    assert error is not None and "contains null values" in error


COLUMNS = (
    "a timestamp, b timestamp(3)[], c timestamptz, d varchar(20), e varchar, f char(2), "
    'g character, h "char", i money, j bool, k serial'
)


def test_type_spelling_the_rules_match_is_what_the_catalog_says(pg_db: str) -> None:
    """The type rules compare the model's format_type() text; it must equal the server's."""
    with psycopg.connect(pg_db) as conn:
        conn.execute(f"CREATE TABLE t ({COLUMNS})")
        rows = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 't'::regclass AND attnum > 0 ORDER BY attnum"
        ).fetchall()
        conn.rollback()
    model = SchemaModel()
    model.apply(parse_sql(f"CREATE TABLE t ({COLUMNS})")[0].stmt)
    table = model.table("t")
    assert table is not None
    catalog = dict(rows)
    modelled = {name: column.type for name, column in table.columns.items()}
    # the schema model prints the one-byte internal type as char where format_type() quotes it
    # ("char"); char-type ignores it in either spelling
    assert catalog.pop("h") == '"char"' and modelled.pop("h") in ("char", '"char"')
    assert modelled == catalog


def test_type_rules_fire_on_exactly_the_catalog_types(tmp_path: Path) -> None:
    sql = f"-- UP\nCREATE TABLE t (id bigint PRIMARY KEY, {COLUMNS});\n"
    rules = [
        "timestamp-without-time-zone",
        "prefer-text-over-varchar",
        "char-type",
        "money-type",
        "serial-column",
    ]
    assert sorted(ids(lint_findings(sql, rules, tmp_path))) == sorted(
        [
            "timestamp-without-time-zone",
            "timestamp-without-time-zone",  # a, b
            "prefer-text-over-varchar",  # d (e has no length)
            "char-type",
            "char-type",  # f, g (h is the one-byte "char")
            "money-type",  # i
            "serial-column",  # k
        ]
    )
