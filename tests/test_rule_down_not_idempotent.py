"""down-not-idempotent: DOWN statements that fail on a second run."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import lint_findings

RULE = "down-not-idempotent"


def found(sql: str, tmp_path: Path, **config: object) -> list[tuple[int, str]]:
    config.setdefault("transaction", "none")
    return [(f.line, f.message) for f in lint_findings(sql, RULE, tmp_path, **config)]


SQL = """-- UP
DROP INDEX IF EXISTS idx_old;
ALTER TABLE users DROP COLUMN IF EXISTS legacy;
-- DOWN
DROP TABLE t;
DROP INDEX CONCURRENTLY idx_x;
ALTER TABLE users DROP COLUMN a, DROP COLUMN IF EXISTS b, DROP CONSTRAINT ck_a;
ALTER TABLE users ADD COLUMN legacy text;
CREATE INDEX idx_old ON users (a);
CREATE TABLE kept (id int);
DROP TYPE IF EXISTS mood;
ALTER TABLE users ADD COLUMN IF NOT EXISTS legacy2 text;
CREATE INDEX IF NOT EXISTS idx_new ON users (b);
DROP FUNCTION f();
"""


def test_each_non_repeatable_down_statement_is_reported(tmp_path: Path) -> None:
    assert sorted(found(SQL, tmp_path)) == [
        (5, "DROP TABLE in DOWN without IF EXISTS fails when the object is already gone"),
        (6, "DROP INDEX in DOWN without IF EXISTS fails when the object is already gone"),
        (7, "DROP COLUMN a in DOWN without IF EXISTS fails when the column is already gone"),
        (
            7,
            "DROP CONSTRAINT ck_a in DOWN without IF EXISTS fails when the constraint is already "
            "gone",
        ),
        (8, "ADD COLUMN legacy in DOWN without IF NOT EXISTS fails when the column is still there"),
        (9, "CREATE INDEX in DOWN without IF NOT EXISTS fails when the index is still there"),
        (10, "CREATE TABLE in DOWN without IF NOT EXISTS fails when the object is still there"),
        (14, "DROP FUNCTION in DOWN without IF EXISTS fails when the object is already gone"),
    ]


def test_findings_start_at_the_statement(tmp_path: Path) -> None:
    findings = lint_findings(SQL, RULE, tmp_path, transaction="none")
    assert {(f.line, f.column, f.section) for f in findings if f.line == 7} == {(7, 1, "down")}


def test_check_create_option_turns_off_create_checks(tmp_path: Path) -> None:
    lines = sorted(line for line, _ in found(SQL, tmp_path, rules={RULE: {"check-create": False}}))
    assert lines == [5, 6, 7, 7, 14]


def test_up_section_is_not_judged(tmp_path: Path) -> None:
    assert (
        found("-- UP\nDROP TABLE t;\n-- DOWN\nCREATE TABLE IF NOT EXISTS t (id int);\n", tmp_path)
        == []
    )


def test_down_in_a_transaction_is_not_reported(tmp_path: Path) -> None:
    """A failure rolls the whole DOWN back, so a re-run starts from a clean slate."""
    assert found(SQL, tmp_path / "a", transaction="per-file") == []
    explicit = "-- UP\nCREATE TABLE t (id int);\n-- DOWN\nBEGIN;\nDROP TABLE t;\nCOMMIT;\n"
    assert found(explicit, tmp_path / "b") == []
    goose = (
        "-- +goose NO TRANSACTION\n-- +goose Up\nSELECT 1;\n"
        "-- +goose Down\nDROP TABLE t;\nDROP TABLE u;\n"
    )
    assert [line for line, _ in found(goose, tmp_path / "c", transaction="per-file")] == [5, 6]


def test_down_of_one_statement_is_not_reported(tmp_path: Path) -> None:
    """One statement cannot stop half way: it fails whole, and a re-run starts afresh. Under
    golang-migrate (concourse, authelia) the lone statement runs alone, outside a transaction."""
    files = (
        "-- file: 0001_t.up.sql\nCREATE TABLE t (id int PRIMARY KEY);\n"
        "-- file: 0002_y.up.sql\nALTER TABLE t ADD COLUMN y int;\n"
        "-- file: 0002_y.down.sql\nALTER TABLE t DROP COLUMN y;\n"
    )
    assert found(files, tmp_path / "a", transaction="per-file") == []
    assert found("-- UP\nSELECT 1;\n-- DOWN\nDROP TABLE t;\n", tmp_path / "b") == []


def test_down_of_one_concurrent_statement_is_reported(tmp_path: Path) -> None:
    """CREATE INDEX CONCURRENTLY runs in transactions of its own: a failure leaves an invalid
    index behind, and a re-run without IF NOT EXISTS fails on it."""
    sql = "-- UP\nSELECT 1;\n-- DOWN\nCREATE INDEX CONCURRENTLY idx_t_a ON t (a);\n"
    assert [line for line, _ in found(sql, tmp_path)] == [4]
