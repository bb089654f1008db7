"""Edge cases of the locking, rewrite and timeout rules: both sides of every PostgreSQL version
boundary, transaction boundaries (runner directives, explicit BEGIN/COMMIT, `transaction`
config), same-migration boundaries (tables created earlier in the file), DOWN sections that revert
their UP, and the example project's markers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pgpreflight.linter.config import load_config
from pgpreflight.linter.engine import lint
from pgpreflight.linter.facts import duration_ms

from tests.helpers import ids, lint_findings, make_config

REPO = Path(__file__).resolve().parents[1]
NO_TX = "-- +goose NO TRANSACTION\n-- +goose Up\n"
EXAMPLE = REPO / "examples" / "assist-move-assist"

LOCK_RULES = [
    "require-concurrent-index",
    "require-concurrent-index-drop",
    "require-concurrent-reindex",
    "concurrently-in-transaction",
    "concurrent-index-corruption-risk",
    "require-concurrent-detach",
    "attach-partition-without-check",
    "require-concurrent-refresh",
    "vacuum-full-or-cluster",
    "column-type-rewrite",
    "add-column-volatile-default",
    "add-column-rewrite",
    "set-not-null-without-check",
    "constraint-without-not-valid",
    "validate-in-same-transaction",
    "unique-without-index",
    "exclusion-constraint",
    "domain-constraint",
    "trigger-on-existing-table",
    "table-rewrite-option",
    "multiple-alter-table",
    "statement-after-access-exclusive",
    "require-lock-timeout",
    "require-statement-timeout",
    "lock-timeout-too-long",
]

ORDERS = (
    "-- file: 202301011200__orders.sql\n"
    "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, total numeric(10,2),"
    " note varchar(20), at timestamp);\n"
    "-- file: 202401011200__change.sql\n"
)


# ------------------------------------------------------------------ version boundaries


@pytest.mark.parametrize(("version", "fires"), [("10", True), ("11", False), ("15", False)])
def test_constant_default_rewrites_only_before_11(
    tmp_path: Path, version: str, fires: bool
) -> None:
    sql = "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new';"
    assert (
        bool(lint_findings(sql, "add-column-volatile-default", tmp_path, pg_version=version))
        == fires
    )


@pytest.mark.parametrize("version", ["10", "11", "17"])
def test_volatile_default_rewrites_on_every_version(tmp_path: Path, version: str) -> None:
    sql = "ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();"
    found = lint_findings(sql, "add-column-volatile-default", tmp_path, pg_version=version)
    assert ids(found) == ["add-column-volatile-default"]
    assert "gen_random_uuid()" in found[0].message


@pytest.mark.parametrize("expr", ["now()", "CURRENT_TIMESTAMP", "'x'", "0", "lower('A')", "NULL"])
def test_stable_defaults_are_fine_from_11(tmp_path: Path, expr: str) -> None:
    sql = f"ALTER TABLE orders ADD COLUMN c text DEFAULT {expr};"
    assert lint_findings(sql, "add-column-volatile-default", tmp_path) == []


def test_null_default_does_not_rewrite_before_11(tmp_path: Path) -> None:
    sql = "ALTER TABLE orders ADD COLUMN c text DEFAULT NULL;"
    assert lint_findings(sql, "add-column-volatile-default", tmp_path, pg_version="10") == []


SET_NOT_NULL_WITH_CHECK = ORDERS.replace("202401011200__change", "202401011100__check") + (
    "ALTER TABLE orders ADD CONSTRAINT ck CHECK (customer_id IS NOT NULL) NOT VALID;\n"
    "-- file: 202401011150__validate.sql\nALTER TABLE orders VALIDATE CONSTRAINT ck;\n"
    "-- file: 202401011200__not_null.sql\nALTER TABLE orders ALTER COLUMN customer_id SET NOT "
    "NULL;\n"
)


@pytest.mark.parametrize(("version", "fires"), [("11", True), ("12", False), ("15", False)])
def test_set_not_null_uses_validated_check_from_12(
    tmp_path: Path, version: str, fires: bool
) -> None:
    found = lint_findings(
        SET_NOT_NULL_WITH_CHECK, "set-not-null-without-check", tmp_path, pg_version=version
    )
    assert bool(found) == fires
    if fires:
        assert "always scans" in (found[0].hint or "")


def test_set_not_null_with_unvalidated_check_still_scans(tmp_path: Path) -> None:
    sql = SET_NOT_NULL_WITH_CHECK.replace("ALTER TABLE orders VALIDATE CONSTRAINT ck;", "SELECT 1;")
    found = lint_findings(sql, "set-not-null-without-check", tmp_path)
    assert ids(found) == ["set-not-null-without-check"]
    assert found[0].line == 1 and "NOT VALID" in (found[0].hint or "")


def test_set_not_null_after_check_validated_earlier_in_same_file(tmp_path: Path) -> None:
    sql = (
        "ALTER TABLE orders ADD CONSTRAINT ck CHECK (customer_id IS NOT NULL);\n"
        "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;\n"
    )
    assert lint_findings(sql, "set-not-null-without-check", tmp_path) == []


@pytest.mark.parametrize(("version", "concurrently_in_hint"), [("11", False), ("12", True)])
def test_reindex_hint_depends_on_version(
    tmp_path: Path, version: str, concurrently_in_hint: bool
) -> None:
    found = lint_findings(
        "REINDEX TABLE orders;", "require-concurrent-reindex", tmp_path, pg_version=version
    )
    assert ids(found) == ["require-concurrent-reindex"]
    assert ("REINDEX TABLE CONCURRENTLY orders" in (found[0].hint or "")) == concurrently_in_hint


def test_reindex_concurrently_is_fine(tmp_path: Path) -> None:
    sql = "-- +goose NO TRANSACTION\n-- +goose Up\nREINDEX INDEX CONCURRENTLY idx;\n"
    assert lint_findings(sql, "require-concurrent-reindex", tmp_path) == []


@pytest.mark.parametrize(("version", "severity"), [("13", "warning"), ("14", "error")])
def test_detach_concurrently_exists_from_14(tmp_path: Path, version: str, severity: str) -> None:
    sql = "ALTER TABLE events DETACH PARTITION events_2020;"
    found = lint_findings(sql, "require-concurrent-detach", tmp_path, pg_version=version)
    assert [f.severity for f in found] == [severity]
    assert ("CONCURRENTLY" in (found[0].hint or "")) == (version == "14")


@pytest.mark.parametrize(
    ("version", "fires"),
    [
        ("13.9", False),
        ("14.0", True),
        ("14.3", True),
        ("14.4", False),
        ("14", False),
        ("15", False),
    ],
)
def test_cic_corruption_window_14_0_to_14_3(tmp_path: Path, version: str, fires: bool) -> None:
    sql = NO_TX + "CREATE INDEX CONCURRENTLY idx ON orders (customer_id);\n"
    found = lint_findings(sql, "concurrent-index-corruption-risk", tmp_path, pg_version=version)
    assert bool(found) == fires


@pytest.mark.parametrize(
    ("version", "utc", "fires"), [("11", True, True), ("12", True, False), ("12", False, True)]
)
def test_timestamptz_change_is_catalog_only_from_12_in_utc(
    tmp_path: Path, version: str, utc: bool, fires: bool
) -> None:
    sql = ORDERS + "ALTER TABLE orders ALTER COLUMN at TYPE timestamptz;\n"
    found = lint_findings(
        sql,
        "column-type-rewrite",
        tmp_path,
        pg_version=version,
        rules={"column-type-rewrite": {"utc-session": utc}},
    )
    assert bool(found) == fires


@pytest.mark.parametrize(
    ("new", "fires"),
    [
        ("varchar(50)", False),
        ("text", False),
        ("varchar(10)", True),
        ("numeric(12,2)", False),
        ("numeric(12,3)", True),
        ("bigint", False),
    ],
)
def test_type_change_safe_list(tmp_path: Path, new: str, fires: bool) -> None:
    column = "id" if new == "bigint" else ("total" if new.startswith("numeric") else "note")
    sql = ORDERS + f"ALTER TABLE orders ALTER COLUMN {column} TYPE {new};\n"
    found = lint_findings(sql, "column-type-rewrite", tmp_path)
    # bigint from bigint is no change at all
    assert bool(found) == fires


def test_type_change_of_unknown_column_is_a_warning(tmp_path: Path) -> None:
    found = lint_findings(
        "ALTER TABLE legacy ALTER COLUMN a TYPE text;", "column-type-rewrite", tmp_path
    )
    assert [f.severity for f in found] == ["warning"]


@pytest.mark.parametrize(
    ("change", "rewrites"),
    [
        # USING that only restates the conversion: the types decide (varchar -> text is free)
        ("note TYPE text USING note::text", False),
        ("note TYPE text USING note", False),
        ("note TYPE text USING orders.note::text", False),
        # USING that computes something rewrites, whatever the types
        ("note TYPE text USING lower(note)", True),
        ("note TYPE text USING note::varchar(10)::text", True),
        ("total TYPE numeric(12,2) USING total * 100", True),
        # a restated conversion between types that are not binary compatible still rewrites
        ("customer_id TYPE text USING customer_id::text", True),
    ],
)
def test_type_change_with_using_rewrites_only_when_it_computes(
    tmp_path: Path, change: str, rewrites: bool
) -> None:
    sql = ORDERS + f"ALTER TABLE orders ALTER COLUMN {change};\n"
    found = ids(lint_findings(sql, "column-type-rewrite", tmp_path))
    assert found == (["column-type-rewrite"] if rewrites else [])


# ------------------------------------------------------------------ transaction boundaries

CIC = "CREATE INDEX CONCURRENTLY idx ON orders (customer_id);\n"


def test_cic_in_goose_file_without_directive_fails(tmp_path: Path) -> None:
    found = lint_findings("-- +goose Up\n" + CIC, "concurrently-in-transaction", tmp_path)
    assert ids(found) == ["concurrently-in-transaction"]
    assert found[0].line == 2 and "NO TRANSACTION" in (found[0].hint or "")


def test_cic_with_goose_no_transaction_is_fine(tmp_path: Path) -> None:
    sql = "-- +goose NO TRANSACTION\n-- +goose Up\n" + CIC
    assert lint_findings(sql, "concurrently-in-transaction", tmp_path) == []


@pytest.mark.parametrize(("mode", "fires"), [("per-file", True), ("none", False), ("auto", False)])
def test_transaction_config(tmp_path: Path, mode: str, fires: bool) -> None:
    sql = "SET lock_timeout = '2s';\n" + CIC
    assert (
        bool(lint_findings(sql, "concurrently-in-transaction", tmp_path, transaction=mode)) == fires
    )


def test_explicit_begin_commit_in_unwrapped_file(tmp_path: Path) -> None:
    sql = "BEGIN;\n" + CIC + "COMMIT;\n" + CIC.replace("idx", "idx2")
    found = lint_findings(sql, "concurrently-in-transaction", tmp_path, transaction="none")
    assert [f.line for f in found] == [2]
    assert "BEGIN and COMMIT" in found[0].message


def test_auto_mode_still_wraps_files_without_concurrently(tmp_path: Path) -> None:
    sql = (
        "ALTER TABLE orders ADD CONSTRAINT ck CHECK (total > 0) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT ck;\n"
    )
    assert ids(
        lint_findings(sql, "validate-in-same-transaction", tmp_path, transaction="auto")
    ) == ["validate-in-same-transaction"]


@pytest.mark.parametrize(
    ("prefix", "fires"),
    [
        ("", True),
        ("-- +goose NO TRANSACTION\n-- +goose Up\n", False),
        ("-- migrate:up transaction:false\n", False),
    ],
)
def test_validate_in_same_transaction_follows_runner(
    tmp_path: Path, prefix: str, fires: bool
) -> None:
    sql = prefix + (
        "ALTER TABLE orders ADD CONSTRAINT ck CHECK (total > 0) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT ck;\n"
    )
    assert bool(lint_findings(sql, "validate-in-same-transaction", tmp_path)) == fires


def test_validate_after_commit_is_fine(tmp_path: Path) -> None:
    sql = (
        "BEGIN;\nALTER TABLE orders ADD CONSTRAINT ck CHECK (total > 0) NOT VALID;\nCOMMIT;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT ck;\n"
    )
    assert lint_findings(sql, "validate-in-same-transaction", tmp_path, transaction="none") == []
    assert (
        lint_findings(sql, "statement-after-access-exclusive", tmp_path, transaction="none") == []
    )


def test_statement_after_access_exclusive(tmp_path: Path) -> None:
    sql = (
        "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN status text;\n"
        "ALTER TABLE orders ADD CONSTRAINT ck CHECK (status <> '') NOT VALID;\n"  # brief: fine
        "UPDATE orders SET status = 'new';\n"
    )
    found = lint_findings(sql, "statement-after-access-exclusive", tmp_path)
    assert [f.line for f in found] == [4]
    assert "line 2" in found[0].message
    no_tx = "-- +goose NO TRANSACTION\n-- +goose Up\n" + sql
    assert lint_findings(no_tx, "statement-after-access-exclusive", tmp_path / "b") == []


def test_lock_on_second_table_after_access_exclusive_needs_lock_timeout(tmp_path: Path) -> None:
    sql = "ALTER TABLE orders ADD COLUMN a text;\nALTER TABLE customers ADD COLUMN b text;\n"
    assert [f.line for f in lint_findings(sql, "statement-after-access-exclusive", tmp_path)] == [2]
    guarded = "SET lock_timeout = '2s';\n" + sql
    assert lint_findings(guarded, "statement-after-access-exclusive", tmp_path / "b") == []


@pytest.mark.parametrize(
    ("setting", "fires"),
    [
        ("SET lock_timeout = '2s';", False),
        ("SET lock_timeout TO 2000;", False),
        ("SET LOCAL lock_timeout = '2s';", False),
        ("SET lock_timeout = 0;", True),
        ("SET lock_timeout = '2s'; RESET lock_timeout;", True),
        ("SET statement_timeout = '2s';", True),
        ("", True),
    ],
)
def test_lock_timeout_settings(tmp_path: Path, setting: str, fires: bool) -> None:
    sql = setting + "\nALTER TABLE orders ADD COLUMN a text;\n"
    assert bool(lint_findings(sql, "require-lock-timeout", tmp_path)) == fires


def test_set_local_outside_a_transaction_does_nothing(tmp_path: Path) -> None:
    sql = NO_TX + "SET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN a text;\n"
    assert [f.line for f in lint_findings(sql, "require-lock-timeout", tmp_path)] == [4]


def test_set_local_ends_with_its_transaction(tmp_path: Path) -> None:
    sql = (
        "BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN a text;\nCOMMIT;\n"
        "ALTER TABLE orders ADD COLUMN b text;\n"
    )
    assert [
        f.line for f in lint_findings(sql, "require-lock-timeout", tmp_path, transaction="none")
    ] == [5]


def test_lock_timeout_is_per_section(tmp_path: Path) -> None:
    sql = (
        "-- UP\nSET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY i ON orders (a);\n"
        "-- DOWN\nALTER TABLE orders ADD COLUMN a text;\n"
    )
    found = lint_findings(sql, "require-lock-timeout", tmp_path, transaction="auto")
    assert [(f.line, f.section) for f in found] == [(5, "down")]


def test_non_blocking_locks_need_no_lock_timeout(tmp_path: Path) -> None:
    sql = (
        "-- +goose NO TRANSACTION\n-- +goose Up\n"
        + CIC
        + "ALTER TABLE orders VALIDATE CONSTRAINT ck;\n"
    )
    assert lint_findings(sql, "require-lock-timeout", tmp_path) == []


def test_statement_timeout_only_for_long_blocking_work(tmp_path: Path) -> None:
    sql = (
        "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN a text;\n"
        "ALTER TABLE orders ADD CONSTRAINT ck CHECK (total > 0);\n"
    )
    assert [f.line for f in lint_findings(sql, "require-statement-timeout", tmp_path)] == [3]
    guarded = "SET LOCAL statement_timeout = '5s';\n" + sql
    assert lint_findings(guarded, "require-statement-timeout", tmp_path / "b") == []


@pytest.mark.parametrize(
    ("value", "fires"),
    [
        ("'2s'", False),
        ("'10s'", False),
        ("'11s'", True),
        ("'1min'", True),
        ("0", True),
        ("5000", False),
    ],
)
def test_lock_timeout_too_long(tmp_path: Path, value: str, fires: bool) -> None:
    assert (
        bool(lint_findings(f"SET lock_timeout = {value};\n", "lock-timeout-too-long", tmp_path))
        == fires
    )


def test_lock_timeout_max_option(tmp_path: Path) -> None:
    found = lint_findings(
        "SET lock_timeout = '5s';\n",
        "lock-timeout-too-long",
        tmp_path,
        rules={"lock-timeout-too-long": {"max": "3s"}},
    )
    assert ids(found) == ["lock-timeout-too-long"]


def test_duration_parsing() -> None:
    assert duration_ms("2s") == 2000 and duration_ms("1min") == 60_000 and duration_ms("250") == 250
    assert duration_ms("500ms") == 500 and duration_ms(None) is None and duration_ms("soon") is None


@pytest.mark.parametrize(
    ("prefix", "fires"), [("", False), ("-- +goose NO TRANSACTION\n-- +goose Up\n", True)]
)
def test_multiple_alter_table_only_when_merging_helps(
    tmp_path: Path, prefix: str, fires: bool
) -> None:
    sql = (
        prefix
        + "SET lock_timeout = '2s';\n"
        + "ALTER TABLE orders ADD COLUMN a text;\nALTER TABLE orders ADD COLUMN b text;\n"
    )
    assert bool(lint_findings(sql, "multiple-alter-table", tmp_path)) == fires


def test_multiple_alter_table_with_two_scans_in_one_transaction(tmp_path: Path) -> None:
    sql = (
        "ALTER TABLE orders ADD CONSTRAINT a CHECK (total > 0);\n"
        "ALTER TABLE orders ADD CONSTRAINT b CHECK (total < 1000);\n"
    )
    found = lint_findings(sql, "multiple-alter-table", tmp_path)
    assert [f.line for f in found] == [2] and "2 of them read the whole table" in found[0].message


# ------------------------------------------------------------------ same-migration boundaries


def test_index_on_table_created_earlier_in_file_is_fine(tmp_path: Path) -> None:
    sql = "CREATE TABLE t (id bigint PRIMARY KEY, a int);\nCREATE INDEX t_a ON t (a);\n"
    assert lint_findings(sql, "require-concurrent-index", tmp_path) == []


def test_index_on_table_created_by_earlier_migration_fires(tmp_path: Path) -> None:
    sql = (
        "-- file: 202301011200__t.sql\nCREATE TABLE t (id bigint PRIMARY KEY, a int);\n"
        "-- file: 202401011200__idx.sql\nCREATE INDEX t_a ON t (a);\n"
    )
    found = lint_findings(sql, "require-concurrent-index", tmp_path)
    assert [(Path(f.path).name, f.line, f.column) for f in found] == [
        ("202401011200__idx.sql", 1, 1)
    ]
    assert "SHARE on 't'" in found[0].message and "blocking writes" in found[0].message


def test_fk_in_create_table_locks_existing_referenced_table(tmp_path: Path) -> None:
    sql = "CREATE TABLE sessions (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id));\n"
    found = lint_findings(sql, "require-lock-timeout", tmp_path)
    assert ids(found) == ["require-lock-timeout"]
    assert "'users'" in found[0].message and "referenced table" in found[0].message
    same_file = "CREATE TABLE users (id bigint PRIMARY KEY);\n" + sql
    assert lint_findings(same_file, "require-lock-timeout", tmp_path / "b") == []


def test_fk_message_names_both_tables(tmp_path: Path) -> None:
    sql = "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers;\n"
    found = lint_findings(sql, "constraint-without-not-valid", tmp_path)
    assert "'orders' and 'customers'" in found[0].message and "writes to both" in found[0].message
    assert "NOT VALID" in (found[0].hint or "") and "VALIDATE CONSTRAINT fk" in (
        found[0].hint or ""
    )


def test_constraint_on_table_created_in_same_migration_is_fine(tmp_path: Path) -> None:
    sql = (
        "CREATE TABLE t (id bigint PRIMARY KEY, a int);\n"
        "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0);\n"
        "ALTER TABLE t ADD CONSTRAINT uq UNIQUE (a);\n"
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\n"
    )
    assert lint_findings(sql, LOCK_RULES, tmp_path) == []


def test_inline_references_on_added_column(tmp_path: Path) -> None:
    sql = "ALTER TABLE orders ADD COLUMN coupon_id bigint REFERENCES coupons (id);\n"
    found = lint_findings(sql, "constraint-without-not-valid", tmp_path)
    assert "new column 'coupon_id'" in found[0].message


def test_down_reverting_up_gets_no_forward_alarm(tmp_path: Path) -> None:
    sql = (
        "-- UP\nSET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY i ON orders (a);\n"
        "ALTER TABLE orders ADD COLUMN b text;\n"
        "-- DOWN\nSET lock_timeout = '2s';\nDROP INDEX i;\nALTER TABLE orders DROP COLUMN b;\n"
    )
    found = lint_findings(sql, "require-concurrent-index-drop", tmp_path, transaction="none")
    assert found == []


def test_down_dropping_an_index_up_did_not_create_fires(tmp_path: Path) -> None:
    sql = "-- UP\nSELECT 1;\n-- DOWN\nSET lock_timeout = '2s';\nDROP INDEX idx_orders_status;\n"
    found = lint_findings(sql, "require-concurrent-index-drop", tmp_path)
    assert [(f.line, f.section) for f in found] == [(5, "down")]


def test_drop_index_if_exists_of_an_index_never_created_does_nothing(tmp_path: Path) -> None:
    # kestra's squashed V1_1 keeps `DROP INDEX IF EXISTS queues_offset`, created only by V1_4,
    # and drops indexes before the CREATE of the same name further down; supabase auth too
    sql = (
        "-- file: 202401010000__a.sql\n-- UP\nCREATE TABLE q (id int);\n"
        "-- file: 202401020000__b.sql\n-- UP\nDROP INDEX IF EXISTS q_offset;\n"
        "DROP INDEX IF EXISTS q_id;\nCREATE INDEX q_id ON q (id);\n"
        "-- file: 202401030000__c.sql\n-- UP\nDROP INDEX IF EXISTS q_id;\n"
    )
    rules = ["require-concurrent-index-drop", "require-lock-timeout"]
    found = lint_findings(sql, rules, tmp_path)
    # concourse: an index on a materialized view (not modelled) hides that index only
    view = sql.replace(
        "CREATE TABLE q (id int);",
        "CREATE TABLE q (id int);\nCREATE MATERIALIZED VIEW v AS SELECT id FROM q;\n"
        "CREATE INDEX v_id ON v (id);",
    )
    in_view = lint_findings(view, rules, tmp_path / "view")
    assert sorted((Path(f.path).name, f.line, f.rule) for f in in_view) == sorted(
        (Path(f.path).name, f.line, f.rule) for f in found
    )
    assert sorted((Path(f.path).name, f.line, f.rule) for f in found) == [
        ("202401020000__b.sql", 4, "require-lock-timeout"),  # the CREATE INDEX on q
        ("202401030000__c.sql", 2, "require-concurrent-index-drop"),
        ("202401030000__c.sql", 2, "require-lock-timeout"),
    ]


def test_large_tables_raise_severity(tmp_path: Path) -> None:
    sql = "CREATE TRIGGER trg BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION f();\n"
    assert [f.severity for f in lint_findings(sql, "trigger-on-existing-table", tmp_path)] == [
        "warning"
    ]
    found = lint_findings(sql, "trigger-on-existing-table", tmp_path / "b", large_tables=["ord*"])
    assert [f.severity for f in found] == ["error"]


def test_statement_inside_do_block_is_checked(tmp_path: Path) -> None:
    sql = "DO $$ BEGIN\n  CREATE INDEX idx ON orders (customer_id);\nEND $$;\n"
    found = lint_findings(sql, "require-concurrent-index", tmp_path)
    assert [f.line for f in found] == [2]


def test_domain_constraint_names_tables_using_it(tmp_path: Path) -> None:
    sql = (
        "-- file: 202301011200__d.sql\nCREATE DOMAIN amount AS numeric;\n"
        "CREATE TABLE orders (id bigint PRIMARY KEY, total amount);\n"
        "-- file: 202401011200__c.sql\nALTER DOMAIN amount ADD CONSTRAINT amount_pos CHECK "
        "(VALUE > 0);\n"
    )
    found = lint_findings(sql, "domain-constraint", tmp_path)
    assert "'orders'" in found[0].message and "SHARE" in found[0].message
    not_valid = sql.replace("(VALUE > 0);", "(VALUE > 0) NOT VALID;")
    assert lint_findings(not_valid, "domain-constraint", tmp_path / "b") == []


def test_attach_partition_with_validated_check_is_fine(tmp_path: Path) -> None:
    sql = (
        "-- file: 202301011200__p.sql\nCREATE TABLE m (d date NOT NULL) PARTITION BY RANGE (d);\n"
        "CREATE TABLE m24 (d date NOT NULL, CONSTRAINT b CHECK (d >= '2024-01-01' AND d < "
        "'2025-01-01'));\n"
        "-- file: 202401011200__a.sql\nALTER TABLE m ATTACH PARTITION m24 FOR VALUES FROM "
        "('2024-01-01') TO ('2025-01-01');\n"
    )
    assert lint_findings(sql, "attach-partition-without-check", tmp_path) == []
    new_partition = (
        "CREATE TABLE m25 (d date NOT NULL);\n"
        "ALTER TABLE m ATTACH PARTITION m25 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n"
    )
    assert lint_findings(new_partition, "attach-partition-without-check", tmp_path / "b") == []


# ------------------------------------------------------------------ the example project

_MARKER = re.compile(r"\[([a-z0-9-]+)\]")


def _markers(path: Path) -> set[tuple[int, str]]:
    out: set[tuple[int, str]] = set()
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        _, sep, comment = line.partition("--")
        # end-of-line comments after code, and the file's first line (a marker on the file)
        if sep and (line.split("--", 1)[0].strip() or number == 1):
            out.update((number, rule) for rule in _MARKER.findall(comment))
    return out


def test_example_project_markers_match_lock_rules() -> None:
    config = load_config(EXAMPLE / "pgpreflight.toml")
    config.values["select"] = LOCK_RULES
    result = lint(config.migration_paths(), config)
    found = {(Path(f.path).name, f.line, f.rule) for f in result.findings}
    expected = set()
    for path in sorted((EXAMPLE / "apps/backend/src/database/migrations").glob("*.sql")):
        expected |= {(path.name, line, rule) for line, rule in _markers(path) if rule in LOCK_RULES}
    assert expected, "the example marks no lock finding"
    assert found == expected


# ------------------------------------------------------------------ found on real histories


def test_analyze_runs_in_a_transaction(tmp_path: Path) -> None:
    sql = "ALTER TABLE orders ADD COLUMN a text;\nANALYZE orders;\nVACUUM orders;\n"
    found = lint_findings(sql, "concurrently-in-transaction", tmp_path)
    assert [f.line for f in found] == [3]


def test_one_timeout_finding_per_section_counts_the_others(tmp_path: Path) -> None:
    sql = (
        "-- UP\nALTER TABLE orders ADD COLUMN a text;\nCREATE INDEX i ON orders (a);\n"
        "ALTER TABLE orders ADD CONSTRAINT ck CHECK (total > 0);\n"
        "-- DOWN\nALTER TABLE customers ADD COLUMN z text;\n"
    )
    found = lint_findings(sql, "require-lock-timeout", tmp_path)
    assert [(f.line, f.section) for f in found] == [(2, "up"), (6, "down")]
    assert "2 more lock-taking statements follow" in found[0].message
    found = lint_findings(sql, "require-statement-timeout", tmp_path / "b")
    assert [f.line for f in found] == [3] and "1 more such statements follow" in found[0].message


def test_one_finding_per_held_access_exclusive(tmp_path: Path) -> None:
    sql = (
        "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN a text;\n"
        "UPDATE orders SET a = 'x';\nCREATE INDEX i ON orders (a);\n"
    )
    found = lint_findings(sql, "statement-after-access-exclusive", tmp_path)
    assert [f.line for f in found] == [3] and "1 more statements after it" in found[0].message


@pytest.mark.parametrize(
    ("up", "down"),
    [
        (
            "ALTER TABLE orders ALTER COLUMN note TYPE text;",
            "ALTER TABLE orders ALTER COLUMN note TYPE varchar(20);",
        ),
        (
            "DROP INDEX CONCURRENTLY idx_orders_status;",
            "CREATE INDEX idx_orders_status ON orders (status);",
        ),
        (
            "ALTER TABLE orders DROP CONSTRAINT uq_code;",
            "ALTER TABLE orders ADD CONSTRAINT uq_code UNIQUE (code);",
        ),
        (
            "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;",
            "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;",
        ),
        (
            "ALTER TABLE orders RENAME COLUMN note TO remark;",
            "ALTER TABLE orders RENAME COLUMN remark TO note;",
        ),
    ],
)
def test_down_restoring_what_up_changed_gets_no_forward_alarm(
    tmp_path: Path, up: str, down: str
) -> None:
    sql = f"-- UP\nSET lock_timeout = '2s';\n{up}\n-- DOWN\n{down}\n"
    found = lint_findings(sql, LOCK_RULES, tmp_path, transaction="none")
    assert [f for f in found if f.section == "down"] == []


def test_down_changing_something_else_still_fires(tmp_path: Path) -> None:
    sql = ORDERS.replace("-- file: 202401011200__change.sql\n", "") + (
        "-- file: 202401011200__change.sql\n"
        "-- UP\nSET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN note TYPE text;\n"
        "-- DOWN\nALTER TABLE orders ALTER COLUMN total TYPE bigint;\n"
    )
    found = lint_findings(sql, "column-type-rewrite", tmp_path)
    assert [(f.line, f.section) for f in found] == [(5, "down")]


def test_renaming_a_sequence_locks_no_table(tmp_path: Path) -> None:
    sql = "ALTER SEQUENCE orders_id_seq RENAME TO orders_id_seq2;\n"
    assert lint_findings(sql, "require-lock-timeout", tmp_path) == []


@pytest.mark.parametrize(("statements", "fires"), [(1, False), (2, True)])
def test_golang_migrate_runs_a_lone_statement_outside_a_transaction(
    tmp_path: Path, statements: int, fires: bool
) -> None:
    directory = tmp_path / "m"
    directory.mkdir()
    body = "SET lock_timeout = '2s';\n" if statements == 2 else ""
    (directory / "000001_idx.up.sql").write_text(body + CIC)
    (directory / "000001_idx.down.sql").write_text("DROP INDEX CONCURRENTLY IF EXISTS idx;\n")
    config = make_config(tmp_path, select=["concurrently-in-transaction"])
    found = lint([directory], config).findings
    assert [Path(f.path).name for f in found] == (["000001_idx.up.sql"] if fires else [])


@pytest.mark.parametrize(("version", "fires"), [("18", True), ("19", False)])
def test_domain_validate_blocks_writes_until_19(tmp_path: Path, version: str, fires: bool) -> None:
    sql = "ALTER DOMAIN amount VALIDATE CONSTRAINT amount_pos;\n"
    found = lint_findings(sql, "domain-constraint", tmp_path, pg_version=version)
    assert bool(found) == fires


def test_partitioned_table_index_recipe(tmp_path: Path) -> None:
    sql = (
        "-- file: 202301011200__p.sql\nCREATE TABLE m (d date NOT NULL) PARTITION BY RANGE (d);\n"
        "-- file: 202401011200__i.sql\n"
        "CREATE INDEX m_d ON m (d);\nCREATE INDEX m_d2 ON ONLY m (d);\n"
    )
    found = lint_findings(sql, "require-concurrent-index", tmp_path)
    assert [f.line for f in found] == [1] and "ON ONLY m" in (found[0].hint or "")


LOCKING = (
    "-- file: 202401010000__base.sql\nCREATE TABLE orders (id bigint PRIMARY KEY);\n"
    "-- file: 202401030000__change.sql\nALTER TABLE orders ADD COLUMN note text;\n"
)


def test_lock_timeout_set_by_the_runner_is_honoured(tmp_path: Path) -> None:
    assert ids(lint_findings(LOCKING, "require-lock-timeout", tmp_path / "a")) == [
        "require-lock-timeout"
    ]
    quiet = lint_findings(LOCKING, "require-lock-timeout", tmp_path / "b", runner_lock_timeout="2s")
    assert quiet == []
    with pytest.raises(Exception, match="runner-lock-timeout"):
        make_config(tmp_path, runner_lock_timeout="soon")


@pytest.mark.parametrize(
    "setting",
    [
        "ALTER ROLE migrator SET lock_timeout = '2s';",
        "ALTER DATABASE app SET lock_timeout TO 2000;",
        "ALTER ROLE migrator IN DATABASE app SET lock_timeout = '2s';",
    ],
)
def test_lock_timeout_set_on_role_or_database_covers_later_migrations(
    tmp_path: Path, setting: str
) -> None:
    sql = f"-- file: 202401000000__role.sql\n{setting}\n" + LOCKING
    assert lint_findings(sql, "require-lock-timeout", tmp_path) == []


def test_role_setting_reset_later_or_zero_does_not_count(tmp_path: Path) -> None:
    reset = (
        "-- file: 202401000000__role.sql\nALTER ROLE migrator SET lock_timeout = '2s';\n"
        "-- file: 202401020000__reset.sql\nALTER ROLE migrator RESET lock_timeout;\n"
    )
    assert ids(lint_findings(reset + LOCKING, "require-lock-timeout", tmp_path / "a")) == [
        "require-lock-timeout"
    ]
    zero = "-- file: 202401000000__role.sql\nALTER DATABASE app SET lock_timeout = 0;\n"
    assert ids(lint_findings(zero + LOCKING, "require-lock-timeout", tmp_path / "b")) == [
        "require-lock-timeout"
    ]
