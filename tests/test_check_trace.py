"""The trace against PostgreSQL's documented lock levels and rewrites (manual: ALTER TABLE,
CREATE INDEX, Explicit Locking), on the project's scratch server."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from pgpreflight.linter.check import catalog
from pgpreflight.linter.check.locks import blocks, headline_blocks
from pgpreflight.linter.check.trace import cannot_run_in_transaction

from tests.check_support import migration, setup, table_locks, trace_up

SCHEMA = """
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE t (id int PRIMARY KEY, a int, v varchar(10), pid int, note text);
INSERT INTO parent SELECT g FROM generate_series(1, 50) g;
INSERT INTO t SELECT g, g, 'x', g, repeat('n', 10) FROM generate_series(1, 50) g;
ALTER TABLE t ADD CONSTRAINT fk_nv FOREIGN KEY (pid) REFERENCES parent (id) NOT VALID;
CREATE INDEX t_a ON t (a);
"""

# (statement, table, documented strongest lock on it, rewrite?)
DOCUMENTED = [
    ("ALTER TABLE t ADD COLUMN c int", "t", "ACCESS EXCLUSIVE", False),
    ("ALTER TABLE t ADD COLUMN c int DEFAULT 5", "t", "ACCESS EXCLUSIVE", False),
    ("ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now()", "t", "ACCESS EXCLUSIVE", False),
    ("ALTER TABLE t ADD COLUMN c float8 DEFAULT random()", "t", "ACCESS EXCLUSIVE", True),
    ("ALTER TABLE t ALTER COLUMN a SET NOT NULL", "t", "ACCESS EXCLUSIVE", False),
    ("ALTER TABLE t ALTER COLUMN a TYPE bigint", "t", "ACCESS EXCLUSIVE", True),
    ("ALTER TABLE t ALTER COLUMN v TYPE varchar(20)", "t", "ACCESS EXCLUSIVE", False),
    (
        "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES parent (id)",
        "t",
        "SHARE ROW EXCLUSIVE",
        False,
    ),
    (
        "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES parent (id)",
        "parent",
        "SHARE ROW EXCLUSIVE",
        False,
    ),
    (
        "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES parent (id) NOT VALID",
        "t",
        "SHARE ROW EXCLUSIVE",
        False,
    ),
    ("ALTER TABLE t VALIDATE CONSTRAINT fk_nv", "t", "SHARE UPDATE EXCLUSIVE", False),
    ("ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0) NOT VALID", "t", "ACCESS EXCLUSIVE", False),
    ("CREATE INDEX t_v ON t (v)", "t", "SHARE", False),
    ("ALTER TABLE t RENAME COLUMN v TO w", "t", "ACCESS EXCLUSIVE", False),
    ("ALTER TABLE t RENAME TO t2", "t", "ACCESS EXCLUSIVE", False),
    ("ALTER TABLE t DROP COLUMN v", "t", "ACCESS EXCLUSIVE", False),
    ("DROP TABLE t", "t", "ACCESS EXCLUSIVE", False),
    ("ALTER TABLE t ALTER COLUMN a SET STATISTICS 200", "t", "SHARE UPDATE EXCLUSIVE", False),
    (
        "CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
        "t",
        "SHARE ROW EXCLUSIVE",
        False,
    ),
    ("TRUNCATE t, parent CASCADE", "t", "ACCESS EXCLUSIVE", True),
]


@pytest.mark.parametrize(
    ("sql", "table", "mode", "rewrite"), DOCUMENTED, ids=[f"{d[0][:48]}|{d[1]}" for d in DOCUMENTED]
)
def test_lock_and_rewrite_match_the_manual(
    pg_db: str, tmp_path: Path, sql: str, table: str, mode: str, rewrite: bool
) -> None:
    setup(pg_db, SCHEMA)
    section, _ = trace_up(pg_db, migration(tmp_path, sql), schema_sql=SCHEMA)
    assert section.status == "ok", section.statements[0].error
    st = section.statements[0]
    modes = table_locks(st, table)
    assert mode in modes, f"{sql}: {table} locked {modes}"
    assert (
        max(
            modes,
            key=lambda m: [
                "ACCESS SHARE",
                "ROW SHARE",
                "ROW EXCLUSIVE",
                "SHARE UPDATE EXCLUSIVE",
                "SHARE",
                "SHARE ROW EXCLUSIVE",
                "EXCLUSIVE",
                "ACCESS EXCLUSIVE",
            ].index(m),
        )
        == mode
    )
    rewritten = {r.object for r in st.rewrites if r.kind == "table"}
    assert (table in rewritten) is rewrite, st.rewrites
    lock = next(lk for lk in st.locks if lk.object == table and lk.mode == mode)
    assert lock.blocks == blocks(mode)
    assert (
        lock.held_until == "end of transaction"
        and lock.held_ms is not None
        and lock.held_ms >= st.duration_ms
    )
    # the static core (linter.locks) predicted the same lock and rewrite
    assert st.agreement is not None and st.agreement.verdict == "confirmed", st.agreement
    row = next(r for r in st.agreement.tables if r.table == table)
    assert (row.expected_lock, row.observed_lock) == (mode, mode)


def test_lock_mode_blocks_the_documented_query_kinds() -> None:
    assert headline_blocks("ACCESS EXCLUSIVE") == ["SELECT", "INSERT/UPDATE/DELETE", "DDL"]
    assert headline_blocks("SHARE") == ["INSERT/UPDATE/DELETE", "DDL"]
    assert headline_blocks("SHARE UPDATE EXCLUSIVE") == ["DDL"]
    assert headline_blocks("SHARE ROW EXCLUSIVE") == ["INSERT/UPDATE/DELETE", "DDL"]
    assert "SELECT" not in blocks("EXCLUSIVE") and "SELECT FOR UPDATE/SHARE" in blocks("EXCLUSIVE")


def test_rewrite_seen_through_toast_and_indexes(pg_db: str, tmp_path: Path) -> None:
    setup(pg_db, SCHEMA)
    section, _ = trace_up(pg_db, migration(tmp_path, "ALTER TABLE t ALTER COLUMN a TYPE bigint"))
    st = section.statements[0]
    kinds = {(r.object, r.kind) for r in st.rewrites}
    # t_pkey keeps its OID and gets a new file; t_a (on the altered column) is dropped and
    # recreated by PostgreSQL under a new OID, so it is not a "rewrite" of an existing relation.
    assert ("t", "table") in kinds and ("t_pkey", "index") in kinds
    assert all(r.table == "t" for r in st.rewrites if r.kind == "index")
    changed = {(c.kind, c.name, c.action) for c in st.catalog_changes}
    assert ("column", "t.a", "changed") in changed


def test_catalog_changes_and_new_objects(pg_db: str, tmp_path: Path) -> None:
    setup(pg_db, SCHEMA)
    m = migration(
        tmp_path,
        "CREATE TABLE child (id int PRIMARY KEY, tid int REFERENCES t (id));\n"
        "CREATE INDEX child_tid ON child (tid);\n"
        "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0) NOT VALID;",
    )
    section, _ = trace_up(pg_db, m)
    create, index, check = section.statements
    assert {lk.object for lk in create.locks if lk.new_object} >= {"child"}
    # the FK on the new table locks the referenced, pre-existing table
    assert "SHARE ROW EXCLUSIVE" in table_locks(create, "t")
    assert ("table", "child", "added") in {
        (c.kind, c.name, c.action) for c in create.catalog_changes
    }
    assert index.locks and all(lk.new_object for lk in index.locks if lk.locktype == "relation")
    assert index.agreement is not None and index.agreement.verdict == "no prediction"
    added = {(c.kind, c.name): c for c in check.catalog_changes}
    assert added[("constraint", "t.ck")].after["validated"] is False


def test_failing_statement_reports_sqlstate_and_line(pg_db: str, tmp_path: Path) -> None:
    setup(pg_db, SCHEMA + "UPDATE t SET a = NULL WHERE id = 3;")
    m = migration(
        tmp_path,
        "ALTER TABLE t ADD COLUMN c int;\n\nALTER TABLE t\n  ALTER COLUMN a SET NOT NULL;\nALTER TABLE t ADD COLUMN d int;",
    )
    section, _ = trace_up(pg_db, m)
    first, failing, after = section.statements
    assert section.status == "error"
    assert first.status == "ok" and after.status == "not run"
    assert failing.status == "error" and failing.error is not None
    assert failing.error.sqlstate == "23502"
    assert failing.line == 4 and failing.error.line == 4  # `-- UP` is line 1
    assert 'column "a"' in failing.error.message
    with psycopg.connect(pg_db) as conn:  # the per-file transaction was rolled back
        cols = {
            r[0]
            for r in conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass")
        }
    assert "c" not in cols


def test_error_position_inside_a_statement(pg_db: str, tmp_path: Path) -> None:
    setup(pg_db, SCHEMA)
    m = migration(tmp_path, "SELECT 1;\nCREATE TABLE x (\n  id int,\n  bad nosuchtype\n);")
    section, _ = trace_up(pg_db, m)
    err = section.statements[1].error
    assert err is not None and err.sqlstate == "42704" and err.line == 5 and err.column == 7


def test_session_lock_timeout_is_reported(pg_db: str, tmp_path: Path) -> None:
    setup(pg_db, SCHEMA)
    m = migration(tmp_path, "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN c int;")
    section, _ = trace_up(pg_db, m)
    assert section.statements[0].lock_timeout == "0"
    assert section.statements[1].lock_timeout == "2s"


def test_cic_runs_outside_transaction_and_is_observed_by_polling(
    pg_db: str, tmp_path: Path
) -> None:
    setup(
        pg_db,
        "CREATE TABLE big (id int, v int); INSERT INTO big SELECT g, g % 1000 FROM generate_series(1, 300000) g;",
    )
    m = migration(tmp_path, "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY big_v ON big (v);")
    assert cannot_run_in_transaction(m.up.statements[1].node, 15)
    section, invalid = trace_up(pg_db, m, watchdog_s=60)
    st = section.statements[1]
    assert st.status == "ok" and st.duration_ms is not None and st.duration_ms < 60_000
    assert st.transaction.startswith("none")
    observed = table_locks(st, "big")
    assert observed == {"SHARE UPDATE EXCLUSIVE"}, st.locks
    assert all(lk.observed == "polled" for lk in st.locks)
    assert st.agreement is not None and st.agreement.verdict == "confirmed"
    assert invalid == []
    assert section.notes and "statement by statement" in section.notes[0]


def test_failed_cic_leaves_an_invalid_index_that_is_reported(pg_db: str, tmp_path: Path) -> None:
    setup(pg_db, "CREATE TABLE d (v int); INSERT INTO d VALUES (1), (1);")
    m = migration(tmp_path, "CREATE UNIQUE INDEX CONCURRENTLY d_v ON d (v);")
    section, invalid = trace_up(pg_db, m)
    assert section.statements[0].error is not None
    assert section.statements[0].error.sqlstate == "23505"
    assert [i.index for i in invalid] == ["d_v"]
    assert "DROP INDEX CONCURRENTLY" in invalid[0].cleanup


def test_snapshots_take_no_lock_on_user_relations(pg_db: str) -> None:
    setup(
        pg_db,
        SCHEMA
        + "CREATE VIEW tv AS SELECT * FROM t; CREATE MATERIALIZED VIEW mv AS SELECT * FROM t;",
    )
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute("BEGIN")
        catalog.schema_snapshot(conn, in_transaction=True)
        catalog.relations(conn)
        assert catalog.own_locks(conn) == []
        conn.execute("ROLLBACK")


def test_file_with_own_transaction_is_honoured(pg_db: str, tmp_path: Path) -> None:
    setup(pg_db, SCHEMA)
    m = migration(
        tmp_path,
        "BEGIN;\nALTER TABLE t ADD COLUMN c int;\nCOMMIT;\nALTER TABLE t ADD COLUMN d int;",
    )
    section, _ = trace_up(pg_db, m)
    assert section.transaction_mode == "file"
    _begin, add_c, _commit, add_d = section.statements
    assert add_c.transaction == "file" and add_d.transaction == "statement"
    lock = next(lk for lk in add_c.locks if lk.object == "t")
    assert lock.held_until == "end of transaction" and lock.held_ms >= add_c.duration_ms
    assert next(lk for lk in add_d.locks if lk.object == "t").held_until == "end of statement"


def test_per_statement_mode(pg_db: str, tmp_path: Path) -> None:
    setup(pg_db, SCHEMA)
    m = migration(tmp_path, "ALTER TABLE t ADD COLUMN c int;\nALTER TABLE t ADD COLUMN d int;")
    section, _ = trace_up(pg_db, m, transaction_mode="per-statement")
    assert section.transaction_mode == "per-statement"
    assert [s.transaction for s in section.statements] == ["statement", "statement"]
    # each statement takes its own lock: nothing is "already held"
    assert all("ACCESS EXCLUSIVE" in table_locks(s, "t") for s in section.statements)


@pytest.mark.parametrize(
    ("sql", "rule", "verdict"),
    [
        ("CREATE INDEX t_v ON t (v)", "require-concurrent-index", "confirmed"),
        (
            "ALTER TABLE t ADD COLUMN c float8 DEFAULT random()",
            "add-column-volatile-default",
            "confirmed",
        ),
        # a rule claiming a rewrite for a constant default would be wrong: the trace says so
        ("ALTER TABLE t ADD COLUMN c int DEFAULT 0", "add-column-volatile-default", "contradicted"),
        ("ALTER TABLE t RENAME COLUMN v TO w", "rename-column", "confirmed"),
        ("ALTER TABLE t VALIDATE CONSTRAINT fk_nv", "set-not-null-without-check", "contradicted"),
    ],
)
def test_static_findings_are_confirmed_or_contradicted(
    pg_db: str, tmp_path: Path, sql: str, rule: str, verdict: str
) -> None:
    from pgpreflight.linter.check.expected import RULE_CLAIMS

    setup(pg_db, SCHEMA)
    m = migration(tmp_path, sql)
    st0 = m.up.statements[0]
    findings = {(st0.source.display, st0.line): [rule]}
    section, _ = trace_up(pg_db, m, findings=findings, rule_claims=dict(RULE_CLAIMS))
    agreement = section.statements[0].agreement
    assert agreement is not None and agreement.rules == [rule]
    assert agreement.rule_verdicts == {rule: verdict}


def test_rule_module_can_state_its_own_claim() -> None:
    import types

    from pgpreflight.linter.check.expected import rule_claims

    module = types.SimpleNamespace(LOCK="SHARE", REWRITE=False)
    rule = types.SimpleNamespace(module=module)
    assert rule_claims({"my-rule": rule})["my-rule"] == ("SHARE", False)
