"""Edge cases of the type rules: timestamp-without-time-zone, prefer-text-over-varchar,
serial-column, uuid-default-needs-extension, extension-without-if-not-exists, money-type,
char-type."""

from __future__ import annotations

from pathlib import Path

from pgpreflight.linter.findings import Finding

from tests.helpers import lint_findings


def at(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return [(f.rule, f.line, f.column) for f in findings]


def where(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return [(Path(f.path).name, f.line, f.column) for f in findings]


TYPES = (
    "-- UP\n"
    "CREATE TABLE public.t (\n"
    "    id serial PRIMARY KEY,\n"
    "    a timestamp,\n"
    "    b timestamp(3) without time zone[],\n"
    "    c timestamptz,\n"
    "    d varchar(20),\n"
    "    e varchar,\n"
    "    f char(2),\n"
    '    g "char",\n'
    "    h money,\n"
    "    i bigserial,\n"
    "    j pg_catalog.timestamp\n"
    ");\n"
    "ALTER TABLE t ADD COLUMN k character(1), ADD COLUMN l smallserial;\n"
    "ALTER TABLE t ALTER COLUMN c TYPE timestamp, ALTER COLUMN e TYPE varchar(5);\n"
)


def test_timestamp_without_time_zone_in_create_add_and_alter_type(tmp_path: Path) -> None:
    findings = lint_findings(TYPES, "timestamp-without-time-zone", tmp_path)
    assert at(findings) == [
        ("timestamp-without-time-zone", 4, 5),
        ("timestamp-without-time-zone", 5, 5),
        ("timestamp-without-time-zone", 13, 5),
        ("timestamp-without-time-zone", 16, 35),
    ]
    assert findings[1].message.startswith("column t.b is timestamp(3) without time zone[]")
    assert "timestamp(3) with time zone" in (findings[1].hint or "")


def test_prefer_text_over_varchar_only_with_a_length(tmp_path: Path) -> None:
    findings = lint_findings(TYPES, "prefer-text-over-varchar", tmp_path)
    assert at(findings) == [
        ("prefer-text-over-varchar", 7, 5),
        ("prefer-text-over-varchar", 16, 66),
    ]
    assert "char_length(d) <= 20" in (findings[0].hint or "")


def test_char_type_but_not_the_internal_char(tmp_path: Path) -> None:
    findings = lint_findings(TYPES, "char-type", tmp_path)
    assert at(findings) == [("char-type", 9, 5), ("char-type", 15, 26)]


def test_money_type(tmp_path: Path) -> None:
    assert at(lint_findings(TYPES, "money-type", tmp_path)) == [("money-type", 11, 5)]


def test_serial_column_every_spelling(tmp_path: Path) -> None:
    findings = lint_findings(TYPES, "serial-column", tmp_path)
    assert at(findings) == [
        ("serial-column", 3, 5),
        ("serial-column", 12, 5),
        ("serial-column", 15, 53),
    ]
    assert "bigint GENERATED ALWAYS AS IDENTITY" in (findings[1].hint or "")


def test_type_rule_suppressed_with_reason(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "-- pgpreflight: ignore[timestamp-without-time-zone] local wall-clock opening "
        "hours, no instant\n"
        "CREATE TABLE shops (id bigint PRIMARY KEY, opens_at timestamp NOT NULL);\n"
        "ALTER TABLE shops ADD COLUMN closes_at timestamp;\n"
    )
    rules = ["timestamp-without-time-zone", "unused-suppression", "suppression-without-reason"]
    assert at(lint_findings(sql, rules, tmp_path)) == [("timestamp-without-time-zone", 4, 30)]


# ---------------------------------------------------------------- uuid-default-needs-extension

UUIDS = (
    "-- file: 202401010000__a.sql\n"
    "CREATE TABLE a (id uuid PRIMARY KEY DEFAULT gen_random_uuid());\n"
    "CREATE TABLE b (id uuid PRIMARY KEY DEFAULT uuid_generate_v4());\n"
    "-- file: 202401020000__b.sql\n"
    "ALTER TABLE a ALTER COLUMN id SET DEFAULT public.uuid_generate_v1mc();\n"
)


def test_uuid_ossp_is_needed_on_every_version(tmp_path: Path) -> None:
    findings = lint_findings(UUIDS, "uuid-default-needs-extension", tmp_path)
    assert where(findings) == [("202401010000__a.sql", 2, 45), ("202401020000__b.sql", 1, 43)]
    assert (
        findings[0].message
        == "uuid_generate_v4() needs extension uuid-ossp, which no earlier statement creates"
    )


def test_gen_random_uuid_needs_pgcrypto_below_13_only(tmp_path: Path) -> None:
    on_12 = lint_findings(UUIDS, "uuid-default-needs-extension", tmp_path / "12", pg_version=12)
    assert where(on_12) == [
        ("202401010000__a.sql", 1, 45),
        ("202401010000__a.sql", 2, 45),
        ("202401020000__b.sql", 1, 43),
    ]
    assert "pgcrypto" in on_12[0].message and "PostgreSQL 12" in (on_12[0].hint or "")
    on_13 = lint_findings(UUIDS, "uuid-default-needs-extension", tmp_path / "13", pg_version=13)
    assert [f.message.split("(")[0] for f in on_13] == ["uuid_generate_v4", "uuid_generate_v1mc"]


def test_extensions_created_earlier_or_declared_installed(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\n"
        "CREATE EXTENSION IF NOT EXISTS pgcrypto;\n"
        "CREATE TABLE a (id uuid PRIMARY KEY DEFAULT gen_random_uuid());\n"
        "CREATE TABLE b (id uuid PRIMARY KEY DEFAULT uuid_generate_v4());\n"
        'CREATE EXTENSION IF NOT EXISTS "uuid-ossp";\n'
        "-- file: 202401020000__b.sql\n"
        "CREATE TABLE c (id uuid PRIMARY KEY DEFAULT uuid_generate_v4());\n"
        "UPDATE a SET id = uuid_generate_v5(uuid_ns_url(), 'x');\n"
    )
    findings = lint_findings(sql, "uuid-default-needs-extension", tmp_path, pg_version=12)
    assert where(findings) == [("202401010000__a.sql", 3, 45)]
    options = {"uuid-default-needs-extension": {"installed": ["uuid-ossp"]}}
    assert (
        lint_findings(
            sql, "uuid-default-needs-extension", tmp_path / "b", pg_version=12, rules=options
        )
        == []
    )


# ---------------------------------------------------------------- extension-without-if-not-exists


def test_extension_without_if_not_exists_up_only(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
        'CREATE EXTENSION "uuid-ossp" WITH SCHEMA public;\n'
        "-- DOWN\n"
        'DROP EXTENSION IF EXISTS "uuid-ossp";\n'
        "CREATE EXTENSION pg_trgm;\n"
    )
    findings = lint_findings(sql, "extension-without-if-not-exists", tmp_path)
    assert at(findings) == [("extension-without-if-not-exists", 3, 1)]
    assert findings[0].message == (
        "extension uuid-ossp is created without IF NOT EXISTS: the migration fails where "
        "it is already installed"
    )
