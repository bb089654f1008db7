"""Target mode: the target database is never changed (read-only sessions, schema and sample
copied to the scratch server); --execute-on-target rolls back and lists sequence advances;
connection problems and lock timeouts are one-line errors with exit code 2."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pgpreflight.linter.check.runner import CheckOptions
from pgpreflight.linter.check.target import TargetOptions, connect, run_target
from pgpreflight.linter.errors import PgPreflightError
from pgpreflight.linter.pgserver import ScratchServer

from tests.check_support import migration

_runs = itertools.count(1)

A = (
    "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, qty int NOT NULL DEFAULT 0);",
    "DROP TABLE items;",
)
B = ("CREATE INDEX items_name ON items (name);", "DROP INDEX items_name;")
C = (
    "ALTER TABLE items ADD COLUMN price numeric NOT NULL DEFAULT 0;\n"
    "CREATE INDEX items_qty ON items (qty);\n"
    "INSERT INTO items (name) VALUES ('from the migration');",
    "DROP INDEX items_qty;\nALTER TABLE items DROP COLUMN price;",
)


def _migrations(tmp_path: Path) -> list[Any]:
    return [
        migration(tmp_path, *A, name="202401010000__items"),
        migration(tmp_path, *B, name="202401020000__items_name"),
        migration(tmp_path, *C, name="202401030000__price"),
    ]


def _make_target(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(A[0] + B[0])
        conn.execute(
            "INSERT INTO items (name, qty) SELECT 'item ' || g, g % 7 FROM generate_series(1, 5000) g"
        )
        conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY)")
        conn.execute("INSERT INTO schema_migrations VALUES ('202401010000'), ('202401020000')")
        conn.execute("ANALYZE")


def _checksum(dsn: str) -> dict[str, Any]:
    """Schema (pg_catalog rows by name), exact row counts, table contents, sequence values."""
    with psycopg.connect(dsn) as conn:
        schema = conn.execute(
            "SELECT string_agg(x, '|' ORDER BY x) FROM ("
            " SELECT c.relname || ':' || c.relkind::text || ':' || c.relfilenode FROM pg_class c"
            "  WHERE c.relnamespace = 'public'::regnamespace"
            " UNION ALL SELECT attrelid::regclass || '.' || attname || ':' || format_type(atttypid, atttypmod)"
            "  FROM pg_attribute WHERE attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)"
            "  AND attnum > 0 AND NOT attisdropped"
            " UNION ALL SELECT pg_get_indexdef(indexrelid) FROM pg_index"
            "  WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)) s(x)"
        ).fetchone()[0]
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("items", "schema_migrations")
        }
        content = conn.execute(
            "SELECT md5(string_agg(i::text, ',' ORDER BY id)) FROM items i"
        ).fetchone()[0]
        seqs = dict(conn.execute("SELECT sequencename, last_value FROM pg_sequences").fetchall())
    return {
        "schema": hashlib.md5(schema.encode()).hexdigest(),
        "counts": counts,
        "content": content,
        "sequences": seqs,
    }


def check_insert_ok(result: Any) -> bool:
    insert = result.migrations[0].up.statements[2]
    return insert.kind == "InsertStmt" and insert.status == "ok" and insert.rows == 1


def _options() -> CheckOptions:
    return CheckOptions(db_prefix=f"tg{next(_runs)}")


def test_read_only_mode_leaves_the_target_unchanged(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path
) -> None:
    _make_target(pg_db)
    before = _checksum(pg_db)
    result = run_target(
        _migrations(tmp_path),
        _options(),
        TargetOptions(dsn=pg_db, sample_rows=1000),
        server=pg_server,
    )
    assert _checksum(pg_db) == before
    assert result.mode == "target (read-only)"
    assert result.target is not None and result.target.unchanged is True
    assert result.target.history_table == "schema_migrations"
    assert result.baseline == ["202401010000__items", "202401020000__items_name"]
    assert result.pending == ["202401030000__price"]
    assert 0 < result.target.tables_sampled["items"] <= 1000  # bounded by --sample-rows
    # the copy continues the target's sequence: the migration's INSERT does not collide
    assert check_insert_ok(result)
    assert result.target.target_rows["items"] == 5000
    assert result.target.table_bytes["items"] > 0
    assert result.target.column_stats["items"]["qty"]["n_distinct"] == 7
    assert result.target.stat_statements is None  # pg_stat_statements is not installed there
    check = result.migrations[0]
    assert check.status == "passed", check
    add = check.up.statements[0]
    assert "ACCESS EXCLUSIVE" in {lk.mode for lk in add.locks if lk.object == "items"}
    # durations measured on the sample are projected to the target's row count
    index = check.up.statements[1]
    assert index.projected_ms is not None and index.projected_ms > index.duration_ms
    assert any("projection" in n for n in index.notes)


def test_target_sessions_are_read_only_tagged_and_time_limited(pg_db: str) -> None:
    opts = TargetOptions(dsn=pg_db, statement_timeout="30s", lock_timeout="2s", idle_timeout="60s")
    conn = connect(pg_db, opts)
    try:
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in (
                "transaction_read_only",
                "application_name",
                "statement_timeout",
                "lock_timeout",
                "idle_in_transaction_session_timeout",
            )
        }
        assert settings == {
            "transaction_read_only": "on",
            "application_name": "pgpreflight",
            "statement_timeout": "30s",
            "lock_timeout": "2s",
            "idle_in_transaction_session_timeout": "1min",
        }
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE nope (id int)")
    finally:
        conn.close()


def test_execute_on_target_rolls_back_and_lists_sequence_advances(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path
) -> None:
    _make_target(pg_db)
    before = _checksum(pg_db)
    opts = TargetOptions(dsn=pg_db, execute=True, sample_rows=1000)
    result = run_target(_migrations(tmp_path), _options(), opts, server=pg_server)
    after = _checksum(pg_db)
    assert {k: v for k, v in after.items() if k != "sequences"} == {
        k: v for k, v in before.items() if k != "sequences"
    }
    assert result.mode == "target (execute, rolled back)"
    assert result.target is not None
    advances = result.target.sequence_advances
    assert [a["sequence"] for a in advances] == ["items_id_seq"]
    assert advances[0]["before"] == before["sequences"]["items_id_seq"]
    assert (
        advances[0]["after"]
        == after["sequences"]["items_id_seq"]
        == before["sequences"]["items_id_seq"] + 1
    )
    assert result.target.unchanged is False  # the sequence moved, and the report says so
    check = result.migrations[0]
    assert check.target_up is not None and check.target_up.status == "ok"
    on_target = check.target_up.statements
    assert {s.transaction for s in on_target} == {"target transaction (rolled back)"}
    assert "ACCESS EXCLUSIVE" in {lk.mode for lk in on_target[0].locks if lk.object == "items"}
    assert on_target[2].rows == 1
    assert any("rolled back" in n for n in result.notes)


def test_execute_on_target_never_runs_non_transactional_statements(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path
) -> None:
    _make_target(pg_db)
    ms = [
        *_migrations(tmp_path)[:2],
        migration(
            tmp_path,
            "CREATE INDEX CONCURRENTLY items_qty ON items (qty);",
            "DROP INDEX CONCURRENTLY items_qty;",
            name="202401030000__cic",
        ),
    ]
    result = run_target(
        ms, _options(), TargetOptions(dsn=pg_db, execute=True, sample_rows=100), server=pg_server
    )
    assert [s.status for s in result.migrations[0].target_up.statements] == ["skipped"]
    with psycopg.connect(pg_db) as conn:
        assert conn.execute("SELECT to_regclass('items_qty')").fetchone()[0] is None


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        (
            "host=127.0.0.1 port=1 dbname=shop user=app password=s3cret-pw connect_timeout=3",
            "host=127.0.0.1 dbname=shop",
        ),
        (
            "postgresql://app:s3cret-pw@127.0.0.1:1/shop?connect_timeout=3",
            "host=127.0.0.1 dbname=shop",
        ),
        (
            "host=/nonexistent/socket dbname=shop password=s3cret-pw",
            "host=/nonexistent/socket dbname=shop",
        ),
        ("this is not a dsn password=s3cret-pw", "invalid target DSN"),
    ],
)
def test_connection_failures_are_one_line_errors_without_password(dsn: str, expected: str) -> None:
    with pytest.raises(PgPreflightError) as info:
        connect(dsn, TargetOptions(dsn=dsn))
    message = info.value.message
    assert info.value.exit_code == 2
    assert expected in message
    assert "s3cret-pw" not in message and "\n" not in message


def test_missing_database_and_role(pg_server: ScratchServer) -> None:
    for dsn, words in (
        (
            pg_server.conninfo("no_such_db", password="s3cret-pw"),
            'database "no_such_db" does not exist',
        ),
        (pg_server.conninfo("postgres", user="no_such_role"), 'role "no_such_role" does not exist'),
    ):
        with pytest.raises(PgPreflightError) as info:
            connect(dsn, TargetOptions(dsn=dsn))
        assert words in info.value.message and "s3cret-pw" not in info.value.message
        assert info.value.exit_code == 2


def test_lock_timeout_on_the_target_is_a_one_line_error(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path
) -> None:
    _make_target(pg_db)
    holder = psycopg.connect(pg_db)
    try:
        holder.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(PgPreflightError) as info:
            run_target(
                _migrations(tmp_path),
                _options(),
                TargetOptions(dsn=pg_db, lock_timeout="200ms"),
                server=pg_server,
            )
    finally:
        holder.rollback()
        holder.close()
    assert info.value.exit_code == 2
    assert "lock timeout" in info.value.message
    assert "dbname=" in info.value.message


def test_history_auto_detection_goose(pg_server: ScratchServer, pg_db: str, tmp_path: Path) -> None:
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute(A[0])
        conn.execute(
            "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL);"
            "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (202401010000, true),"
            " (202401020000, true), (202401020000, false)"
        )
    result = run_target(
        _migrations(tmp_path),
        _options(),
        TargetOptions(dsn=pg_db, sample_rows=10),
        server=pg_server,
    )
    assert result.target.history_table == "goose_db_version"
    # 202401020000 was applied then rolled back by goose: it is pending again
    assert result.pending == ["202401020000__items_name", "202401030000__price"]


@pytest.mark.parametrize(
    ("ddl", "table", "applied", "current"),
    [
        (
            "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);"
            "INSERT INTO schema_migrations VALUES (202401020000, false)",
            "schema_migrations",
            {"202401020000"},
            "202401020000",
        ),
        (
            "CREATE TABLE flyway_schema_history (installed_rank int, version text, success boolean);"
            "INSERT INTO flyway_schema_history VALUES (1, '202401010000', true), (2, '202401020000', false)",
            "flyway_schema_history",
            {"202401010000"},
            None,
        ),
        (
            "CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY, success boolean NOT NULL);"
            "INSERT INTO _sqlx_migrations VALUES (202401010000, true)",
            "_sqlx_migrations",
            {"202401010000"},
            None,
        ),
        (
            "CREATE TABLE __diesel_schema_migrations (version varchar(50) PRIMARY KEY);"
            "INSERT INTO __diesel_schema_migrations VALUES ('202401010000'), ('202401020000')",
            "__diesel_schema_migrations",
            {"202401010000", "202401020000"},
            None,
        ),
    ],
    ids=["golang-migrate", "flyway", "sqlx", "diesel"],
)
def test_history_tables_of_common_runners(
    pg_db: str, tmp_path: Path, ddl: str, table: str, applied: set[str], current: str | None
) -> None:
    from pgpreflight.linter.check.target import first_pending, read_history

    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute(ddl)
    conn = connect(pg_db, TargetOptions(dsn=pg_db))
    try:
        found, versions, cur = read_history(conn, TargetOptions(dsn=pg_db))
    finally:
        conn.close()
    assert (found, versions, cur) == (table, applied, current)
    ms = _migrations(tmp_path)
    expected_first = 2 if table in ("schema_migrations", "__diesel_schema_migrations") else 1
    assert first_pending(ms, versions, cur) == expected_first


def test_execute_on_target_waits_at_most_lock_timeout(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path
) -> None:
    """A session holding SHARE on the table (reads pass, DDL waits): the rolled-back UP on the
    target gives up after lock_timeout, and the migration is reported as failing there."""
    _make_target(pg_db)
    before = _checksum(pg_db)
    holder = psycopg.connect(pg_db)
    try:
        holder.execute("LOCK TABLE items IN SHARE MODE")
        opts = TargetOptions(dsn=pg_db, execute=True, lock_timeout="300ms", sample_rows=100)
        result = run_target(_migrations(tmp_path), _options(), opts, server=pg_server)
    finally:
        holder.rollback()
        holder.close()
    check = result.migrations[0]
    assert check.up.status == "ok"  # on the scratch copy nothing waits
    assert check.target_up is not None and check.target_up.status == "error"
    err = check.target_up.statements[0].error
    assert err is not None and err.sqlstate == "55P03"
    assert check.status == "failed"
    assert _checksum(pg_db) == before
