"""The schema model against hand-written expectations (the catalog test checks it against
PostgreSQL itself): the 32-migration history, PostgreSQL's generated names, cascades, renames,
copy-on-write snapshots, what is left unmodelled, and the JSON/text outputs."""

from __future__ import annotations

import json
from pathlib import Path

from pglast import parse_sql
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.schema import SchemaModel, diff
from pgpreflight.linter.schema.render import model_to_dict, model_to_text

HISTORY = Path(__file__).parent / "fixtures" / "schema_history"


def model_of(sql: str, model: SchemaModel | None = None) -> SchemaModel:
    model = model if model is not None else SchemaModel()
    for raw in parse_sql(sql):
        model.apply(raw.stmt)
    return model


def replay_history() -> SchemaModel:
    model = SchemaModel()
    for migration in discover([HISTORY], "auto"):
        for statement in migration.up.statements:
            model.apply(statement.node, location=statement)
    return model


def columns(model: SchemaModel, table: str) -> list[tuple[str, str, bool]]:
    found = model.table(table)
    assert found is not None, table
    return [(c.name, c.type, c.not_null) for c in found.columns.values()]


# ---------------------------------------------------------------- the history


def test_history_has_at_least_thirty_migrations_and_models_every_statement() -> None:
    migrations = discover([HISTORY], "auto")
    assert len(migrations) >= 30
    model = replay_history()
    assert not model.problems
    # the DO block of 202501010029 only raises a notice: nothing to model, nothing left out
    assert [(u.kind, u.reason) for u in model.unmodelled] == [
        ("GrantStmt", "privileges are not modelled"),
    ]


def test_history_tables_columns_and_types() -> None:
    model = replay_history()
    assert sorted(model.tables) == [
        "audit.log",
        "audit.login_attempts",
        "public.bookings",
        "public.events",
        "public.events_2025_01",
        "public.events_2025_02",
        "public.invoices",
        "public.labels",
        "public.project_labels",
        "public.projects",
        "public.sessions",
        "public.stock",
        "public.swatches",
        "public.users",
    ]
    assert columns(model, "users") == [
        ("id", "bigint", True),
        ("email", "email_address", True),
        ("full_name", "character varying(120)", True),
        ("role", "account_role", True),
        ("active", "boolean", True),
        ("created_at", "timestamp with time zone", True),
        ("updated_at", "timestamp with time zone", True),
        ("phone", "character varying(32)", False),
    ]
    users = model.table("public.users")
    assert users is not None
    assert users.columns["id"].default == "nextval('users_id_seq'::regclass)"
    assert users.columns["active"].default is None
    assert users.columns["role"].default == "'regular'"
    assert users.columns["updated_at"].default == "CURRENT_TIMESTAMP"
    assert users.comment == "people who can sign in"
    assert users.columns["email"].comment == "unique, case-insensitive"
    assert columns(model, "sessions")[2] == ("token", "text", True)
    assert model.table("sessions").columns["created_at"].default is None  # type: ignore[union-attr]
    projects = model.table("projects")
    assert projects is not None
    assert projects.columns["id"].identity == "always"
    assert projects.columns["budget"].type == "numeric(12,2)"
    assert projects.columns["budget_cents"].generated is None  # DROP EXPRESSION
    assert model.table("labels").columns["id"].identity == "by default"  # type: ignore[union-attr]
    assert columns(model, "invoices")[3] == ("amount", "numeric(14,2)", True)
    assert columns(model, "stock") == [("sku", "text", True), ("quantity", "positive_int", False)]
    assert model.table("audit.login_attempts") is not None
    assert model.table("login_attempts") is None


def test_history_constraints_with_generated_names() -> None:
    model = replay_history()
    users = model.table("users")
    sessions = model.table("sessions")
    projects = model.table("projects")
    assert users is not None and sessions is not None and projects is not None
    assert sorted(users.constraints) == ["users_email_key", "users_pkey"]
    assert sorted(sessions.constraints) == [
        "sessions_expiry_after_creation",
        "sessions_pkey",
        "sessions_user_id_fkey",
        "sessions_user_id_token_key",
    ]
    fk = sessions.constraints["sessions_user_id_fkey"]
    assert (fk.kind, fk.columns, fk.ref_table, fk.ref_columns, fk.on_delete) == (
        "foreign key",
        ("user_id",),
        "public.users",
        ("id",),
        "cascade",
    )
    assert (
        sessions.constraints["sessions_expiry_after_creation"].expression
        == "expires_at > created_at"
    )
    owner_fk = projects.constraints["projects_owner_fk"]
    assert owner_fk.validated and owner_fk.on_update == "cascade"
    assert not projects.constraints["projects_title_not_blank"].validated
    booking = model.table("bookings")
    assert booking is not None
    excl = booking.constraints["bookings_during_excl"]
    assert (excl.kind, excl.expression) == ("exclude", "during WITH &&")
    labels = model.table("labels")
    assert labels is not None and sorted(labels.constraints) == ["tags_label_key", "tags_pkey"]
    assert sorted(model.table("project_labels").constraints) == [  # type: ignore[union-attr]
        "project_labels_label_id_fkey",
        "project_labels_pkey",
        "project_labels_project_id_fkey",
    ]
    assert (
        model.table("project_labels")
        .constraints[  # type: ignore[union-attr]
            "project_labels_label_id_fkey"
        ]
        .ref_table
        == "public.labels"
    )
    # DROP TABLE colors CASCADE removed the foreign key of swatches
    assert sorted(model.table("swatches").constraints) == ["swatches_pkey"]  # type: ignore[union-attr]
    log = model.table("audit.log")
    assert log is not None and log.constraints["log_user_id_fkey"].on_delete == "set null"
    assert log.constraints["log_action_check"].columns == ("action",)


def test_history_indexes() -> None:
    model = replay_history()
    users = model.table("users")
    assert users is not None
    assert sorted(users.indexes) == [
        "users_email_key",
        "users_lower_idx",
        "users_name_trgm",
        "users_pkey",
    ]
    trgm = users.indexes["users_name_trgm"]
    assert (trgm.method, trgm.columns, trgm.opclasses) == ("gin", ("full_name",), ("gin_trgm_ops",))
    lower = users.indexes["users_lower_idx"]
    assert lower.unique and lower.columns == ("(lower(CAST(email AS text)))",)
    assert sorted(model.table("sessions").indexes) == [  # type: ignore[union-attr]
        "idx_sessions_expires_at",
        "sessions_pkey",
        "sessions_user_id_token_key",
    ]
    invoices = model.table("invoices")
    assert invoices is not None
    assert invoices.indexes["invoices_number_key"].constraint == "invoices_number_key"
    assert "invoices_number_key_idx" not in invoices.indexes
    assert sorted(model.table("events_2025_01").indexes) == [  # type: ignore[union-attr]
        "events_2025_01_kind_idx",
        "events_2025_01_pkey",
    ]
    assert sorted(model.table("events_2025_02").indexes) == [  # type: ignore[union-attr]
        "events_2025_02_kind_idx",
        "events_2025_02_pkey",
    ]
    assert "audit.log_user_id_at_idx" in model.indexes
    assert "audit.login_attempts_pkey" in model.indexes
    assert model.index("projects_owner_id_idx") is not None


def test_history_sequences_types_views_functions_extensions() -> None:
    model = replay_history()
    assert {k: s.owned_by for k, s in model.sequences.items()} == {
        "audit.log_id_seq": ("audit.log", "id"),
        "public.bookings_id_seq": ("public.bookings", "id"),
        "public.invoice_number_seq": ("public.invoices", "number"),
        "public.invoices_id_seq": ("public.invoices", "id"),
        "public.labels_id_seq": ("public.labels", "id"),
        "public.projects_id_seq": ("public.projects", "id"),
        "public.users_id_seq": ("public.users", "id"),
    }
    role = model.type("account_role")
    assert role is not None and role.kind == "enum"
    assert role.values == ("owner", "admin", "regular", "guest")  # type: ignore[union-attr]
    email = model.type("email_address")
    assert email is not None and email.kind == "domain"
    assert [name for name, _ in email.checks] == [  # type: ignore[union-attr]
        "email_address_check",
        "email_address_length",
    ]
    assert model.type("positive_int").default is None  # type: ignore[union-attr]
    assert {k: v.materialized for k, v in model.views.items()} == {
        "public.active_users": False,
        "public.project_totals": True,
    }
    assert "role" in str(model.views["public.active_users"].query)
    assert sorted(model.functions) == ["public.set_updated_at()", "public.user_count(boolean)"]
    trigger = model.table("users").triggers["users_set_updated_at"]  # type: ignore[union-attr]
    assert (trigger.timing, trigger.events, trigger.function) == (
        "before",
        ("update",),
        "public.set_updated_at",
    )
    assert sorted(model.extensions) == ["pg_trgm", "pgcrypto"]
    assert model.schemas == {"public", "audit"}
    assert model.comments == {("index", "users_name_trgm"): "ILIKE search on names"}


def test_history_partitions() -> None:
    model = replay_history()
    events = model.table("events")
    assert events is not None and events.kind == "partitioned table"
    assert events.partition_by == "RANGE (occurred_at)"
    january = model.table("events_2025_01")
    assert january is not None and january.partition_of == "public.events"
    assert january.partition_bound == "FOR VALUES FROM ('2025-01-01') TO ('2025-02-01')"
    assert [p.name for p in model.partitions("events")] == ["events_2025_01", "events_2025_02"]


# ---------------------------------------------------------------- names PostgreSQL chooses


def test_generated_names_follow_postgresql_including_collisions_and_truncation() -> None:
    model = model_of(
        """
        CREATE TABLE t (a int CHECK (a > 0) CHECK (a < 10), b int,
                        UNIQUE (a), UNIQUE (a), CHECK (a < b));
        CREATE INDEX ON t (a); CREATE INDEX ON t (a); CREATE INDEX ON t ((a + b));
        CREATE TABLE a_table_name_that_is_quite_long_and_goes_on_and_on_and_on_forever (
            a_column_name_that_is_also_rather_long_indeed int UNIQUE);
        """
    )
    t = model.table("t")
    assert t is not None
    # the second UNIQUE (a) is merged into the first, as CREATE TABLE does
    assert sorted(t.constraints) == ["t_a_check", "t_a_check1", "t_a_key", "t_check"]
    assert sorted(t.indexes) == ["t_a_idx", "t_a_idx1", "t_a_key", "t_expr_idx"]
    long = model.table("a_table_name_that_is_quite_long_and_goes_on_and_on_and_on_forever")
    assert long is not None
    (name,) = long.constraints
    # makeObjectName shortens the longer part first: 29 bytes each, plus "_" and "_key"
    assert name == "a_table_name_that_is_quite_lo_a_column_name_that_is_also_ra_key"
    assert len(name) == 63


def test_unnamed_fk_uses_referenced_primary_key_and_names_the_columns() -> None:
    model = model_of(
        "CREATE TABLE o (x int, y int, PRIMARY KEY (x, y));"
        "CREATE TABLE c (a int, b int, FOREIGN KEY (a, b) REFERENCES o MATCH FULL ON DELETE SET "
        "NULL);"
    )
    (fk,) = model.table("c").constraints.values()  # type: ignore[union-attr]
    assert (fk.name, fk.ref_columns, fk.match, fk.on_delete) == (
        "c_a_b_fkey",
        ("x", "y"),
        "full",
        "set null",
    )


# ---------------------------------------------------------------- cascades and renames


def test_drop_column_drops_the_indexes_and_constraints_that_use_it() -> None:
    model = model_of(
        """
        CREATE TABLE t (id int PRIMARY KEY, a text, b text, CHECK (a <> b), UNIQUE (a, b));
        CREATE INDEX t_lower_a ON t (lower(a)); CREATE INDEX t_b ON t (b) WHERE a IS NULL;
        CREATE INDEX t_id ON t (id) INCLUDE (a);
        CREATE TABLE r (id int PRIMARY KEY, t_id int REFERENCES t);
        ALTER TABLE t DROP COLUMN a;
        """
    )
    t = model.table("t")
    assert t is not None
    assert sorted(t.constraints) == ["t_pkey"]
    assert sorted(t.indexes) == ["t_pkey"]
    assert "public.t_lower_a" not in model.indexes
    model_of("ALTER TABLE t DROP COLUMN id", model)
    assert model.problems and "r_t_id_fkey" in model.problems[-1].message
    assert "r_t_id_fkey" not in model.table("r").constraints  # type: ignore[union-attr]


def test_drop_table_cascade_takes_indexes_sequences_triggers_and_foreign_keys() -> None:
    model = model_of(
        """
        CREATE TABLE p (id serial PRIMARY KEY, name text);
        CREATE INDEX p_name ON p (name);
        CREATE TABLE c (id int PRIMARY KEY, p_id int REFERENCES p);
        DROP TABLE public.p CASCADE;
        """
    )
    assert model.table("p") is None
    assert not model.sequences and "public.p_name" not in model.indexes
    assert sorted(model.table("c").constraints) == ["c_pkey"]  # type: ignore[union-attr]
    assert not model.problems
    model_of("CREATE TABLE p (id int PRIMARY KEY); CREATE INDEX p_name ON p (id);", model)
    assert not model.problems  # the names are free again


def test_drop_table_without_cascade_that_is_referenced_is_a_problem() -> None:
    model = model_of(
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (p_id int REFERENCES p); DROP TABLE p;"
    )
    assert [p.message for p in model.problems] == [
        "cannot drop table public.p: constraint c_p_id_fkey on public.c depends on it "
        "(CASCADE would drop the constraint)"
    ]


def test_rename_column_follows_into_indexes_checks_and_foreign_keys() -> None:
    model = model_of(
        """
        CREATE TABLE p (id int PRIMARY KEY, email text CHECK (email <> ''));
        CREATE INDEX p_email ON p (lower(email)) WHERE email IS NOT NULL;
        CREATE TABLE c (p_id int REFERENCES p (id));
        ALTER TABLE p RENAME COLUMN email TO mail;
        ALTER TABLE p RENAME id TO pid;
        """
    )
    p = model.table("p")
    assert p is not None
    assert list(p.columns) == ["pid", "mail"]
    assert p.constraints["p_email_check"].expression == "mail <> ''"
    index = p.indexes["p_email"]
    assert (index.columns, index.predicate) == (("(lower(mail))",), "mail IS NOT NULL")
    assert p.constraints["p_pkey"].columns == ("pid",)
    assert model.table("c").constraints["c_p_id_fkey"].ref_columns == ("pid",)  # type: ignore[union-attr]


def test_rename_table_index_and_constraint() -> None:
    model = model_of(
        """
        CREATE TABLE p (id int PRIMARY KEY);
        CREATE TABLE c (p_id int REFERENCES p);
        ALTER TABLE p RENAME TO parent;
        ALTER INDEX p_pkey RENAME TO parent_pkey;
        ALTER TABLE c RENAME CONSTRAINT c_p_id_fkey TO c_parent_fkey;
        """
    )
    parent = model.table("parent")
    assert parent is not None and model.table("p") is None
    assert sorted(parent.constraints) == [
        "parent_pkey"
    ]  # renaming the index renamed its constraint
    assert sorted(parent.indexes) == ["parent_pkey"]
    fk = model.table("c").constraints["c_parent_fkey"]  # type: ignore[union-attr]
    assert fk.ref_table == "public.parent"


def test_if_exists_and_if_not_exists_and_problems() -> None:
    model = model_of(
        """
        CREATE TABLE IF NOT EXISTS t (id int);
        CREATE TABLE IF NOT EXISTS t (other int);
        DROP TABLE IF EXISTS missing;
        ALTER TABLE IF EXISTS missing ADD COLUMN x int;
        ALTER TABLE t ADD COLUMN IF NOT EXISTS id int;
        ALTER TABLE t DROP COLUMN IF EXISTS nope;
        DROP INDEX IF EXISTS nope;
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        """
    )
    assert columns(model, "t") == [("id", "integer", False)]
    assert not model.problems
    model_of("CREATE TABLE t (id int); DROP TABLE missing; ALTER TABLE t DROP COLUMN nope;", model)
    assert [p.message for p in model.problems] == [
        "relation public.t already exists",
        "table public.missing does not exist",
        "column nope of public.t does not exist",
    ]


def test_unmodelled_statements_are_listed_and_dml_is_not() -> None:
    model = model_of(
        """
        CREATE TABLE t (id int);
        INSERT INTO t VALUES (1); UPDATE t SET id = 2; SELECT 1; BEGIN; COMMIT;
        GRANT SELECT ON t TO PUBLIC;
        CREATE POLICY p ON t USING (true);
        ALTER TABLE t OWNER TO postgres;
        CREATE TYPE span AS RANGE (subtype = int4);
        """
    )
    assert [(u.kind, u.reason) for u in model.unmodelled] == [
        ("GrantStmt", "privileges are not modelled"),
        ("CreatePolicyStmt", "row-level security policies are not modelled"),
        ("AlterTableCmd", "ALTER TABLE ChangeOwner is not modelled"),
        ("CreateRangeStmt", "range types are not modelled"),
    ]


def test_search_path_changes_where_unqualified_names_go() -> None:
    model = model_of(
        "CREATE SCHEMA app; SET search_path TO app, public; CREATE TABLE t (id int);"
        "RESET search_path; CREATE TABLE t (id bigint);"
    )
    assert sorted(model.tables) == ["app.t", "public.t"]


def test_enum_values_keep_their_order() -> None:
    model = model_of(
        """
        CREATE TYPE mood AS ENUM ('sad', 'happy');
        ALTER TYPE mood ADD VALUE 'ok' BEFORE 'happy';
        ALTER TYPE mood ADD VALUE 'ecstatic' AFTER 'happy';
        ALTER TYPE mood ADD VALUE IF NOT EXISTS 'sad';
        ALTER TYPE mood RENAME VALUE 'sad' TO 'blue';
        """
    )
    assert model.type("public.mood").values == ("blue", "ok", "happy", "ecstatic")  # type: ignore[union-attr]


# ---------------------------------------------------------------- snapshots


def test_copy_is_independent_and_shares_unchanged_tables() -> None:
    before = model_of(
        "CREATE TABLE a (id int); CREATE TABLE b (id int); CREATE INDEX b_id ON b (id);"
    )
    after = before.copy()
    model_of("ALTER TABLE a ADD COLUMN name text; DROP INDEX b_id; CREATE TABLE c (id int);", after)
    assert list(before.table("a").columns) == ["id"]  # type: ignore[union-attr]
    assert list(after.table("a").columns) == ["id", "name"]  # type: ignore[union-attr]
    assert "public.b_id" in before.indexes and "public.b_id" not in after.indexes
    assert before.table("c") is None
    # untouched tables are the same objects; touched ones were cloned once
    third = after.copy()
    assert third.table("a") is after.table("a")
    model_of("ALTER TABLE a ADD COLUMN x int", after)
    assert "x" not in third.table("a").columns  # type: ignore[union-attr]
    assert "x" in after.table("a").columns  # type: ignore[union-attr]


# ---------------------------------------------------------------- diff and outputs


def test_diff_reports_each_kind_of_difference() -> None:
    before = model_of(
        """
        CREATE TYPE mood AS ENUM ('a');
        CREATE TABLE oficinas (id int PRIMARY KEY, nome text NOT NULL);
        CREATE INDEX idx_x ON oficinas (nome);
        ALTER TABLE oficinas ADD CONSTRAINT ck_nome CHECK (nome <> '');
        CREATE TABLE t (id int);
        """
    )
    after = model_of(
        """
        ALTER TABLE oficinas ADD COLUMN cidade text;
        DROP INDEX idx_x;
        ALTER TABLE oficinas RENAME CONSTRAINT ck_nome TO ck_oficinas_nome;
        ALTER TABLE oficinas ALTER COLUMN nome DROP NOT NULL;
        DROP TABLE t;
        ALTER TYPE mood ADD VALUE 'b';
        """,
        before.copy(),
    )
    assert [(d.kind, d.object_type, d.name) for d in diff(before, after)] == [
        ("added", "enum value", "mood.b"),
        ("removed", "table", "t"),
        ("added", "column", "oficinas.cidade"),
        ("changed", "column", "oficinas.nome"),
        ("renamed", "constraint", "ck_nome"),
        ("removed", "index", "idx_x"),
    ]
    messages = [d.message for d in diff(before, after)]
    assert "column oficinas.cidade added" in messages
    assert "constraint ck_nome renamed to ck_oficinas_nome" in messages
    assert "column oficinas.nome changed: nome text (was nome text NOT NULL)" in messages
    assert diff(before, before.copy()) == []


def test_diff_of_views_compares_trees_and_prints_only_when_asked() -> None:
    """Views are compared by their parse trees, casts and spelling aside; `view_texts=False`
    finds the same differences without printing any definition."""
    before = model_of(
        """
        CREATE TABLE t (id int, name varchar(10));
        CREATE VIEW same AS SELECT id FROM t WHERE name <> '';
        CREATE VIEW spelled AS SELECT lower(name) FROM t;
        CREATE VIEW changed AS SELECT id FROM t;
        CREATE VIEW dropped AS SELECT 1;
        """
    )
    after = model_of(
        """
        CREATE OR REPLACE VIEW same AS   select ID from T where NAME <> '';
        CREATE OR REPLACE VIEW spelled AS SELECT pg_catalog.lower((name)::text) FROM t;
        CREATE OR REPLACE VIEW changed AS SELECT id FROM t WHERE id > 1;
        DROP VIEW dropped;
        """,
        before.copy(),
    )
    full = diff(before, after)
    bare = diff(before, after, view_texts=False)
    keys = [("removed", "view", "dropped"), ("changed", "view", "changed")]
    assert [(d.kind, d.object_type, d.name) for d in full] == keys
    assert [(d.kind, d.object_type, d.name) for d in bare] == keys
    assert full[0].before == "SELECT 1" and "WHERE id > 1" in (full[1].after or "")
    assert [(d.before, d.after) for d in bare] == [(None, None), (None, None)]
    assert bare[1].message == "view changed changed"


def test_loosely_equal_is_equality_of_canonical_keys() -> None:
    import importlib

    diff_module = importlib.import_module("pgpreflight.linter.schema.diff")
    queries = [
        parse_sql(sql)[0].stmt
        for sql in (
            "SELECT lower(name) FROM t WHERE x <> 0",
            "select pg_catalog.LOWER((name)::text) from T where X <> (0)::double precision",
            "SELECT lower(name) FROM t WHERE x <> 1",
            "SELECT public.lower(name) FROM t WHERE x <> 0",
            "SELECT lower(name), 1 FROM t WHERE x <> 0",
            "SELECT upper(name) FROM t WHERE x <> 0",
        )
    ]
    for a in queries:
        for b in queries:
            same = diff_module.canonical(a) == diff_module.canonical(b)
            assert diff_module.loosely_equal(a, b) is same
    assert diff_module.loosely_equal(queries[0], queries[1])
    assert diff_module.loosely_equal(queries[0], queries[3])
    assert not diff_module.loosely_equal(queries[0], queries[2])


def test_to_dict_is_json_and_stable() -> None:
    model = replay_history()
    data = model_to_dict(model)
    text = json.dumps(data, sort_keys=False)
    assert json.dumps(model_to_dict(replay_history())) == text
    users = next(t for t in data["tables"] if t["name"] == "public.users")
    assert users["columns"][2] == {
        "name": "full_name",
        "type": "character varying(120)",
        "not_null": True,
        "default": None,
        "identity": None,
        "generated": None,
        "collation": None,
        "comment": None,
    }
    assert [t["name"] for t in data["tables"]] == sorted(t["name"] for t in data["tables"])
    assert data["unmodelled"][0]["location"].endswith("202501010029__move_schema_and_grants.sql:4")


def test_to_text_reads_like_sql() -> None:
    text = model_to_text(
        model_of(
            "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "name varchar(20) NOT NULL DEFAULT 'x', p int REFERENCES t ON DELETE CASCADE);"
            "CREATE INDEX ON t USING gin (name gin_trgm_ops) WHERE p IS NULL;"
        )
    )
    assert "table t\n" in text
    assert "  id bigint GENERATED ALWAYS AS IDENTITY NOT NULL\n" in text
    assert "  name character varying(20) NOT NULL DEFAULT 'x'\n" in text
    assert "  constraint t_p_fkey FOREIGN KEY (p) REFERENCES t (id) ON DELETE CASCADE\n" in text
    assert "  index t_name_idx gin (name gin_trgm_ops) WHERE p IS NULL\n" in text


def test_reverse_indexes_agree_with_a_full_scan_through_the_whole_history() -> None:
    """Foreign-key and owned-sequence lookups use indexes kept up to date on every change;
    after every UP and every DOWN they must equal a scan of the whole model."""
    model = SchemaModel()
    for migration in discover([HISTORY], "auto"):
        for section in (migration.up, migration.down, migration.up):
            assert section is not None
            for statement in section.statements:
                model.apply(statement.node)
            for key in model.tables:
                scanned = sorted(
                    (t.qualified_name, c.name)
                    for t in model.tables.values()
                    for c in t.constraints.values()
                    if c.ref_table == key
                )
                assert (
                    sorted((t.qualified_name, c.name) for t, c in model.referencing(key)) == scanned
                )
                owned = sorted(
                    k for k, s in model.sequences.items() if s.owned_by and s.owned_by[0] == key
                )
                assert model._sequences_of(key) == owned
    assert not model.problems


def test_trigger_enable_and_disable() -> None:
    model = model_of(
        """
        CREATE TABLE t (id int);
        CREATE TRIGGER a BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();
        CREATE TRIGGER b AFTER DELETE ON t FOR EACH ROW EXECUTE FUNCTION f();
        ALTER TABLE t DISABLE TRIGGER ALL;
        ALTER TABLE t ENABLE TRIGGER b;
        """
    )
    triggers = model.table("t").triggers  # type: ignore[union-attr]
    assert (triggers["a"].enabled, triggers["b"].enabled) == (False, True)
    after = model_of("ALTER TABLE t DISABLE TRIGGER b", model.copy())
    assert [d.message for d in diff(model, after)] == [
        "trigger t.b changed: after delete for each row execute function f (disabled) "
        "(was after delete for each row execute function f)"
    ]
    assert not model.unmodelled


def test_default_null_is_no_default_and_unknown_types_match_in_diff() -> None:
    model = model_of(
        "CREATE TABLE t (a text DEFAULT NULL, b int DEFAULT NULL::integer, c int DEFAULT 1);"
        "ALTER TABLE t ALTER COLUMN c SET DEFAULT NULL;"
        "CREATE TABLE s AS SELECT a, b + 1 AS total FROM t;"
    )
    assert [c.default for c in model.table("t").columns.values()] == [None, None, None]  # type: ignore[union-attr]
    assert model.table("s").columns["total"].type == "unknown"  # type: ignore[union-attr]
    typed = model_of("DROP TABLE s; CREATE TABLE s (a text, total integer);", model.copy())
    assert diff(model, typed) == []


def test_do_blocks_are_read_from_their_body(tmp_path: Path) -> None:
    (tmp_path / "202401010000__do.sql").write_text(
        """-- UP
CREATE TABLE t (id int);
DO $$ BEGIN UPDATE t SET id = 1; RAISE NOTICE 'only data'; END $$;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE column_name = 'name') THEN
        ALTER TABLE t ADD COLUMN name text;
    END IF;
    ALTER TABLE t ADD COLUMN id int;
END $$;
DO $$ BEGIN EXECUTE 'ALTER TABLE ' || 't' || ' ADD COLUMN x int'; END $$;
-- DOWN
DROP TABLE t;
"""
    )
    model = SchemaModel()
    for statement in discover([tmp_path], "auto")[0].up.statements:
        model.apply(statement.node, location=statement)
    assert list(model.table("t").columns) == ["id", "name"]  # type: ignore[union-attr]
    assert not model.problems  # "column id already exists" is guarded in real life: quiet
    assert [u.reason for u in model.unmodelled] == [
        "DO block: its schema changes were applied as if every branch ran",
        "DO block runs dynamic SQL, which is not interpreted",
    ]


def test_not_null_written_as_a_table_constraint() -> None:
    model = model_of(
        "CREATE TABLE t (a int, b int, CONSTRAINT t_a_not_null NOT NULL a);"
        "ALTER TABLE t ADD CONSTRAINT t_b_not_null NOT NULL b;"
    )
    assert columns(model, "t") == [("a", "integer", True), ("b", "integer", True)]
    assert not model.unmodelled and not model.table("t").constraints  # type: ignore[union-attr]


def test_sequence_rename_follows_the_column_defaults_that_use_it() -> None:
    model = model_of(
        "CREATE SEQUENCE s; CREATE TABLE t (id bigint DEFAULT nextval('s'));"
        "ALTER SEQUENCE s RENAME TO s2; ALTER TABLE s2 RENAME TO s3;"
    )
    table = model.table("t")
    assert table is not None and table.columns["id"].default == "nextval('s3'::regclass)"


def test_drop_function_cascade_drops_its_triggers() -> None:
    model = model_of(
        "CREATE TABLE t (id int); CREATE FUNCTION app_touch() RETURNS trigger LANGUAGE plpgsql "
        "AS $$BEGIN RETURN NEW; END$$; CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW "
        "EXECUTE PROCEDURE app_touch(); DROP FUNCTION app_touch() CASCADE;"
    )
    table = model.table("t")
    assert table is not None and table.triggers == {} and list(model.problems) == []


def test_drop_table_list_drops_them_all_before_judging_dependencies() -> None:
    model = model_of(
        "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (a_id int REFERENCES a);"
        "DROP TABLE a, b;"
    )
    assert model.table("a") is None and model.table("b") is None and list(model.problems) == []
    alone = model_of(
        "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (a_id int REFERENCES a); DROP TABLE a;"
    )
    assert [p.message for p in alone.problems] == [
        "cannot drop table public.a: constraint b_a_id_fkey on public.b depends on it "
        "(CASCADE would drop the constraint)"
    ]


def test_named_not_null_constraints_rename_and_drop() -> None:
    model = model_of(
        "CREATE TABLE t (id int, a int NOT NULL, CONSTRAINT t_id_nn NOT NULL id);"
        "ALTER TABLE t RENAME CONSTRAINT t_id_nn TO nn2; ALTER TABLE t DROP CONSTRAINT t_a_not_null;"
    )
    table = model.table("t")
    assert table is not None and list(model.problems) == []
    assert table.columns["id"].not_null and table.columns["id"].not_null_name == "nn2"
    assert not table.columns["a"].not_null


def test_explain_and_lint_see_the_same_tables_from_do_blocks(tmp_path: Path) -> None:
    from pgpreflight.linter.discovery import discover
    from pgpreflight.linter.explain.runner import schema_after
    from pgpreflight.linter.replay import replay

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "202401010000__do.sql").write_text(
        "-- UP\nDO $$ BEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'made') THEN\n"
        "    CREATE TABLE made (id bigint PRIMARY KEY, name text);\n  END IF;\nEND $$;\n"
        "-- DOWN\nDROP TABLE made;\n"
    )
    migrations = discover([folder])
    lint_model = replay(migrations, {}).snapshots[-1]
    assert lint_model is not None
    explain_model = schema_after(migrations)
    assert lint_model.table("made") is not None
    assert explain_model.table("made") is not None
    assert set(explain_model.tables) == set(lint_model.tables)


def test_drop_view_list_drops_a_view_another_of_the_list_takes_with_it() -> None:
    # concourse's initial DOWN: PostgreSQL looks up every name first, then drops them together
    views = (
        "CREATE TABLE b (id int PRIMARY KEY, job_id int);"
        "CREATE MATERIALIZED VIEW a AS SELECT job_id, max(id) AS m FROM b GROUP BY job_id;"
        "CREATE MATERIALIZED VIEW c AS SELECT b.id FROM b LEFT JOIN a ON a.job_id = b.job_id;"
    )
    model = model_of(views + "DROP MATERIALIZED VIEW a, c;")
    assert model.view("a") is None and model.view("c") is None and list(model.problems) == []
    missing = model_of(views + "DROP MATERIALIZED VIEW a, c, nosuch;")
    assert [p.message for p in missing.problems] == [
        "materialized view public.nosuch does not exist"
    ]


def test_function_rename_is_followed_by_the_triggers_that_call_it() -> None:
    # lemmy: a trigger calls its function by OID, so DROP FUNCTION new_name CASCADE drops it
    model = model_of(
        "CREATE TABLE t (id int); CREATE FUNCTION f_old() RETURNS trigger LANGUAGE plpgsql "
        "AS $$BEGIN RETURN NEW; END$$; CREATE TRIGGER tr AFTER DELETE ON t FOR EACH ROW "
        "EXECUTE FUNCTION f_old(); ALTER FUNCTION f_old() RENAME TO f_new;"
    )
    table = model.table("t")
    assert table is not None and table.triggers["tr"].function == "public.f_new"
    model_of("DROP FUNCTION f_new CASCADE;", model)
    after = model.table("t")
    assert after is not None and after.triggers == {} and list(model.problems) == []


def test_composite_types_are_modelled() -> None:
    # crates.io's semver_triple: a DOWN dropping it must find it
    model = model_of(
        "CREATE TABLE b (id int);"
        "CREATE TYPE semver_triple AS (major int4, minor int4, teeny int4);"
        "ALTER TYPE semver_triple ADD ATTRIBUTE pre text, DROP ATTRIBUTE minor;"
        "ALTER TYPE semver_triple RENAME ATTRIBUTE teeny TO patch;"
        "CREATE TABLE v (s semver_triple);"
    )
    assert list(model.problems) == [] and list(model.unmodelled) == []
    assert model_to_text(model).splitlines()[1:3] == [
        "type semver_triple AS (major integer, patch integer, pre text)",
        "table b",
    ]
    # a table's row type and a composite type share one namespace
    model_of("CREATE TYPE semver_triple AS (a int); CREATE TYPE b AS (a int);", model)
    assert [p.message for p in model.problems] == [
        "type public.semver_triple already exists",
        "type public.b already exists",
    ]
    refused = model_of("DROP TYPE semver_triple;", model.copy())
    assert [p.message for p in refused.problems][2:] == [
        "cannot drop type public.semver_triple: column s of public.v uses it"
    ]
    model_of("DROP TYPE semver_triple CASCADE;", model)
    table = model.table("v")
    assert model.type("semver_triple") is None and table is not None and table.columns == {}


def test_indexes_of_materialized_views() -> None:
    # crates.io's recent_crate_downloads: DOWN drops the view's index, then the view
    model = model_of(
        "CREATE TABLE d (crate_id int, downloads int);"
        "CREATE MATERIALIZED VIEW recent AS SELECT crate_id, sum(downloads) AS downloads "
        "FROM d GROUP BY crate_id;"
        "CREATE UNIQUE INDEX recent_crate_id ON recent (crate_id);"
        "CREATE INDEX ON recent (downloads);"
    )
    assert list(model.problems) == [] and list(model.unmodelled) == []
    assert model_to_text(model).splitlines()[-2:] == [
        "  index recent_crate_id UNIQUE btree (crate_id)",
        "  index recent_downloads_idx btree (downloads)",
    ]
    index = model.index("recent_crate_id")
    assert index is not None and index.table == "public.recent"  # DROP INDEX locks the view
    renamed = model_of(
        "ALTER MATERIALIZED VIEW recent RENAME TO r2; ALTER INDEX recent_crate_id RENAME TO r2_id;",
        model.copy(),
    )
    index = renamed.index("r2_id")
    assert index is not None and index.table == "public.r2" and list(renamed.problems) == []
    model_of("DROP INDEX recent_crate_id; DROP MATERIALIZED VIEW recent;", model)
    assert list(model.problems) == [] and dict(model.view_indexes) == {}
    assert model.index("recent_downloads_idx") is None  # gone with its view
