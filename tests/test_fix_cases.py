"""Edge cases of the fixes, one small history each: when a fix is safe, unsafe or not offered,
and what the passes make of fixes that meet in one file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pgpreflight.linter import fixer
from pgpreflight.linter.engine import lint
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.result import RunResult

from tests.helpers import make_config, write_history


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # edits name files by their display path


def findings(sql: str, rule: str, tmp_path: Path, **config: object) -> list[Finding]:
    write_history(sql, tmp_path / "migrations")
    result = lint([tmp_path / "migrations"], make_config(tmp_path, select=[rule], **config))
    return [f for f in result.findings if f.rule == rule]


def fixed(
    sql: str, select: list[str], tmp_path: Path, *, unsafe: bool = True, **config: object
) -> tuple[dict[str, str], RunResult]:
    """The files after `lint --fix` (with --unsafe-fixes by default) and what is left."""
    folder = tmp_path / "migrations"
    write_history(sql, folder)
    cfg = make_config(tmp_path, select=select, **config)
    outcome = fixer.run_passes(
        lambda overlay: lint([folder], cfg, overlay=overlay),
        unsafe=unsafe,
        may_change=lambda r: {s.path.resolve() for m in r.migrations for s in m.sources},
    )
    assert outcome.result is not None and outcome.settled and not outcome.refused
    return {c.path.name: c.after for c in outcome.changes.values()}, outcome.result


def only_fix(found: list[Finding]) -> tuple[str, str] | None:
    assert len(found) == 1
    fix = found[0].fix
    return None if fix is None else (fix.applicability, fix.description)


# ----------------------------------------------------------------- CONCURRENTLY


def test_two_indexes_in_a_goose_file_get_one_marker_over_two_passes(tmp_path: Path) -> None:
    sql = (
        "-- file: 20240101120000_idx.sql\n-- +goose Up\nSET lock_timeout = '2s';\n"
        "CREATE INDEX idx_a ON orders (a);\nCREATE INDEX idx_b ON orders (b);\n"
        "-- +goose Down\nDROP INDEX IF EXISTS idx_b;\nDROP INDEX IF EXISTS idx_a;\n"
    )
    files, result = fixed(sql, ["require-concurrent-index"], tmp_path, unsafe=False)
    text = files["20240101120000_idx.sql"]
    assert text.count("-- +goose NO TRANSACTION") == 1
    assert text.count("CREATE INDEX CONCURRENTLY IF NOT EXISTS") == 2
    assert not result.findings


def test_concurrently_is_unsafe_when_the_file_holds_statements_that_cannot_run_again(
    tmp_path: Path,
) -> None:
    sql = (
        "-- +goose Up\nSET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;\n"
        "CREATE INDEX idx_note ON orders (note);\n"
    )
    found = findings(sql, "require-concurrent-index", tmp_path)
    applicability, description = only_fix(found) or ("", "")
    assert applicability == "unsafe"
    assert description.startswith("add CONCURRENTLY IF NOT EXISTS and '-- +goose NO TRANSACTION'")


@pytest.mark.parametrize(
    ("name", "up", "marker"),
    [
        ("20240101120000_x.sql", "-- +migrate Up", "-- +migrate Up notransaction"),
        ("20240101120000_x.sql", "-- migrate:up", "-- migrate:up transaction:false"),
        ("202401011200__x.sql", "-- UP", "-- NO TRANSACTION\n-- UP"),
    ],
)
def test_each_convention_gets_its_own_marker(
    tmp_path: Path, name: str, up: str, marker: str
) -> None:
    sql = f"-- file: {name}\n{up}\nCREATE INDEX idx_a ON orders (a);\n"
    files, result = fixed(sql, ["require-concurrent-index"], tmp_path)
    assert files[name].startswith(marker + "\n")
    assert not result.findings


def test_diesel_gets_a_metadata_file(tmp_path: Path) -> None:
    folder = tmp_path / "migrations" / "2024-01-01-120000_idx"
    folder.mkdir(parents=True)
    (folder / "up.sql").write_text("CREATE INDEX idx_a ON orders (a);\n")
    (folder / "down.sql").write_text("DROP INDEX IF EXISTS idx_a;\n")
    files, result = fixed("", ["require-concurrent-index"], tmp_path)
    assert files["metadata.toml"] == "run_in_transaction = false\n"
    assert "CONCURRENTLY" in files["up.sql"] and not result.findings


@pytest.mark.parametrize(
    ("sql", "config"),
    [
        ("BEGIN;\nCREATE INDEX idx_a ON orders (a);\nCOMMIT;\n", {}),  # the file's own BEGIN
        ("CREATE INDEX idx_a ON orders (a);\n", {"pg_version": "14.2"}),  # corrupts indexes
        ("-- file: 000002_x.up.sql\nSET lock_timeout = '2s';\nCREATE INDEX i ON t (a);\n", {}),
    ],
    ids=["explicit-transaction", "pg-14.2", "golang-migrate-two-statements"],
)
def test_no_concurrently_fix_where_it_cannot_work(
    tmp_path: Path, sql: str, config: dict[str, object]
) -> None:
    found = findings(sql, "require-concurrent-index", tmp_path, **config)
    assert found and all(f.fix is None for f in found)


def test_drop_of_two_indexes_gets_no_concurrently(tmp_path: Path) -> None:
    found = findings("DROP INDEX idx_a, idx_b;\n", "require-concurrent-index-drop", tmp_path)
    assert found and found[0].fix is None


# ----------------------------------------------------------------- types


def test_type_of_an_existing_column_is_an_unsafe_fix(tmp_path: Path) -> None:
    found = findings(
        "ALTER TABLE events ALTER COLUMN happened_at TYPE timestamp;\n",
        "timestamp-without-time-zone",
        tmp_path,
    )
    assert (only_fix(found) or ("",))[0] == "unsafe"


def test_bigint_key_referenced_as_integer_is_unsafe(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\nCREATE TABLE invoices (id integer PRIMARY KEY);\n"
        "-- file: 202401020000__b.sql\nCREATE TABLE lines (id bigint PRIMARY KEY,"
        " invoice_id integer REFERENCES invoices (id));\n"
    )
    found = findings(sql, "prefer-bigint-keys", tmp_path)
    assert only_fix(found) == (
        "unsafe",
        "declare id bigint: lines.invoice_id still hold it as integer",
    )


def test_bigint_on_an_existing_table_is_unsafe(tmp_path: Path) -> None:
    found = findings(
        "ALTER TABLE orders ADD COLUMN id integer PRIMARY KEY;\n", "prefer-bigint-keys", tmp_path
    )
    assert (only_fix(found) or ("",))[0] == "unsafe"


def test_varchar_of_an_existing_table_gets_no_fix(tmp_path: Path) -> None:
    found = findings(
        "ALTER TABLE cities ADD COLUMN code varchar(3);\n", "prefer-text-over-varchar", tmp_path
    )
    assert found and found[0].fix is None


def test_varchar_check_follows_the_naming_option(tmp_path: Path) -> None:
    sql = "CREATE TABLE cities (id bigint PRIMARY KEY, code character varying(3));\n"
    files, _ = fixed(
        sql,
        ["prefer-text-over-varchar"],
        tmp_path,
        rules={"index-naming": {"check-patterns": ["<table>_<column>_*"]}},
    )
    assert "code text CONSTRAINT cities_code_length CHECK (char_length(code) <= 3))" in "".join(
        files.values()
    )


# ----------------------------------------------------------------- lock timeout, DOWN


def test_no_lock_timeout_fix_where_the_section_resets_it(tmp_path: Path) -> None:
    found = findings(
        "-- UP\nRESET lock_timeout;\nALTER TABLE orders ADD COLUMN note text;\n",
        "require-lock-timeout",
        tmp_path,
    )
    assert found and found[0].fix is None


def test_inserted_lines_follow_the_files_line_endings(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "202401011200__x.sql").write_bytes(
        b"-- UP\r\nALTER TABLE orders ADD COLUMN note text;\r\n"
    )
    files, _ = fixed("", ["require-lock-timeout", "missing-down-section"], tmp_path)
    text = files["202401011200__x.sql"]
    assert "\r\r" not in text and text.count("\n") == text.count("\r\n")
    assert "SET lock_timeout = '2s';\r\nALTER TABLE orders" in text
    assert text.endswith("DROP COLUMN IF EXISTS note;\r\n")


def test_down_created_only_if_missing_is_unsafe(tmp_path: Path) -> None:
    found = findings(
        "-- UP\nCREATE TABLE IF NOT EXISTS tags (id bigint PRIMARY KEY);\n",
        "missing-down-section",
        tmp_path,
    )
    assert (only_fix(found) or ("",))[0] == "unsafe"


@pytest.mark.parametrize(
    "up",
    [
        "UPDATE users SET active = true;",
        "ALTER TABLE users ALTER COLUMN name TYPE text;",
        "CREATE OR REPLACE VIEW v AS SELECT 1;",
        "CREATE INDEX ON users (name);",
        "CREATE TABLE t (id bigint PRIMARY KEY);\nCREAT TABLE u (id int);",
    ],
    ids=["dml", "alter-column", "or-replace", "unnamed-index", "syntax-error"],
)
def test_no_down_when_an_inverse_is_uncertain(tmp_path: Path, up: str) -> None:
    found = findings(f"-- UP\n{up}\n", "missing-down-section", tmp_path)
    assert found and found[0].fix is None


def test_no_down_appended_to_a_file_without_markers_in_a_history_without_any(
    tmp_path: Path,
) -> None:
    found = findings("CREATE TABLE t (id bigint PRIMARY KEY);\n", "missing-down-section", tmp_path)
    assert found and found[0].fix is None
