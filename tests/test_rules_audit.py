"""Edge cases of the audit column rules: missing-audit-columns, audit-column-type,
updated-at-without-trigger."""

from __future__ import annotations

from pathlib import Path

from pgpreflight.linter.findings import Finding

from tests.helpers import ids, lint_findings

AUDIT = """
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    updated_by uuid"""


def at(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return [(f.rule, f.line, f.column) for f in findings]


# ---------------------------------------------------------------- missing-audit-columns


def test_missing_audit_columns_names_each_missing_column(tmp_path: Path) -> None:
    sql = (
        "-- UP\nCREATE TABLE notes (\n    id uuid PRIMARY KEY,\n"
        "    created_at timestamptz NOT NULL DEFAULT now()\n);\n"
    )
    findings = lint_findings(sql, "missing-audit-columns", tmp_path)
    assert at(findings) == [("missing-audit-columns", 2, 1)]
    assert "updated_at, created_by, updated_by" in findings[0].message
    assert "created_at" not in findings[0].message


def test_later_alter_in_the_same_migration_adds_the_audit_columns(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TABLE notes (id uuid PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());\n"
        "ALTER TABLE notes ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),\n"
        "    ADD COLUMN created_by uuid;\n"
        "ALTER TABLE public.notes ADD COLUMN updated_by uuid;\n"
    )
    assert lint_findings(sql, "missing-audit-columns", tmp_path) == []


def test_alter_in_a_later_migration_does_not_excuse_the_create(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__notes.sql\n"
        "CREATE TABLE notes (id uuid PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now());\n"
        "-- file: 202401020000__audit.sql\n"
        "ALTER TABLE notes ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(), ADD "
        "COLUMN created_by uuid, ADD COLUMN updated_by uuid;\n"
    )
    findings = lint_findings(sql, "missing-audit-columns", tmp_path)
    assert [(Path(f.path).name, f.line) for f in findings] == [("202401010000__notes.sql", 1)]


def test_tables_created_in_earlier_migrations_are_not_judged_again(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__legacy.sql\n"
        "CREATE TABLE legacy (id bigint PRIMARY KEY); -- pgpreflight: "
        "ignore[missing-audit-columns] imported as is\n"
        "-- file: 202401020000__touch.sql\n"
        "ALTER TABLE legacy ADD COLUMN note text;\n"
    )
    findings = lint_findings(sql, ["missing-audit-columns", "unused-suppression"], tmp_path)
    assert findings == []


def test_exempt_tables_and_patterns_qualified_or_not(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TABLE schema_migrations (version text PRIMARY KEY);\n"
        "CREATE TABLE user_tags (user_id uuid, tag_id uuid, PRIMARY KEY (user_id, tag_id));\n"
        "CREATE SCHEMA audit;\n"
        "CREATE TABLE audit.log (id bigint PRIMARY KEY);\n"
        "CREATE TABLE public.plain (id bigint PRIMARY KEY);\n"
    )
    findings = lint_findings(
        sql,
        "missing-audit-columns",
        tmp_path,
        rules={"missing-audit-columns": {"exempt": ["schema_migrations", "*_tags", "audit.*"]}},
    )
    assert at(findings) == [("missing-audit-columns", 6, 1)]
    assert "table plain lacks" in findings[0].message


def test_configured_columns_and_dropped_tables(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TABLE a (id bigint PRIMARY KEY, inserted_on timestamptz);\n"
        "CREATE TABLE scratch (id bigint PRIMARY KEY);\n"
        "DROP TABLE scratch;\n"
        "CREATE TEMPORARY TABLE tmp (id bigint);\n"
    )
    findings = lint_findings(
        sql,
        "missing-audit-columns",
        tmp_path,
        rules={"missing-audit-columns": {"columns": ["inserted_on", "changed_on"]}},
    )
    assert at(findings) == [("missing-audit-columns", 2, 1)]
    assert findings[0].message.endswith("lacks audit column changed_on")


def test_suppression_with_reason_silences_missing_audit_columns(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "-- pgpreflight: ignore[missing-audit-columns] lookup table filled by the seed only\n"
        "CREATE TABLE countries (code text PRIMARY KEY);\n"
    )
    rules = ["missing-audit-columns", "unused-suppression", "suppression-without-reason"]
    assert lint_findings(sql, rules, tmp_path) == []
    unsuppressed = sql.replace(
        "-- pgpreflight: ignore[missing-audit-columns] lookup table filled by the seed only\n", ""
    )
    assert at(lint_findings(unsuppressed, rules, tmp_path / "b")) == [
        ("missing-audit-columns", 2, 1)
    ]


# ---------------------------------------------------------------- audit-column-type


def test_audit_column_type_reports_each_problem_at_the_column(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TABLE notes (\n"
        "    id uuid PRIMARY KEY,\n"
        "    created_at timestamp,\n"
        "    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),\n"
        "    created_by text,\n"
        "    updated_by uuid\n"
        ");\n"
    )
    findings = lint_findings(sql, "audit-column-type", tmp_path)
    assert at(findings) == [
        ("audit-column-type", 4, 5),
        ("audit-column-type", 5, 5),
        ("audit-column-type", 6, 5),
    ]
    assert "is timestamp without time zone, allows NULL, has no DEFAULT" in findings[0].message
    assert "defaults to clock_timestamp()" in findings[1].message
    assert "is text, not uuid" in findings[2].message


def test_current_timestamp_and_a_later_set_not_null_are_accepted(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TABLE notes (id uuid PRIMARY KEY, created_at timestamptz DEFAULT CURRENT_TIMESTAMP,"
        " updated_at timestamptz NOT NULL DEFAULT now());\n"
        "ALTER TABLE notes ALTER COLUMN created_at SET NOT NULL;\n"
    )
    assert lint_findings(sql, "audit-column-type", tmp_path) == []


def test_users_table_option_requires_a_reference(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TABLE accounts (id bigint PRIMARY KEY);\n"
        "CREATE TABLE notes (\n"
        "    id bigint PRIMARY KEY,\n"
        "    created_by int8 REFERENCES accounts (id),\n"
        "    updated_by bigint\n"
        ");\n"
    )
    options = {"audit-column-type": {"user-type": "int8", "users-table": "public.accounts"}}
    findings = lint_findings(sql, "audit-column-type", tmp_path, rules=options)
    assert at(findings) == [("audit-column-type", 6, 5)]
    assert findings[0].message == "audit column notes.updated_by does not reference accounts"


def test_audit_columns_added_to_an_existing_table(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\n"
        "CREATE TABLE notes (id bigint PRIMARY KEY);\n"
        "-- file: 202401020000__b.sql\n"
        "ALTER TABLE notes ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();\n"
        "ALTER TABLE notes ADD COLUMN updated_at timestamptz;\n"
    )
    findings = lint_findings(sql, "audit-column-type", tmp_path)
    assert [(Path(f.path).name, f.line, f.column) for f in findings] == [
        ("202401020000__b.sql", 2, 30)
    ]


# ---------------------------------------------------------------- updated-at-without-trigger


def test_updated_at_without_trigger_is_opt_in(tmp_path: Path) -> None:
    sql = f"-- UP\nCREATE TABLE notes (id uuid PRIMARY KEY,{AUDIT}\n);\n"
    assert "updated-at-without-trigger" not in ids(lint_findings(sql, None, tmp_path))
    findings = lint_findings(sql, "updated-at-without-trigger", tmp_path / "b")
    assert at(findings) == [("updated-at-without-trigger", 4, 5)]


def test_trigger_in_a_later_migration_keeps_updated_at_current(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\n"
        f"CREATE TABLE notes (id uuid PRIMARY KEY,{AUDIT}\n);\n"
        "-- file: 202401020000__b.sql\n"
        "CREATE TRIGGER trg_notes_updated_at BEFORE UPDATE ON public.notes\n"
        "    FOR EACH ROW EXECUTE FUNCTION set_updated_at();\n"
    )
    assert lint_findings(sql, "updated-at-without-trigger", tmp_path) == []


def test_an_after_insert_trigger_does_not_count(tmp_path: Path) -> None:
    sql = (
        f"-- UP\nCREATE TABLE notes (id uuid PRIMARY KEY,{AUDIT}\n);\n"
        "CREATE TRIGGER trg_notes_log AFTER INSERT ON notes FOR EACH ROW EXECUTE FUNCTION "
        "log_it();\n"
    )
    assert ids(lint_findings(sql, "updated-at-without-trigger", tmp_path)) == [
        "updated-at-without-trigger"
    ]
