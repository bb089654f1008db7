"""Edge cases of the destructive and breaking-change rules: what existed before the migration,
what the same migration created, UP versus a DOWN that reverts it, and version boundaries."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.helpers import ids, lint_findings

BASE = """-- file: 202401010000__base.sql
-- UP
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL DEFAULT '', name text NOT NULL);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    status order_status NOT NULL DEFAULT 'new',
    note text
);
CREATE INDEX orders_user_id_idx ON orders (user_id);
CREATE VIEW user_orders AS SELECT u.email, o.id FROM users u JOIN orders o ON o.user_id = u.id;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
-- DOWN
DROP TABLE orders;
DROP TABLE users;
"""

DESTRUCTIVE = [
    "drop-table",
    "drop-column",
    "drop-schema",
    "drop-database",
    "drop-constraint",
    "drop-object",
    "truncate-table",
    "rename-table",
    "rename-column",
    "rename-object",
    "not-null-without-default",
    "drop-not-null",
    "drop-default",
    "enum-value-order",
    "enum-value-in-transaction",
    "dml-without-where",
    "backfill-with-ddl",
]


def change(up: str, down: str = "SELECT 1;") -> str:
    return (
        BASE
        + "-- file: 202401020000__change.sql\n-- the change under test (line 1)\n"
        + f"-- UP\n{up}\n-- DOWN\n{down}\n"
    )


def found(
    sql: str, tmp_path: Path, rules: list[str] | str = DESTRUCTIVE, **config: object
) -> list[tuple[str, int]]:
    """(rule, line) of findings in the second file (the base file is setup)."""
    return [
        (f.rule, f.line)
        for f in lint_findings(sql, rules, tmp_path, **config)
        if "change" in f.path
    ]


# ---------------------------------------------------------------- drops name what goes with them


def test_drop_table_names_rows_indexes_foreign_keys_and_views(tmp_path: Path) -> None:
    [f] = [
        f
        for f in lint_findings(change("DROP TABLE users CASCADE;"), "drop-table", tmp_path)
        if "change" in f.path
    ]
    assert (f.line, f.column) == (3, 1)
    assert "'users'" in f.message and "3 columns" in f.message
    assert "foreign keys from orders are dropped (CASCADE)" in f.message
    assert "user_orders" in f.message


def test_drop_column_names_its_index_and_foreign_key(tmp_path: Path) -> None:
    [f] = [
        f
        for f in lint_findings(
            change("ALTER TABLE orders DROP COLUMN user_id;"), "drop-column", tmp_path
        )
        if "change" in f.path
    ]
    assert "orders_user_id_idx" in f.message and "orders_user_id_fkey" in f.message


def test_drop_column_after_truncate_claims_no_data_loss(tmp_path: Path) -> None:
    # concourse 1537546150: TRUNCATE next_build_inputs, then DROP COLUMN version_id
    up = "TRUNCATE TABLE orders;\nALTER TABLE orders DROP COLUMN user_id;"
    [f] = [f for f in lint_findings(change(up), "drop-column", tmp_path) if "change" in f.path]
    assert "deletes its data" not in f.message
    assert "TRUNCATE at line 3 already emptied the table" in f.message


def test_drop_table_if_exists_of_a_table_no_migration_created(tmp_path: Path) -> None:
    # authelia V0007 drops legacy tables (u2f_devices, renamed away by V0002) IF EXISTS
    up = "DROP TABLE IF EXISTS legacy;\nDROP TABLE IF EXISTS orders;"
    found = [f for f in lint_findings(change(up), "drop-table", tmp_path) if "change" in f.path]
    assert [f.message.endswith("(no earlier migration creates it)") for f in found] == [
        True,
        False,
    ]


def test_drop_constraint_if_exists_of_what_is_no_constraint(tmp_path: Path) -> None:
    # authelia V0007: DROP CONSTRAINT IF EXISTS of every name an old version may have left,
    # some of them unique indexes (not constraints), some never there
    up = (
        "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_user_id_idx,\n"
        "    DROP CONSTRAINT IF EXISTS orders_pkey1, DROP CONSTRAINT IF EXISTS orders_pkey;"
    )
    found = [
        f for f in lint_findings(change(up), "drop-constraint", tmp_path) if "change" in f.path
    ]
    assert [f.message.split(" of ")[0] for f in found] == [
        "dropping primary key 'orders_pkey' (id)"
    ]


def test_drop_type_cascade_says_which_columns_go(tmp_path: Path) -> None:
    [f] = [
        f
        for f in lint_findings(change("DROP TYPE order_status CASCADE;"), "drop-object", tmp_path)
        if "change" in f.path
    ]
    assert "orders.status is dropped with its data" in f.message


def test_drop_function_names_the_trigger_calling_it(tmp_path: Path) -> None:
    [f] = [
        f
        for f in lint_findings(change("DROP FUNCTION touch();"), "drop-object", tmp_path)
        if "change" in f.path
    ]
    assert "orders_touch on orders" in f.message


def test_each_kind_of_drop_has_its_rule(tmp_path: Path) -> None:
    up = (
        "DROP VIEW user_orders;\nDROP SEQUENCE some_seq;\nDROP EXTENSION pg_trgm;\n"
        "DROP SCHEMA reporting CASCADE;\nDROP DATABASE analytics;\n"
        "ALTER TABLE orders DROP CONSTRAINT orders_pkey;\nTRUNCATE orders;"
    )
    assert found(change(up), tmp_path) == [
        ("drop-object", 3),
        ("drop-object", 4),
        ("drop-object", 5),
        ("drop-schema", 6),
        ("drop-database", 7),
        ("drop-constraint", 8),
        ("truncate-table", 9),
    ]


def test_truncate_cascade_lists_the_referencing_tables(tmp_path: Path) -> None:
    [f] = [
        f
        for f in lint_findings(change("TRUNCATE users CASCADE;"), "truncate-table", tmp_path)
        if "change" in f.path
    ]
    assert "CASCADE also empties" in f.message and "orders" in f.message


# ---------------------------------------------------------------- same migration, UP vs DOWN


def test_dropping_what_the_same_up_created_loses_nothing(tmp_path: Path) -> None:
    up = (
        "CREATE TABLE tmp_import (id bigint);\nDROP TABLE tmp_import;\n"
        "ALTER TABLE users ADD COLUMN scratch text;\nALTER TABLE users DROP COLUMN scratch;\n"
        "CREATE TYPE tmp_kind AS ENUM ('a');\nDROP TYPE tmp_kind;\n"
        "TRUNCATE tmp_import2;"
    )
    sql = change("CREATE TABLE tmp_import2 (id bigint);\n" + up)
    assert found(sql, tmp_path) == []


def test_down_that_drops_what_its_up_created_is_not_destructive(tmp_path: Path) -> None:
    up = (
        "CREATE TABLE audit (id bigint);\n"
        "ALTER TABLE users ADD COLUMN locale text;\n"
        "CREATE VIEW v AS SELECT 1;"
    )
    down = (
        "DELETE FROM audit;\nDROP VIEW v;\nALTER TABLE users DROP COLUMN locale;\nDROP TABLE audit;"
    )
    assert found(change(up, down), tmp_path) == []


def test_down_that_drops_what_existed_before_is_reported(tmp_path: Path) -> None:
    down = "ALTER TABLE users DROP COLUMN name;\nDROP TABLE orders;"
    assert found(change("SELECT 1;", down), tmp_path) == [("drop-column", 5), ("drop-table", 6)]


def test_down_reverting_a_rename_is_not_reported_but_the_up_is(tmp_path: Path) -> None:
    up = (
        "ALTER TABLE users RENAME COLUMN name TO full_name;\n"
        "ALTER TABLE orders RENAME TO purchases;"
    )
    down = (
        "ALTER TABLE purchases RENAME TO orders;\n"
        "ALTER TABLE users RENAME COLUMN full_name TO name;"
    )
    assert found(change(up, down), tmp_path) == [("rename-column", 3), ("rename-table", 4)]


def test_renamed_table_still_holds_its_rows(tmp_path: Path) -> None:
    up = (
        "ALTER TABLE orders RENAME TO purchases;\n"
        "CREATE VIEW orders AS SELECT * FROM purchases;\n"
        "DELETE FROM purchases;"
    )
    assert found(change(up), tmp_path) == [("dml-without-where", 5)]


def test_rename_object_kinds(tmp_path: Path) -> None:
    up = (
        "ALTER VIEW user_orders RENAME TO customer_orders;\n"
        "ALTER TYPE order_status RENAME VALUE 'paid' TO 'settled';\n"
        "ALTER INDEX orders_user_id_idx RENAME TO orders_uid_idx;\n"
        "ALTER FUNCTION touch() RENAME TO touch_row;"
    )
    assert found(change(up), tmp_path) == [
        ("rename-object", 3),
        ("rename-object", 4),
        ("rename-object", 6),
    ]


# ---------------------------------------------------------------- NOT NULL, DEFAULT


def test_not_null_without_default_on_existing_vs_new_table(tmp_path: Path) -> None:
    up = (
        "ALTER TABLE users ADD COLUMN locale text NOT NULL;\n"
        "ALTER TABLE users ADD COLUMN tz text NOT NULL DEFAULT 'UTC';\n"
        "ALTER TABLE users ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;\n"
        "ALTER TABLE users ADD COLUMN seq bigserial NOT NULL;\n"
        "CREATE TABLE fresh (id bigint);\nALTER TABLE fresh ADD COLUMN x text NOT NULL;"
    )
    assert found(change(up), tmp_path, "not-null-without-default") == [
        ("not-null-without-default", 3)
    ]


def test_drop_not_null_and_drop_default_skip_reverts_and_new_columns(tmp_path: Path) -> None:
    up = (
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n"
        "ALTER TABLE orders ALTER COLUMN note SET DEFAULT '';\n"
        "ALTER TABLE users ALTER COLUMN name DROP NOT NULL;\n"
        "ALTER TABLE users ALTER COLUMN email DROP DEFAULT;"
    )
    down = (
        "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;\n"  # revert of the UP: not reported
        "ALTER TABLE orders ALTER COLUMN note DROP DEFAULT;\n"
        "ALTER TABLE users ALTER COLUMN name SET NOT NULL;"
    )
    findings = lint_findings(change(up, down), ["drop-not-null", "drop-default"], tmp_path)
    assert [(f.rule, f.line) for f in findings if "change" in f.path] == [
        ("drop-not-null", 5),
        ("drop-default", 6),
    ]
    default = next(f for f in findings if f.rule == "drop-default")
    assert "not-null violation" in default.message  # email is NOT NULL


# ---------------------------------------------------------------- enums and version 12


def test_add_value_in_transaction_fails_below_12_only(tmp_path: Path) -> None:
    sql = change("ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'shipped';")
    assert found(sql, tmp_path / "11", "enum-value-in-transaction", pg_version=11) == [
        ("enum-value-in-transaction", 3)
    ]
    assert found(sql, tmp_path / "12", "enum-value-in-transaction", pg_version=12) == []


def test_add_value_outside_a_transaction_is_fine_on_11(tmp_path: Path) -> None:
    sql = change("-- +goose NO TRANSACTION\nALTER TYPE order_status ADD VALUE 'refunded';")
    assert (
        found(sql, tmp_path, "enum-value-in-transaction", pg_version=11, transaction="none") == []
    )


def test_new_value_used_in_the_same_transaction_from_12(tmp_path: Path) -> None:
    up = (
        "ALTER TYPE order_status ADD VALUE 'refunded';\n"
        "UPDATE orders SET status = 'refunded' WHERE note = 'r';"
    )
    [f] = [
        f
        for f in lint_findings(change(up), "enum-value-in-transaction", tmp_path)
        if "change" in f.path
    ]
    assert (f.line, f.column) == (4, 19)  # points at the assignment using the literal
    # after an explicit COMMIT the value is usable
    up2 = (
        "BEGIN;\n"
        "ALTER TYPE order_status ADD VALUE 'refunded';\n"
        "COMMIT;\n"
        "UPDATE orders SET status = 'refunded' WHERE note = 'r';"
    )
    assert found(change(up2), tmp_path / "2", "enum-value-in-transaction", transaction="none") == []


def test_enum_created_in_the_same_transaction_may_get_values(tmp_path: Path) -> None:
    up = "CREATE TYPE size AS ENUM ('s', 'm');\nALTER TYPE size ADD VALUE 'l';"
    assert found(change(up), tmp_path, "enum-value-in-transaction", pg_version=11) == []


def test_enum_value_order(tmp_path: Path) -> None:
    up = (
        "ALTER TYPE order_status ADD VALUE 'refunded';\n"
        "ALTER TYPE order_status ADD VALUE 'packed' BEFORE 'shipped';"
    )
    found_ = lint_findings(change(up), "enum-value-order", tmp_path)
    assert [(f.rule, f.line) for f in found_ if "change" in f.path] == [("enum-value-order", 3)]
    assert "after 'shipped'" in found_[0].message


def test_add_value_really_is_unusable_before_commit(pg_db: str) -> None:
    """The PostgreSQL fact the rule relies on, on the scratch server."""
    with psycopg.connect(pg_db) as conn:
        conn.execute("SET lock_timeout = '2s'")
        conn.execute("CREATE TYPE st AS ENUM ('a')")
        conn.commit()
        conn.execute("ALTER TYPE st ADD VALUE 'b'")  # psycopg opened a transaction: allowed from 12
        with pytest.raises(psycopg.errors.UnsafeNewEnumValueUsage):
            conn.execute("SELECT 'b'::st")
        conn.rollback()


# ---------------------------------------------------------------- UPDATE / DELETE, backfills


def test_update_delete_without_where(tmp_path: Path) -> None:
    up = (
        "UPDATE users SET name = '';\nDELETE FROM orders;\nDELETE FROM orders WHERE id = 1;\n"
        "CREATE TABLE staging (id bigint);\nDELETE FROM staging;"
    )
    assert found(change(up), tmp_path, "dml-without-where") == [
        ("dml-without-where", 3),
        ("dml-without-where", 4),
    ]


def test_backfill_after_ddl_in_the_same_transaction(tmp_path: Path) -> None:
    up = (
        "ALTER TABLE users ADD COLUMN locale text;\n"
        "UPDATE users SET locale = 'pt' WHERE locale IS NULL;"
    )
    [f] = [
        f for f in lint_findings(change(up), "backfill-with-ddl", tmp_path) if "change" in f.path
    ]
    assert f.line == 4 and "line 3" in f.message
    # without a transaction the DDL's locks are released before the UPDATE
    assert found(change(up), tmp_path / "none", "backfill-with-ddl", transaction="none") == []
    # a targeted UPDATE is not a backfill of the whole table
    targeted = (
        "ALTER TABLE users ADD COLUMN locale text;\nUPDATE users SET locale = 'pt' WHERE id < 1000;"
    )
    assert found(change(targeted), tmp_path / "t", "backfill-with-ddl") == []
    # nakama: COMMIT; BEGIN; between them ends the DDL's transaction and its locks
    committed = (
        "ALTER TABLE users ADD COLUMN locale text;\nCOMMIT;\nBEGIN;\n"
        "UPDATE users SET locale = 'pt' WHERE locale IS NULL;"
    )
    assert found(change(committed), tmp_path / "c", "backfill-with-ddl") == []
    # data only: nothing held
    assert (
        found(
            change("UPDATE users SET name = '' WHERE name IS NULL;"),
            tmp_path / "d",
            "backfill-with-ddl",
        )
        == []
    )


def test_destructive_rules_are_warnings_and_database_drop_is_an_error(tmp_path: Path) -> None:
    findings = lint_findings(change("DROP TABLE orders;\nDROP DATABASE x;"), DESTRUCTIVE, tmp_path)
    assert {f.rule: f.severity for f in findings} == {
        "drop-table": "warning",
        "drop-database": "error",
    }
    assert ids(findings) == ["drop-table", "drop-database"]


def test_not_null_column_on_a_table_emptied_first(tmp_path: Path) -> None:
    up = (
        "DELETE FROM users;\n"
        "ALTER TABLE users ADD COLUMN locale text NOT NULL;\n"
        "ALTER TABLE orders ADD COLUMN x text NOT NULL;"
    )
    assert found(change(up), tmp_path, "not-null-without-default") == [
        ("not-null-without-default", 5)
    ]


def test_copy_and_swap_and_replaced_constraints_and_defaults(tmp_path: Path) -> None:
    up = (
        "ALTER TABLE users ADD COLUMN name_new varchar(200);\n"
        "UPDATE users SET name_new = name WHERE id > 0;\n"
        "ALTER TABLE users DROP COLUMN name;\n"  # line 5: swapped below, not lost
        "ALTER TABLE users RENAME COLUMN name_new TO name;\n"
        # replaced in the same statement
        "ALTER TABLE orders DROP CONSTRAINT orders_pkey, ADD PRIMARY KEY (id, user_id);\n"
        "ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey;\n"  # replaced by the next one
        "ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES "
        "users ON DELETE CASCADE;\n"
        "ALTER TABLE users ALTER COLUMN email DROP DEFAULT;\n"  # type change dance: set again below
        "ALTER TABLE users ALTER COLUMN email TYPE varchar(300);\n"
        "ALTER TABLE users ALTER COLUMN email SET DEFAULT '';\n"
        "ALTER TABLE orders DROP COLUMN note;"
    )
    assert found(change(up), tmp_path) == [("drop-column", 13)]


def test_view_function_and_trigger_recreated_in_the_same_section(tmp_path: Path) -> None:
    up = (
        "DROP VIEW user_orders;\nCREATE VIEW user_orders AS SELECT u.id FROM users u;\n"
        "DROP TRIGGER orders_touch ON orders;\nCREATE TRIGGER orders_touch BEFORE INSERT ON orders "
        "FOR EACH ROW EXECUTE FUNCTION touch();\n"
        "DROP FUNCTION touch() CASCADE;\n"
    )
    assert found(change(up), tmp_path, "drop-object") == [("drop-object", 7)]


def test_down_dropping_a_column_its_up_re_added_under_an_old_name(tmp_path: Path) -> None:
    up = (
        "ALTER TABLE users RENAME COLUMN name TO display_name;\n"
        "ALTER TABLE users ADD COLUMN name varchar(50);"
    )
    down = (
        "ALTER TABLE users DROP COLUMN name;\nALTER TABLE users RENAME COLUMN display_name TO name;"
    )
    assert found(change(up, down), tmp_path, "drop-column") == []


def test_dependants_are_judged_just_before_the_drop(tmp_path: Path) -> None:
    up = (
        "DROP TABLE orders;\n"
        "DROP TABLE users;\n"
        "ALTER TABLE x DROP COLUMN y;\n"
        "DROP TYPE order_status;"
    )
    found_ = [
        f
        for f in lint_findings(change(up), ["drop-table", "drop-object"], tmp_path)
        if "change" in f.path
    ]
    users = next(f for f in found_ if "'users'" in f.message)
    assert "foreign keys" not in users.message  # orders, which referenced it, is already gone
    status = next(f for f in found_ if f.rule == "drop-object")
    assert "column" not in status.message  # its only column went with orders


def test_objects_created_inside_a_do_block_are_new(tmp_path: Path) -> None:
    up = (
        "DO $$ BEGIN\n"
        "  CREATE TABLE users_new (id bigint PRIMARY KEY);\n"
        "  DROP TABLE users;\n"
        "  ALTER TABLE users_new RENAME TO users;\n"
        "END $$;"
    )
    assert found(change(up), tmp_path, ["drop-table", "rename-table"]) == [("drop-table", 5)]


def test_backfill_is_judged_on_null_columns_the_migration_added(tmp_path: Path) -> None:
    """`IS NULL` matches every row only on a column just added without a default."""
    ddl = "ALTER TABLE users ADD COLUMN locale text;\n"
    cases = {
        "UPDATE users SET locale = 'pt' WHERE name IS NULL;": [],  # existing column: a filter
        "UPDATE users SET locale = 'pt' WHERE locale IS NOT NULL;": [],  # matches no row
        "UPDATE users SET locale = 'pt';": [("backfill-with-ddl", 4)],
    }
    for i, (update, expected) in enumerate(cases.items()):
        assert found(change(ddl + update), tmp_path / str(i), "backfill-with-ddl") == expected
    with_default = "ALTER TABLE users ADD COLUMN locale text DEFAULT 'en';\n"
    update = "UPDATE users SET locale = 'pt' WHERE locale IS NULL;"
    assert found(change(with_default + update), tmp_path / "d", "backfill-with-ddl") == []
