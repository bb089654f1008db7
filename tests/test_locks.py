"""linter/locks.py against a real server: each statement runs in a transaction that is rolled
back, and the locks its backend holds (pg_locks) must equal what `statement_locks` predicts.

Statements that refuse a transaction block (the CONCURRENTLY forms, VACUUM) are checked by the
lock they ask for first: another session holds EXCLUSIVE on the table, the statement queues
behind it, and its waiting entry in pg_locks shows the mode it requested.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from pglast import parse_sql
from pgpreflight.linter.locks import (
    CONFLICTS,
    Lock,
    blocked,
    conflicts,
    statement_locks,
    type_change_rewrites,
)
from pgpreflight.linter.pgserver import ScratchServer
from pgpreflight.linter.schema import SchemaModel

from tests.conftest import TEMPLATE_DB

SETUP = """
CREATE TABLE u (id int PRIMARY KEY);
CREATE SEQUENCE s;
CREATE TABLE t (id int PRIMARY KEY, a int, v varchar(10), n numeric(10,2), ts timestamp, c cidr,
                u_id int);
CREATE INDEX t_a ON t (a);
CREATE UNIQUE INDEX t_v ON t (v);
CREATE TABLE p (k int, x int) PARTITION BY LIST (k);
CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);
CREATE TABLE p2 (k int, x int);
CREATE MATERIALIZED VIEW m AS SELECT id FROM u;
CREATE UNIQUE INDEX m_id ON m (id);
CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION trg();
CREATE DOMAIN pos AS int;
CREATE DOMAIN pos2 AS int;
ALTER DOMAIN pos2 ADD CONSTRAINT pos2_check CHECK (VALUE > 0) NOT VALID;
CREATE TABLE dt (x pos, y pos2);
INSERT INTO u VALUES (1); INSERT INTO t (id, a, v, u_id) VALUES (1, 1, 'x', 1);
"""
TABLES = ("u", "t", "p", "p1", "p2", "m", "dt")

IN_TRANSACTION = [
    "ALTER TABLE t ADD COLUMN b int",
    "ALTER TABLE t ADD COLUMN b int DEFAULT 0",
    "ALTER TABLE t ADD COLUMN b uuid DEFAULT gen_random_uuid()",
    "ALTER TABLE t DROP COLUMN a",
    "ALTER TABLE t ALTER COLUMN a TYPE bigint",
    "ALTER TABLE t ALTER COLUMN v TYPE text",
    "ALTER TABLE t ALTER COLUMN a SET NOT NULL",
    "ALTER TABLE t ALTER COLUMN a DROP NOT NULL",
    "ALTER TABLE t ALTER COLUMN a SET DEFAULT 1",
    "ALTER TABLE t ALTER COLUMN a SET STATISTICS 500",
    "ALTER TABLE t ALTER COLUMN a SET (n_distinct = 10)",
    "ALTER TABLE t ALTER COLUMN v SET STORAGE external",
    "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0)",
    "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0) NOT VALID",
    "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u_id) REFERENCES u (id)",
    "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (u_id) REFERENCES u (id) NOT VALID",
    "ALTER TABLE t ADD CONSTRAINT uq UNIQUE (a)",
    "ALTER TABLE t ADD CONSTRAINT uq UNIQUE USING INDEX t_v",
    "ALTER TABLE t ADD CONSTRAINT ex EXCLUDE USING btree (a WITH =)",
    "ALTER TABLE t DROP CONSTRAINT t_pkey",
    "ALTER TABLE t ENABLE TRIGGER t_trg",
    "ALTER TABLE t DISABLE TRIGGER t_trg",
    "ALTER TABLE t SET (fillfactor = 70)",
    "ALTER TABLE t SET (autovacuum_enabled = false)",
    "ALTER TABLE t CLUSTER ON t_a",
    "ALTER TABLE t SET UNLOGGED",
    "ALTER TABLE t SET TABLESPACE pg_default",
    "ALTER TABLE t SET ACCESS METHOD heap",
    "ALTER TABLE t REPLICA IDENTITY FULL",
    "ALTER TABLE t ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE t RENAME TO t_new",
    "ALTER TABLE t RENAME COLUMN a TO a2",
    "ALTER INDEX t_a RENAME TO t_a2",
    "ALTER TABLE t RENAME CONSTRAINT t_pkey TO t_pk",
    "ALTER SEQUENCE s RENAME TO s2",
    "ANALYZE t",
    "ALTER TABLE p ATTACH PARTITION p2 FOR VALUES IN (2)",
    "ALTER TABLE p DETACH PARTITION p1",
    "CREATE TABLE p3 PARTITION OF p FOR VALUES IN (3)",
    "CREATE INDEX t_n ON t (n)",
    "DROP INDEX t_a",
    "REINDEX INDEX t_a",
    "REINDEX TABLE t",
    "CLUSTER t USING t_a",
    "REFRESH MATERIALIZED VIEW m",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY m",
    "CREATE TRIGGER t_trg2 AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg()",
    "CREATE TABLE child (id int PRIMARY KEY, u_id int REFERENCES u (id))",
    "TRUNCATE t CASCADE",
    "LOCK TABLE t IN SHARE MODE",
    "UPDATE t SET a = 2",
    "DROP TABLE p2",
    "ALTER DOMAIN pos ADD CONSTRAINT pos_check CHECK (VALUE > 0)",
    "ALTER DOMAIN pos ADD CONSTRAINT pos_check CHECK (VALUE > 0) NOT VALID",
    "ALTER DOMAIN pos SET NOT NULL",
    "ALTER DOMAIN pos2 VALIDATE CONSTRAINT pos2_check",
]

# (statement, what puts the database back as SETUP left it)
OUTSIDE_TRANSACTION = [
    ("CREATE INDEX CONCURRENTLY t_n ON t (n)", "DROP INDEX t_n"),
    ("DROP INDEX CONCURRENTLY t_a", "CREATE INDEX t_a ON t (a)"),
    ("REINDEX INDEX CONCURRENTLY t_a", None),
    ("VACUUM FULL t", None),
    ("VACUUM t", None),
    (
        "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY",
        "ALTER TABLE p ATTACH PARTITION p1 FOR VALUES IN (1)",
    ),
]


def _schema() -> SchemaModel:
    model = SchemaModel()
    for raw in parse_sql(SETUP):
        model.apply(raw.stmt)
    return model


def _predicted(sql: str) -> dict[str, Lock]:
    out: dict[str, Lock] = {}
    for lk in statement_locks(parse_sql(sql)[0].stmt, _schema()):
        name = lk.table.split(".", 1)[1]
        if name in TABLES:
            out[name] = max(out.get(name, Lock.ACCESS_SHARE), lk.mode)
    return out


_HELD = """
SELECT l.relation::oid::int, l.mode FROM pg_locks l
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation'
"""


@pytest.fixture(scope="module")
def db(pg_server: ScratchServer) -> Iterator[str]:
    """One database for the module: every test rolls back what it does (or, outside a
    transaction, only builds, drops and rebuilds indexes, which leaves the tables as they were)."""
    name = f"locks{os.getpid()}"
    dsn = pg_server.create_database(name, template=TEMPLATE_DB)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SETUP)
    try:
        yield dsn
    finally:
        pg_server.drop_database(name)


def test_lock_table_is_symmetric_and_ordered() -> None:
    for a in Lock:
        for b in Lock:
            assert conflicts(a, b) == conflicts(b, a)
    assert blocked(Lock.ACCESS_EXCLUSIVE) == "reads and writes"
    assert blocked(Lock.SHARE) == "writes"
    assert blocked(Lock.SHARE_UPDATE_EXCLUSIVE) == "other schema changes and VACUUM"
    assert blocked(Lock.ACCESS_SHARE) == "only exclusive locks"
    assert len(CONFLICTS[Lock.ACCESS_EXCLUSIVE]) == 8


def test_conflict_table_matches_server(db: str) -> None:
    """Every pair of modes: a session asking for b behind a holder of a waits iff they conflict."""
    with psycopg.connect(db) as holder, psycopg.connect(db) as other:
        other.execute("SET lock_timeout = '20ms'")
        other.commit()
        for a in Lock:
            holder.execute(f"LOCK TABLE u IN {a.label} MODE")
            for b in Lock:
                try:
                    other.execute(f"LOCK TABLE u IN {b.label} MODE")
                    waited = False
                except psycopg.errors.LockNotAvailable:
                    waited = True
                other.rollback()
                assert waited == conflicts(a, b), (a.label, b.label)
            holder.rollback()


@pytest.mark.parametrize("sql", IN_TRANSACTION)
def test_locks_in_transaction(db: str, sql: str) -> None:
    with psycopg.connect(db) as conn:
        conn.execute("SET lock_timeout = '2s'")
        # by oid: a RENAME changes the name the lock is listed under
        names: dict[int, str] = dict(
            conn.execute(
                "SELECT oid::int, relname::text FROM pg_class WHERE relname = ANY(%s)",
                [list(TABLES)],
            ).fetchall()
        )
        conn.commit()
        conn.execute(sql)
        held: dict[str, Lock] = {}
        for oid, mode in conn.execute(_HELD).fetchall():
            if oid in names:
                held[names[oid]] = max(
                    held.get(names[oid], Lock.ACCESS_SHARE), Lock.from_pg_name(mode)
                )
        conn.rollback()
    predicted = _predicted(sql)
    # The server also takes ACCESS SHARE to look relations up; only stronger locks are ours.
    held = {k: v for k, v in held.items() if v > Lock.ACCESS_SHARE or k in predicted}
    assert held == predicted, sql


@pytest.mark.parametrize(("sql", "undo"), OUTSIDE_TRANSACTION)
def test_first_lock_outside_transaction(db: str, sql: str, undo: str | None) -> None:
    table = "p" if "PARTITION" in sql else "t"
    with psycopg.connect(db) as holder, psycopg.connect(db, autocommit=True) as runner:
        pid = runner.info.backend_pid
        # EXCLUSIVE, not ACCESS EXCLUSIVE: VACUUM first looks the table up under ACCESS SHARE
        holder.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        errors: list[BaseException] = []

        def run() -> None:
            try:
                runner.execute("SET lock_timeout = '5s'")
                runner.execute(sql)
            except BaseException as err:  # reported by the assertion below
                errors.append(err)

        thread = threading.Thread(target=run)
        thread.start()
        wanted = None
        for _ in range(200):
            row = holder.execute(
                "SELECT l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE l.pid = %s AND NOT l.granted AND c.relname = %s",
                [pid, table],
            ).fetchone()
            if row:
                wanted = Lock.from_pg_name(row[0])
                break
            time.sleep(0.02)
        holder.rollback()
        thread.join(10)
        if undo:
            runner.execute(undo)
    assert not errors, errors
    assert wanted is not None, f"{sql} never queued behind EXCLUSIVE"
    assert wanted == _predicted(sql)[table], sql


@pytest.mark.parametrize(
    ("old", "new", "utc", "rewrites"),
    [
        ("character varying(10)", "character varying(20)", False, False),
        ("character varying(10)", "text", False, False),
        ("character varying(10)", "character varying(5)", False, True),
        ("numeric(10,2)", "numeric(12,2)", False, False),
        ("numeric(10,2)", "numeric(12,3)", False, True),
        ("timestamp(3) without time zone", "timestamp(6) without time zone", False, False),
        ("cidr", "inet", False, False),
        ("timestamp without time zone", "timestamp with time zone", True, False),
        ("timestamp without time zone", "timestamp with time zone", False, True),
        ("integer", "bigint", False, True),
    ],
)
def test_type_change_rewrites_matches_server(
    db: str, old: str, new: str, utc: bool, rewrites: bool
) -> None:
    """A rewrite gives the table a new relfilenode; a catalog-only change keeps it."""
    assert type_change_rewrites(old, new, utc=utc) == rewrites
    with psycopg.connect(db) as conn:
        conn.execute(f"SET TimeZone = '{'UTC' if utc else 'America/Sao_Paulo'}'")
        conn.execute(f"CREATE TABLE ty (x {old})")
        conn.execute("INSERT INTO ty VALUES (NULL)")
        before = conn.execute("SELECT pg_relation_filenode('ty')").fetchone()
        conn.execute(f"ALTER TABLE ty ALTER COLUMN x TYPE {new}")
        after = conn.execute("SELECT pg_relation_filenode('ty')").fetchone()
        conn.rollback()
    assert (before != after) == rewrites
