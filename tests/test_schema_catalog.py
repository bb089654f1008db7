"""Property test: the schema model agrees with a real PostgreSQL catalog.

The same migration history (tests/fixtures/schema_history, 32 migrations covering every
statement kind the model handles) is applied to a scratch database, migration by migration,
and after every migration the catalog's tables, columns, types, nullability, defaults,
constraints, indexes, sequences, enums, views, functions, triggers and extensions are compared
with the model replayed over the same UP sections.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.schema import SchemaModel, diff
from pgpreflight.linter.schema.render import expression_text

HISTORY = Path(__file__).parent / "fixtures" / "schema_history"
USER_SCHEMAS = "nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"

_CAST = re.compile(r"::[a-z_ ]+(\(\d+(,\d+)?\))?(\[\])?")


def _normalise_default(text: str | None) -> str | None:
    """Defaults compared without the casts PostgreSQL adds (`'x'::text`) and in lower case."""
    if text is None:
        return None
    return _CAST.sub("", text).replace("(", "").replace(")", "").lower().strip()


def _catalog(conn: Any) -> dict[str, Any]:
    rows = conn.execute(
        f"""
        SELECT n.nspname || '.' || c.relname, c.relkind, c.oid
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMAS}
        """
    ).fetchall()
    tables: dict[str, Any] = {}
    for name, relkind, oid in rows:
        columns = conn.execute(
            """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated
            FROM pg_attribute a
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """,
            (oid,),
        ).fetchall()
        constraints = conn.execute(
            """
            SELECT c.conname, c.contype,
                   ARRAY(SELECT attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute ON attrelid = c.conrelid AND attnum = k.n ORDER BY k.i),
                   CASE WHEN c.confrelid <> 0 THEN
                       (SELECT nspname || '.' || relname FROM pg_class r
                        JOIN pg_namespace rn ON rn.oid = r.relnamespace
                        WHERE r.oid = c.confrelid) END,
                   ARRAY(SELECT attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute ON attrelid = c.confrelid AND attnum = k.n ORDER BY k.i),
                   c.confdeltype, c.confupdtype, c.convalidated
            FROM pg_constraint c WHERE c.conrelid = %s AND c.contype IN ('p', 'u', 'f', 'c', 'x')
            """,
            (oid,),
        ).fetchall()
        indexes = conn.execute(
            """
            SELECT ic.relname, i.indisunique, i.indisprimary, am.amname,
                   ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
                         FROM generate_series(1, i.indnkeyatts) k),
                   i.indpred IS NOT NULL,
                   ARRAY(SELECT opcname FROM unnest(i.indclass) WITH ORDINALITY o(oid, n)
                         JOIN pg_opclass ON pg_opclass.oid = o.oid ORDER BY o.n)
            FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
            JOIN pg_am am ON am.oid = ic.relam WHERE i.indrelid = %s
            """,
            (oid,),
        ).fetchall()
        triggers = conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s AND NOT tgisinternal", (oid,)
        ).fetchall()
        tables[name] = {
            "partitioned": relkind == "p",
            "columns": columns,
            "constraints": constraints,
            "indexes": indexes,
            "triggers": {t[0] for t in triggers},
        }
    sequences = dict(
        conn.execute(
            f"""
        SELECT n.nspname || '.' || c.relname,
               (SELECT rn.nspname || '.' || r.relname || '.' || a.attname
                FROM pg_depend d JOIN pg_class r ON r.oid = d.refobjid
                JOIN pg_namespace rn ON rn.oid = r.relnamespace
                JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass
                  AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'S' AND {USER_SCHEMAS}
        """
        ).fetchall()
    )
    enums = {
        name: list(values)
        for name, values in conn.execute(
            """
            SELECT n.nspname || '.' || t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)
            FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
            JOIN pg_namespace n ON n.oid = t.typnamespace GROUP BY 1
            """
        ).fetchall()
    }
    domains = {
        r[0]
        for r in conn.execute(
            f"""SELECT n.nspname || '.' || t.typname FROM pg_type t
                JOIN pg_namespace n ON n.oid = t.typnamespace
                WHERE t.typtype = 'd' AND {USER_SCHEMAS}"""
        ).fetchall()
    }
    views = dict(
        conn.execute(
            f"""SELECT n.nspname || '.' || c.relname, c.relkind = 'm' FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('v', 'm') AND {USER_SCHEMAS}"""
        ).fetchall()
    )
    functions = {
        r[0]
        for r in conn.execute(
            f"""SELECT n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')'
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE {USER_SCHEMAS} AND NOT EXISTS (
                    SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"""
        ).fetchall()
    }
    extensions = {
        r[0] for r in conn.execute("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'")
    }
    schemas = {
        r[0]
        for r in conn.execute(
            f"SELECT nspname FROM pg_namespace WHERE {USER_SCHEMAS} AND nspname NOT LIKE 'pg_%'"
        )
    }
    return {
        "tables": tables,
        "sequences": sequences,
        "enums": enums,
        "domains": domains,
        "views": views,
        "functions": functions,
        "extensions": extensions,
        "schemas": schemas,
    }


_KINDS = {"p": "primary key", "u": "unique", "f": "foreign key", "c": "check", "x": "exclude"}
_ACTIONS = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}


def _compare(model: SchemaModel, catalog: dict[str, Any], where: str) -> None:
    assert set(model.tables) == set(catalog["tables"]), where
    for key, table in model.tables.items():
        actual = catalog["tables"][key]
        at = f"{where}: {key}"
        assert (table.partition_by is not None) == actual["partitioned"], at
        expected_columns = [
            (
                c.name,
                c.type,
                c.not_null,
                _normalise_default(expression_text(c.default)),
                bool(c.identity),
                bool(c.generated),
            )
            for c in table.columns.values()
        ]
        actual_columns = [
            (
                name,
                type_,
                not_null,
                _normalise_default(default) if not generated else None,
                bool(identity),
                bool(generated),
            )
            for name, type_, not_null, default, identity, generated in actual["columns"]
        ]
        assert expected_columns == actual_columns, at
        expected_constraints = {
            c.name: (
                c.kind,
                tuple(sorted(c.columns)) if c.kind == "check" else c.columns,
                c.ref_table,
                c.ref_columns,
                c.on_delete,
                c.on_update,
                c.validated,
            )
            for c in table.constraints.values()
        }
        actual_constraints = {
            name: (
                _KINDS[contype],
                tuple(sorted(cols)) if contype == "c" else tuple(cols),
                ref,
                tuple(ref_cols),
                _ACTIONS.get(deltype) if contype == "f" else None,
                _ACTIONS.get(updtype) if contype == "f" else None,
                validated,
            )
            for name, contype, cols, ref, ref_cols, deltype, updtype, validated in actual[
                "constraints"
            ]
        }
        assert expected_constraints == actual_constraints, at
        expected_indexes = {
            i.name: (
                i.unique,
                i.primary,
                i.method,
                tuple(e.column or "expr" for e in i.elements),
                i.predicate is not None,
            )
            for i in table.indexes.values()
        }
        actual_indexes = {
            name: (
                unique,
                primary,
                method,
                tuple(k if re.fullmatch(r"[a-z_][a-z0-9_]*", k) else "expr" for k in keys),
                pred,
            )
            for name, unique, primary, method, keys, pred, _ in actual["indexes"]
        }
        assert expected_indexes == actual_indexes, at
        for name, *_rest, opclasses in actual["indexes"]:
            for element, opclass in zip(table.indexes[name].elements, opclasses, strict=True):
                if element.opclass is not None:
                    assert element.opclass == opclass, f"{at}: {name}"
        assert set(table.triggers) == actual["triggers"], at
    owned = {
        key: (f"{s.owned_by[0]}.{s.owned_by[1]}" if s.owned_by else None)
        for key, s in model.sequences.items()
    }
    assert owned == catalog["sequences"], where
    enums = {k: list(t.values) for k, t in model.types.items() if t.kind == "enum"}
    assert enums == catalog["enums"], where
    assert {k for k, t in model.types.items() if t.kind == "domain"} == catalog["domains"], where
    assert {k: v.materialized for k, v in model.views.items()} == catalog["views"], where
    assert set(model.functions) == catalog["functions"], where
    assert set(model.extensions) == catalog["extensions"], where
    assert model.schemas == catalog["schemas"], where


def _comparable(catalog: dict[str, Any]) -> dict[str, Any]:
    """The catalog with order-free parts sorted, compared the way `diff` compares models
    (column order is not compared)."""
    tables = {
        name: {
            key: sorted(map(repr, value)) if isinstance(value, (list, set)) else value
            for key, value in table.items()
        }
        for name, table in catalog["tables"].items()
    }
    return {**catalog, "tables": tables}


def _run(conn: Any, model: SchemaModel, section: Any) -> None:
    for statement in section.statements:
        conn.execute(statement.text)
        model.apply(statement.node, location=statement)


def test_model_matches_postgresql_catalog_after_every_up_and_down(pg_db: str) -> None:
    """UP, DOWN, then UP again for every migration: the model and the catalog agree at each
    step, and `diff` finds a difference between before-UP and after-DOWN exactly when the
    catalog shows one."""
    psycopg = pytest.importorskip("psycopg")
    migrations = discover([HISTORY], "auto")
    assert len(migrations) >= 30
    model = SchemaModel()
    not_reverted = []
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '5s'")
        conn.execute("SET statement_timeout = '30s'")
        conn.execute("SET client_min_messages = warning")
        for migration in migrations:
            before_model, before_catalog = model.copy(), _catalog(conn)
            _run(conn, model, migration.up)
            _compare(model, _catalog(conn), f"{migration.id} up")
            assert migration.down is not None
            _run(conn, model, migration.down)
            after_down = _catalog(conn)
            _compare(model, after_down, f"{migration.id} down")
            differences = diff(before_model, model)
            reverted = _comparable(before_catalog) == _comparable(after_down)
            assert reverted == (not differences), (migration.id, [d.message for d in differences])
            if differences:
                not_reverted.append((migration.id, sorted(d.message for d in differences)))
            _run(conn, model, migration.up)
            _compare(model, _catalog(conn), f"{migration.id} up again")
    assert not model.problems, model.problems
    # the history holds three migrations whose DOWN cannot or does not revert UP, on purpose
    assert not_reverted == [
        (
            "202501010009__validate_constraints",
            [
                "constraint projects_owner_fk changed: FOREIGN KEY (owner_id) REFERENCES users "
                "(id) "
                "ON UPDATE CASCADE (was FOREIGN KEY (owner_id) REFERENCES users (id) ON UPDATE "
                "CASCADE "
                "NOT VALID)",
            ],
        ),
        (
            "202501010015__enum_values",
            [
                "enum value 'guest' added to type user_role",
                "enum value 'owner' added to type user_role",
            ],
        ),
        (
            "202501010032__drop_index_and_column",
            [
                "column projects.budget_cents changed: budget_cents bigint (was budget_cents "
                "bigint "
                "GENERATED ALWAYS AS (CAST(budget * 100 AS bigint)) STORED)",
            ],
        ),
    ]


NAMING_SQL = """
CREATE TABLE t (a int CHECK (a > 0) CHECK (a < 10), b int, UNIQUE (a), UNIQUE (a), CHECK (a < b));
CREATE INDEX ON t (a);
CREATE INDEX ON t (a);
CREATE INDEX ON t ((a + b));
CREATE INDEX ON t (lower(b::text), coalesce(a, 0));
CREATE TABLE a_table_name_that_is_quite_long_and_goes_on_and_on_and_on_forever (
    a_column_name_that_is_also_rather_long_indeed int UNIQUE,
    id serial PRIMARY KEY);
CREATE TABLE o (x int, y int, PRIMARY KEY (x, y));
CREATE TABLE c (a int, b int, FOREIGN KEY (a, b) REFERENCES o MATCH FULL ON DELETE SET NULL);
ALTER TABLE c ADD FOREIGN KEY (a, b) REFERENCES o;
CREATE TABLE x (id int, r int4range,
    EXCLUDE USING gist (r WITH &&), EXCLUDE USING btree (id WITH =));
CREATE TABLE p (id int, at date) PARTITION BY LIST (at);
CREATE TABLE p1 PARTITION OF p FOR VALUES IN ('2025-01-01');
CREATE UNIQUE INDEX ON p (id, at);
"""


def test_generated_names_match_postgresql(pg_db: str) -> None:
    """Names PostgreSQL chooses for unnamed constraints and indexes, with collisions and
    63-byte truncation, checked against the server rather than against our reading of its code."""
    from pglast import parse_sql

    psycopg = pytest.importorskip("psycopg")
    model = SchemaModel()
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '5s'")
        conn.execute("SET statement_timeout = '30s'")
        conn.execute("SET client_min_messages = warning")
        for raw in parse_sql(NAMING_SQL):
            conn.execute(NAMING_SQL[raw.stmt_location : raw.stmt_location + raw.stmt_len])
            model.apply(raw.stmt)
        _compare(model, _catalog(conn), "naming")
    assert not model.problems


_FK = "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (p_id int REFERENCES p (id));"
_VIEW = "CREATE TABLE t (id int); CREATE VIEW v AS SELECT id FROM t;"
_TRIGGER = (
    "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;"
    "CREATE TABLE t (id int);"
    "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();"
)
_ENUM = "CREATE TYPE m AS ENUM ('a'); CREATE TABLE t (x m);"
_SCHEMA = "CREATE SCHEMA s; CREATE TABLE s.t (id int);"
PROBLEM_CASES = [
    (_FK, "DROP TABLE p", True),
    (_FK, "DROP TABLE p CASCADE", False),
    (_FK, "ALTER TABLE p DROP COLUMN id", True),
    (_FK, "ALTER TABLE p DROP COLUMN id CASCADE", False),
    (_VIEW, "DROP TABLE t", True),
    (_VIEW, "DROP TABLE t CASCADE", False),
    (_VIEW + "CREATE VIEW w AS SELECT * FROM v;", "DROP VIEW v", True),
    (_VIEW + "CREATE VIEW w AS SELECT * FROM v;", "DROP VIEW v CASCADE", False),
    (_TRIGGER, "DROP FUNCTION f()", True),
    (_TRIGGER, "DROP FUNCTION f() CASCADE", False),
    (_ENUM, "DROP TYPE m", True),
    (_ENUM, "DROP TYPE m CASCADE", False),
    (_SCHEMA, "DROP SCHEMA s", True),
    (_SCHEMA, "DROP SCHEMA s CASCADE", False),
    ("", "DROP TABLE missing", True),
    ("", "DROP TABLE IF EXISTS missing", False),
    ("CREATE TABLE t (id int)", "ALTER TABLE t DROP COLUMN nope", True),
    ("CREATE TABLE t (id int)", "ALTER TABLE t DROP COLUMN IF EXISTS nope", False),
    ("CREATE TABLE t (id int)", "ALTER TABLE t DROP CONSTRAINT nope", True),
    ("CREATE TABLE t (id int)", "CREATE TABLE t (x int)", True),
    ("CREATE TABLE t (id int)", "CREATE TABLE IF NOT EXISTS t (x int)", False),
    ("CREATE TABLE t (id int)", "ALTER TABLE t ADD COLUMN id int", True),
    ("CREATE TABLE t (id int); CREATE INDEX i ON t (id)", "CREATE INDEX i ON t (id)", True),
    ("CREATE TABLE t (id int UNIQUE)", "DROP INDEX t_id_key", True),
    ("CREATE TABLE t (a int, b int)", "ALTER TABLE t RENAME COLUMN a TO b", True),
    ("CREATE TABLE t (id int PRIMARY KEY)", "ALTER TABLE t ALTER COLUMN id DROP NOT NULL", True),
    ("CREATE TABLE t (id int PRIMARY KEY)", "ALTER TABLE t ADD PRIMARY KEY (id)", True),
    ("CREATE TABLE p (id int)", "CREATE TABLE c (p_id int REFERENCES p)", True),
    ("CREATE TYPE m AS ENUM ('a')", "ALTER TYPE m ADD VALUE 'a'", True),
    ("CREATE TYPE m AS ENUM ('a')", "ALTER TYPE m ADD VALUE IF NOT EXISTS 'a'", False),
    ("CREATE EXTENSION pg_trgm", "CREATE EXTENSION pg_trgm", True),
    ("CREATE TABLE t (id int); CREATE TABLE u (id int)", "ALTER TABLE t RENAME TO u", True),
]


def test_model_problems_match_postgresql_errors(pg_db: str) -> None:
    """`problems` (what `down-does-not-revert` reports as "DOWN would fail") appear exactly
    when PostgreSQL rejects the statement. Each case runs in a transaction rolled back."""
    from pglast import parse_sql

    psycopg = pytest.importorskip("psycopg")
    mismatches = []
    with psycopg.connect(pg_db) as conn:
        conn.execute("SET lock_timeout = '5s'")
        conn.execute("SET statement_timeout = '30s'")
        conn.commit()
        for setup, statement, fails in PROBLEM_CASES:
            model = SchemaModel()
            for raw in parse_sql(setup):
                model.apply(raw.stmt)
            assert not model.problems, (setup, model.problems)
            model.apply(parse_sql(statement)[0].stmt)
            if setup:
                conn.execute(setup)
            try:
                conn.execute(statement)
                failed = False
            except psycopg.Error:
                failed = True
            conn.rollback()
            assert failed == fails, (
                f"PostgreSQL {'rejected' if failed else 'accepted'} {statement!r}"
            )
            if bool(model.problems) != fails:
                mismatches.append((setup, statement, [p.message for p in model.problems]))
    assert not mismatches


CTAS_SQL = """
CREATE TABLE post (id serial PRIMARY KEY, name text, published timestamptz NOT NULL DEFAULT now());
CREATE TABLE comment (id int, body varchar(10));
CREATE TABLE x (a, b) AS SELECT p.id, c.body AS nm, count(*) AS n, 1 AS one, 's' AS s,
    now()::date AS day, p.*, coalesce(p.name, 'x') AS label
    FROM post p JOIN comment c ON c.id = p.id GROUP BY p.id, c.body WITH NO DATA;
CREATE TABLE y AS SELECT * FROM post UNION ALL SELECT * FROM post;
ALTER TABLE y ADD PRIMARY KEY (id, published);
"""


def test_create_table_as_columns_match_postgresql(pg_db: str) -> None:
    from pglast import parse_sql

    psycopg = pytest.importorskip("psycopg")
    model = SchemaModel()
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '5s'")
        conn.execute("SET statement_timeout = '30s'")
        for raw in parse_sql(CTAS_SQL):
            conn.execute(CTAS_SQL[raw.stmt_location : raw.stmt_location + raw.stmt_len])
            model.apply(raw.stmt)
        _compare(model, _catalog(conn), "create table as")
    assert not model.problems and not model.unmodelled
