"""Edge cases of the constraint rules: missing-primary-key, nullable-column,
enumerated-text-without-check, boolean-without-default, not-null-without-default,
check-constraint-unnamed."""

from __future__ import annotations

from pathlib import Path

from pgpreflight.linter.findings import Finding

from tests.helpers import ids, lint_findings


def at(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return [(f.rule, f.line, f.column) for f in findings]


# ---------------------------------------------------------------- missing-primary-key


def test_primary_key_added_later_in_the_same_migration_counts(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TABLE a (id bigint NOT NULL);\n"
        "ALTER TABLE public.a ADD CONSTRAINT pk_a PRIMARY KEY (id);\n"
        "CREATE TABLE b (id bigint NOT NULL);\n"
    )
    assert at(lint_findings(sql, "missing-primary-key", tmp_path)) == [
        ("missing-primary-key", 4, 1)
    ]


def test_primary_key_partitions_temporary_and_earlier_tables(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\n"
        "CREATE TABLE old_log (msg text); -- pgpreflight: ignore[missing-primary-key] "
        "append-only log read by time\n"
        "-- file: 202401020000__b.sql\n"
        "ALTER TABLE old_log ADD COLUMN at timestamptz;\n"
        "CREATE TABLE m (id bigint, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);\n"
        "CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n"
        "CREATE TEMPORARY TABLE scratch (x int);\n"
        "CREATE TABLE copy AS SELECT 1 AS x;\n"
    )
    findings = lint_findings(sql, ["missing-primary-key", "unused-suppression"], tmp_path)
    assert [(Path(f.path).name, f.rule, f.line) for f in findings] == [
        ("202401020000__b.sql", "missing-primary-key", 5)
    ]


def test_qualified_table_without_primary_key(tmp_path: Path) -> None:
    sql = "-- UP\nCREATE SCHEMA app;\nCREATE TABLE app.events (payload jsonb);\n"
    findings = lint_findings(sql, "missing-primary-key", tmp_path)
    assert at(findings) == [("missing-primary-key", 3, 1)]
    assert findings[0].message.startswith("table app.events has no primary key")


# ---------------------------------------------------------------- nullable-column


def test_nullable_column_positions_and_exclusions(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE DOMAIN email AS text NOT NULL;\n"
        "CREATE TABLE t (\n"
        "    id bigint PRIMARY KEY,\n"
        "    code int,\n"
        "    a text,\n"
        "    b bigint GENERATED ALWAYS AS IDENTITY,\n"
        "    c int GENERATED ALWAYS AS (code * 2) STORED,\n"
        "    mail email,\n"
        "    deleted_at timestamptz,\n"
        "    d int NOT NULL\n"
        ");\n"
    )
    findings = lint_findings(sql, "nullable-column", tmp_path)
    assert at(findings) == [("nullable-column", 5, 5), ("nullable-column", 6, 5)]
    assert findings[0].message == "column t.code allows NULL"


def test_nullable_column_set_not_null_later_and_allow_list(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TABLE t (id bigint PRIMARY KEY, a text, archived_at timestamptz, note text);\n"
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\n"
        "ALTER TABLE public.t ADD COLUMN b text;\n"
    )
    findings = lint_findings(
        sql, "nullable-column", tmp_path, rules={"nullable-column": {"allow": ["*_at"]}}
    )
    assert at(findings) == [("nullable-column", 2, 73), ("nullable-column", 4, 33)]


def test_nullable_column_on_a_table_from_an_earlier_migration(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\n"
        "CREATE TABLE t (id bigint PRIMARY KEY);\n"
        "-- file: 202401020000__b.sql\n"
        "ALTER TABLE t ADD COLUMN IF NOT EXISTS id bigint;\n"
        "ALTER TABLE t ADD COLUMN nickname text;\n"
    )
    findings = lint_findings(sql, "nullable-column", tmp_path)
    assert [(Path(f.path).name, f.line, f.column) for f in findings] == [
        ("202401020000__b.sql", 2, 26)
    ]


def test_nullable_column_suppressed_with_reason_on_the_statement(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "-- pgpreflight: ignore[nullable-column] NULL = never logged in\n"
        "CREATE TABLE users (\n"
        "    id bigint PRIMARY KEY,\n"
        "    last_login_at timestamptz\n"
        ");\n"
        "ALTER TABLE users ADD COLUMN nickname text;\n"
    )
    rules = ["nullable-column", "unused-suppression", "suppression-without-reason"]
    assert at(lint_findings(sql, rules, tmp_path)) == [("nullable-column", 7, 30)]


# ---------------------------------------------------------------- enumerated-text-without-check


def test_enumerated_text_names_types_and_coverage(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TYPE mood AS ENUM ('ok', 'sad');\n"
        "CREATE TABLE kinds (code text PRIMARY KEY);\n"
        "CREATE TABLE t (\n"
        "    id bigint PRIMARY KEY,\n"
        "    status text NOT NULL,\n"
        "    payment_status varchar(20) NOT NULL CHECK (payment_status IN ('due', 'paid')),\n"
        "    kind text NOT NULL REFERENCES kinds (code),\n"
        "    state mood NOT NULL,\n"
        "    user_role character(3) NOT NULL,\n"
        "    mime_type text NOT NULL,\n"
        "    statuses text NOT NULL\n"
        ");\n"
        "ALTER TABLE t ADD CONSTRAINT ck_t_status CHECK (status <> '') NOT VALID;\n"
        "ALTER TABLE t ADD COLUMN order_state text;\n"
    )
    findings = lint_findings(sql, "enumerated-text-without-check", tmp_path)
    assert at(findings) == [
        ("enumerated-text-without-check", 10, 5),
        ("enumerated-text-without-check", 15, 26),
    ]
    assert "t.user_role (character(3))" in findings[0].message


def test_enumerated_text_configured_names(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TABLE t (id bigint PRIMARY KEY, situacao text NOT NULL, status text NOT NULL);\n"
    )
    options = {"enumerated-text-without-check": {"names": ["situacao"]}}
    findings = lint_findings(sql, "enumerated-text-without-check", tmp_path, rules=options)
    assert at(findings) == [("enumerated-text-without-check", 2, 40)]


# ---------------------------------------------------------------- boolean-without-default


def test_boolean_without_default_each_case(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TABLE t (\n"
        "    id bigint PRIMARY KEY,\n"
        "    a boolean,\n"
        "    b bool NOT NULL,\n"
        "    c boolean DEFAULT false,\n"
        "    d boolean NOT NULL DEFAULT false,\n"
        "    e boolean NOT NULL\n"
        ");\n"
        "ALTER TABLE t ALTER COLUMN e SET DEFAULT true;\n"
    )
    findings = lint_findings(sql, "boolean-without-default", tmp_path)
    assert at(findings) == [
        ("boolean-without-default", 4, 5),
        ("boolean-without-default", 5, 5),
        ("boolean-without-default", 6, 5),
    ]
    assert findings[0].message == "boolean column t.a is nullable and has no DEFAULT"
    assert findings[1].message == "boolean column t.b has no DEFAULT"
    assert findings[2].message == "boolean column t.c is nullable"


# ---------------------------------------------------------------- not-null-without-default


def test_not_null_without_default_only_on_existing_tables(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\n"
        "CREATE TABLE orders (id bigint PRIMARY KEY);\n"
        "-- file: 202401020000__b.sql\n"
        "CREATE TABLE fresh (id bigint PRIMARY KEY);\n"
        "ALTER TABLE fresh ADD COLUMN a text NOT NULL;\n"
        "ALTER TABLE orders ADD COLUMN channel text NOT NULL;\n"
        "ALTER TABLE public.orders ADD COLUMN n int NOT NULL DEFAULT 0,\n"
        "    ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY,\n"
        "    ADD COLUMN s bigserial,\n"
        "    ADD COLUMN code text PRIMARY KEY;\n"
    )
    findings = lint_findings(sql, "not-null-without-default", tmp_path)
    assert [(Path(f.path).name, f.line, f.column) for f in findings] == [
        ("202401020000__b.sql", 3, 31),
        ("202401020000__b.sql", 7, 16),
    ]
    assert findings[0].message.startswith("column orders.channel is NOT NULL without a DEFAULT")


def test_not_null_without_default_answers_to_the_squawk_name(tmp_path: Path) -> None:
    sql = (
        "-- UP\n-- squawk-ignore adding-required-field\n"
        "ALTER TABLE orders ADD COLUMN channel text NOT NULL;\n"
    )
    assert lint_findings(sql, "not-null-without-default", tmp_path) == []


# ---------------------------------------------------------------- check-constraint-unnamed


def test_check_constraint_unnamed_is_opt_in_and_configurable(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TABLE t (\n"
        "    id bigint PRIMARY KEY,\n"
        "    total int NOT NULL CHECK (total >= 0),\n"
        "    code text UNIQUE,\n"
        "    CONSTRAINT ck_t_code CHECK (code <> ''),\n"
        "    CHECK (total < 100)\n"
        ");\n"
        "ALTER TABLE t ADD CHECK (id > 0);\n"
    )
    assert "check-constraint-unnamed" not in ids(lint_findings(sql, None, tmp_path))
    findings = lint_findings(sql, "check-constraint-unnamed", tmp_path / "b")
    assert at(findings) == [
        ("check-constraint-unnamed", 4, 24),
        ("check-constraint-unnamed", 7, 5),
        ("check-constraint-unnamed", 9, 19),
    ]
    options = {"check-constraint-unnamed": {"kinds": ["unique", "primary key"]}}
    findings = lint_findings(sql, "check-constraint-unnamed", tmp_path / "c", rules=options)
    assert at(findings) == [
        ("check-constraint-unnamed", 3, 15),
        ("check-constraint-unnamed", 5, 15),
    ]


def test_not_null_without_default_after_the_table_is_emptied(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "DELETE FROM resets;\n"
        "ALTER TABLE resets ADD COLUMN user_id bigint NOT NULL;\n"
        "TRUNCATE public.tokens, other;\n"
        "ALTER TABLE tokens ADD COLUMN kind text NOT NULL;\n"
        "DELETE FROM sessions WHERE expired;\n"
        "ALTER TABLE sessions ADD COLUMN ip inet NOT NULL;\n"
        "ALTER TABLE later ADD COLUMN x int NOT NULL;\n"
        "DELETE FROM later;\n"
    )
    findings = lint_findings(sql, "not-null-without-default", tmp_path)
    assert at(findings) == [
        ("not-null-without-default", 7, 33),
        ("not-null-without-default", 8, 30),
    ]


def test_unique_not_null_key_is_a_warning_naming_the_replica_identity(tmp_path: Path) -> None:
    sql = (
        "CREATE TABLE a (code text NOT NULL, CONSTRAINT a_code_key UNIQUE (code));\n"
        "CREATE TABLE b (code text, UNIQUE (code));\n"  # NULLs may repeat: no key
        "CREATE TABLE c (code text NOT NULL);\nCREATE UNIQUE INDEX c_code ON c (code) "
        "WHERE code <> '';\n"  # partial: not a key
    )
    findings = lint_findings(sql, "missing-primary-key", tmp_path)
    assert [(f.line, f.severity) for f in findings] == [(1, "warning"), (2, "error"), (3, "error")]
    assert "its unique index a_code_key prevents duplicates" in findings[0].message
    assert findings[0].hint == "ALTER TABLE a ADD PRIMARY KEY USING INDEX a_code_key"


def test_unnamed_check_on_a_new_column_is_named_as_postgresql_names_it(tmp_path: Path) -> None:
    # nakama: ADD COLUMN max_num_score INT NOT NULL DEFAULT 1 CHECK (max_num_score > 0)
    sql = "ALTER TABLE leaderboard ADD COLUMN n int NOT NULL DEFAULT 1 CHECK (n > 0);\n"
    [found] = lint_findings(sql, "constraint-without-not-valid", tmp_path)
    assert found.message.startswith("check constraint leaderboard_n_check on new column 'n'")
