"""The schema after a traced statement is read again only for the relations the statement
touched (and those whose definitions name them): it must equal a full snapshot, statement by
statement, or the trace's catalog changes and the data-loss probe would be wrong."""

from __future__ import annotations

import psycopg
import pytest
from pglast import parse_sql
from pgpreflight.linter.check import catalog
from pgpreflight.linter.check.trace import _relation_scoped, _touched

SCHEMA = """
CREATE SEQUENCE code_seq;
CREATE TABLE parent (id int PRIMARY KEY, code int DEFAULT nextval('code_seq'));
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id));
CREATE TABLE other (id int PRIMARY KEY, note text);
CREATE INDEX other_note ON other (note);
CREATE VIEW parent_codes AS SELECT id, code FROM parent;
"""

STATEMENTS = [
    "ALTER TABLE parent RENAME TO mother",  # the FK text on child names it
    "ALTER TABLE parent RENAME COLUMN id TO pid",
    "ALTER TABLE child DROP CONSTRAINT child_parent_id_fkey",
    "DROP TABLE parent CASCADE",  # child's FK and the view go with it
    "ALTER TABLE child ADD COLUMN x int NOT NULL DEFAULT 1",
    "CREATE INDEX child_x ON child (parent_id)",
    "COMMENT ON COLUMN other.note IS 'free text'",
    "ALTER INDEX other_note RENAME TO other_note_idx",
    "CREATE TABLE fresh (id int REFERENCES other (id))",
    "INSERT INTO other VALUES (1, 'a')",
    "ALTER TABLE other ALTER COLUMN note TYPE varchar(20)",
]


@pytest.mark.parametrize("sql", STATEMENTS)
def test_scoped_snapshot_equals_a_full_one(pg_db: str, sql: str) -> None:
    assert _relation_scoped(parse_sql(sql)[0].stmt)
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute(SCHEMA)
        owners: catalog.Owners = {}
        before = catalog.schema_snapshot(conn, in_transaction=True, owners=owners)
        rels = catalog.relations(conn)
        conn.execute("BEGIN")
        conn.execute(sql)  # type: ignore[arg-type]
        locked = {lk.relation for lk in catalog.own_locks(conn)}
        touched = _touched(rels, catalog.relations(conn), locked)
        renamed = " RENAME " in sql
        scoped, _ = catalog.scoped_snapshot(
            conn, before, owners, touched, in_transaction=True, renamed=renamed
        )
        full = catalog.schema_snapshot(conn, in_transaction=True)
        conn.execute("ROLLBACK")
    assert catalog.compare(full, scoped) == []
    assert scoped == full


def test_an_index_dropped_concurrently_without_a_polled_lock_is_gone(pg_db: str) -> None:
    """The poller can miss the short locks of DROP INDEX CONCURRENTLY: the index's table is
    read again because the index vanished from the relations."""
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute(SCHEMA)
        owners: catalog.Owners = {}
        before = catalog.schema_snapshot(conn, in_transaction=True, owners=owners)
        rels = catalog.relations(conn)
        conn.execute("DROP INDEX CONCURRENTLY other_note")
        touched = _touched(rels, catalog.relations(conn), set())
        scoped, _ = catalog.scoped_snapshot(conn, before, owners, touched, in_transaction=True)
        full = catalog.schema_snapshot(conn, in_transaction=True)
    assert ("index", "other_note") not in scoped
    assert scoped == full
