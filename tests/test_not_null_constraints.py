"""PostgreSQL 18 named NOT NULL constraints: modelled under any version (renamed, dropped by
name), and reported by requires-newer-postgres where pg-version is older than 18."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import lint_findings

SQL = (
    "-- file: 202401010000__base.sql\n"
    "-- UP\nCREATE TABLE t (id bigint PRIMARY KEY, a int, b int NOT NULL,\n"
    "    CONSTRAINT t_a_nn NOT NULL a);\n"
    "-- DOWN\nDROP TABLE IF EXISTS t;\n"
    "-- file: 202401020000__change.sql\n"
    "-- UP\nALTER TABLE t RENAME CONSTRAINT t_a_nn TO t_a_required;\n"
    "ALTER TABLE t DROP CONSTRAINT t_b_not_null;\n"
    "-- DOWN\nALTER TABLE t ALTER COLUMN b SET NOT NULL;\n"
    "ALTER TABLE t RENAME CONSTRAINT t_a_required TO t_a_nn;\n"
)


def test_named_not_null_constraints_replay_under_pg18(tmp_path: Path) -> None:
    rules = ["requires-newer-postgres", "down-does-not-revert", "drop-not-null"]
    found = [(f.rule, f.line) for f in lint_findings(SQL, rules, tmp_path, pg_version=18)]
    assert found == []


def test_pg18_syntax_under_an_older_version_is_a_finding(tmp_path: Path) -> None:
    found = [
        (f.path.rsplit("/", 1)[1][:12], f.line, f.message.split(" needs")[0])
        for f in lint_findings(SQL, "requires-newer-postgres", tmp_path, pg_version=17)
    ]
    assert found == [
        ("202401010000", 3, "NOT NULL as a table constraint"),
        ("202401020000", 2, "RENAME CONSTRAINT t_a_nn (a NOT NULL constraint)"),
        ("202401020000", 3, "DROP CONSTRAINT t_b_not_null (a NOT NULL constraint)"),
        ("202401020000", 6, "RENAME CONSTRAINT t_a_required (a NOT NULL constraint)"),
    ]


def test_pg15_features(tmp_path: Path) -> None:
    sql = (
        "CREATE TABLE u (id bigint PRIMARY KEY, e text, UNIQUE NULLS NOT DISTINCT (e));\n"
        "CREATE UNIQUE INDEX ux ON u (e) NULLS NOT DISTINCT;\n"
    )
    assert len(lint_findings(sql, "requires-newer-postgres", tmp_path / "a", pg_version=14)) == 2
    assert lint_findings(sql, "requires-newer-postgres", tmp_path / "b", pg_version=15) == []
