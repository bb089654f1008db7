"""The schema after a traced statement is read again only for the relations the statement
touched (and those whose definitions name them): it must equal a full snapshot, statement by
statement, or the trace's catalog changes and the data-loss probe would be wrong."""

from __future__ import annotations

from typing import Any

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


WIDE = """
CREATE TYPE mood AS ENUM ('ok', 'bad');
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TABLE logged (id int PRIMARY KEY, body text);
CREATE FUNCTION make_side_table() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN EXECUTE format('CREATE TABLE side_%s (id serial)', NEW.id); RETURN NEW; END $$;
CREATE TRIGGER make_side_table AFTER INSERT ON logged FOR EACH ROW
    EXECUTE FUNCTION make_side_table();
CREATE FUNCTION logged_body(l logged) RETURNS text LANGUAGE sql AS 'SELECT l.body';
ALTER TABLE other ENABLE ROW LEVEL SECURITY;
CREATE POLICY positive ON other USING (id > 0);
CREATE TABLE moods (m mood DEFAULT 'ok' CHECK (m <> 'bad'));
"""

# Statements, relation-scoped or not, with the catalogs they write: what a snapshot after them
# keeps from the one before must equal what a full one reads.
WRITING = [
    *STATEMENTS,
    "CREATE TABLE serials (id serial PRIMARY KEY, m mood)",  # a sequence and a row type
    "ALTER TABLE other ADD COLUMN n bigserial",  # a sequence owned by a column
    "ALTER TABLE other ADD CONSTRAINT note_len CHECK (length(note) < 10)",
    "CREATE TRIGGER t BEFORE UPDATE ON other FOR EACH ROW EXECUTE FUNCTION touch()",
    "CREATE POLICY mine ON other USING (id < 0)",
    "DROP TABLE other",  # and its policy
    "DROP TABLE logged CASCADE",  # and the function that takes its row type
    "INSERT INTO logged VALUES (7, 'x')",  # the trigger creates side_7 and its sequence
    "DROP FUNCTION make_side_table() CASCADE",
    "CREATE TYPE colour AS ENUM ('red')",
    "ALTER TYPE mood ADD VALUE 'meh'",
    "COMMENT ON SCHEMA public IS 'the app'",
    "ALTER INDEX other_note SET (fillfactor = 70)",  # printed by the index's definition
    "ALTER TABLE other ALTER COLUMN note SET DEFAULT 'x'",
    "ALTER TABLE logged DISABLE TRIGGER make_side_table",
    "ALTER TABLE child ALTER CONSTRAINT child_parent_id_fkey DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE other DISABLE ROW LEVEL SECURITY",
    "ALTER TABLE other SET UNLOGGED",
    "ALTER TABLE other SET (fillfactor = 50)",
    "ALTER TABLE child ADD CONSTRAINT positive CHECK (id > 0) NOT VALID",
    "CREATE UNIQUE INDEX other_note_key ON other (note) WHERE note IS NOT NULL",
    # not relation-scoped, renaming nothing: the sections of the catalogs they write
    "CREATE SEQUENCE numbers",
    "ALTER SEQUENCE code_seq INCREMENT BY 5",
    "ALTER SEQUENCE code_seq OWNED BY parent.code",
    "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN NEW.id := NEW.id; RETURN NEW; END $$",
    "ALTER FUNCTION touch() SET search_path = public",
    "CREATE DOMAIN positive_int AS int DEFAULT 1 CHECK (VALUE > 0)",
    "GRANT SELECT ON other TO PUBLIC",
    "CREATE SCHEMA app CREATE TABLE jobs (id int PRIMARY KEY)",
    "CREATE RULE keep AS ON DELETE TO other DO INSTEAD NOTHING",
    "ALTER TYPE mood RENAME VALUE 'ok' TO 'fine'",  # a full read: defaults print the label
    "DO $$ BEGIN EXECUTE 'ALTER TABLE other RENAME TO others'; END $$",  # a full read
]


@pytest.mark.parametrize("sql", WRITING)
def test_a_snapshot_rereads_what_the_catalogs_written_can_change(pg_db: str, sql: str) -> None:
    """The trace reads the schema after a statement again only where the statement wrote to
    the system catalogs (catalog.catalog_writes): the result equals a full snapshot."""
    from pgpreflight.linter.check.trace import SectionTracer, TraceOptions, _State

    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute(SCHEMA + WIDE)
        owners: catalog.Owners = {}
        before = catalog.schema_snapshot(conn, in_transaction=True, owners=owners)
        rels = catalog.relations(conn)
        conn.execute("BEGIN")
        counts = catalog.catalog_writes(conn)
        conn.execute(sql)  # type: ignore[arg-type]
        written = catalog.written_between(counts, catalog.catalog_writes(conn))
        locked = {lk.relation for lk in catalog.own_locks(conn)}
        touched = _touched(rels, catalog.relations(conn), locked)
        tracer = SectionTracer(conn, pg_db, TraceOptions())
        state = _State(rels=rels, schema=before, locks=set(), owners=owners)
        after = tracer._snapshot_after(parse_sql(sql)[0].stmt, state, touched, written)
        full = catalog.schema_snapshot(conn, in_transaction=True)
        conn.execute("ROLLBACK")
    assert catalog.compare(full, after) == []


@pytest.mark.parametrize(
    "sql",
    [
        "SET lock_timeout = '2s'",
        "SELECT 1",
        "INSERT INTO other VALUES (1, 'a')",
        "UPDATE parent SET code = 3",
        "DELETE FROM child",
        "SAVEPOINT s",
    ],
)
def test_statements_that_write_no_catalog_leave_the_schema_as_it_was(pg_db: str, sql: str) -> None:
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute("BEGIN")
        counts = catalog.catalog_writes(conn)
        conn.execute(sql)  # type: ignore[arg-type]
        assert catalog.written_between(counts, catalog.catalog_writes(conn)) == set()
        conn.execute("ROLLBACK")


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE other ALTER COLUMN note SET NOT NULL",  # an update of pg_attribute only
        "ALTER TABLE other RENAME COLUMN note TO remark",
        "COMMENT ON TABLE other IS 'x'",
        "ALTER TABLE child DROP CONSTRAINT child_parent_id_fkey",  # deletes only
        "TRUNCATE other",  # a new relfilenode
        # inside a subtransaction that is released, and one rolled back (counted all the same)
        "DO $$ BEGIN BEGIN ALTER TABLE other ADD COLUMN x int; RAISE 'no'; "
        "EXCEPTION WHEN OTHERS THEN NULL; END; END $$",
    ],
)
def test_every_kind_of_catalog_write_is_counted(pg_db: str, sql: str) -> None:
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute("BEGIN")
        counts = catalog.catalog_writes(conn)
        conn.execute(sql)  # type: ignore[arg-type]
        assert catalog.written_between(counts, catalog.catalog_writes(conn))
        conn.execute("ROLLBACK")


def test_a_trigger_that_creates_a_table_shows_in_the_insert_s_trace(
    pg_db: str, tmp_path: Any
) -> None:
    """DML writes no catalog as a rule, but a trigger may (concourse's pipelines): the
    statement's catalog changes come from what it wrote, not from its kind."""
    from tests.check_support import migration, setup, trace_up

    setup(pg_db, SCHEMA + WIDE)
    m = migration(tmp_path, "INSERT INTO logged VALUES (8, 'y');\nSELECT 1;")
    trace, _ = trace_up(pg_db, m)
    insert, select = trace.statements
    changes = {(c.action, c.kind, c.name) for c in insert.catalog_changes}
    assert ("added", "table", "side_8") in changes
    assert select.catalog_changes == []


def test_the_snapshot_a_section_ended_with_stands_for_one_read_afterwards(pg_db: str) -> None:
    """The round trip compares the schema after each section as read outside a transaction
    (views deparsed); it is derived from the in-transaction snapshot the trace ended with,
    reading only the view definitions again. Tables with rules and materialized views too."""
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute(SCHEMA)
        conn.execute(
            """
            CREATE MATERIALIZED VIEW codes AS SELECT code FROM parent WITH NO DATA;
            CREATE TABLE audit (id int);
            CREATE RULE no_delete AS ON DELETE TO audit DO INSTEAD NOTHING;
            CREATE VIEW "odd name" AS SELECT 1 AS one;
            """
        )
        conn.execute("BEGIN")
        inside = catalog.schema_snapshot(conn, in_transaction=True)
        conn.execute("COMMIT")
        assert inside[("view", "parent_codes")]["definition"] is not None  # a hash, here
        derived = catalog.outside_transaction(conn, inside)
        assert derived == catalog.schema_snapshot(conn)
