"""Inline suppressions: per statement, per file, with reasons, and reported when stale or malformed."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import ids, lint_findings

NO_DOWN = "-- UP\nCREATE TABLE a (id int);\n"


def test_ignore_file_silences_a_file_level_finding(tmp_path: Path) -> None:
    sql = (
        "-- pgpreflight: ignore-file[missing-down-section] seed data, never rolled back\n" + NO_DOWN
    )
    assert lint_findings(sql, ["missing-down-section", "unused-suppression"], tmp_path) == []


def test_statement_suppression_above_and_trailing(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "-- pgpreflight: ignore[syntax-error] vendor extension\n"
        "CREAT TABLE a (id int);\n"
        "CREAT TABLE b (id int); -- pgpreflight: ignore[syntax-error] also vendor\n"
        "CREAT TABLE c (id int);\n"
        "-- DOWN\nSELECT 1;\n"
    )
    found = lint_findings(sql, ["syntax-error", "unused-suppression"], tmp_path)
    assert [(f.rule, f.line) for f in found] == [("syntax-error", 5)]


def test_reasonless_malformed_unknown_and_unused(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "-- pgpreflight: ignore[syntax-error]\n"  # no reason, and silences nothing
        "CREATE TABLE a (id int);\n"
        "-- pgpreflight: ignore syntax-error because\n"  # malformed
        "CREATE TABLE b (id int);\n"
        "-- pgpreflight: ignore[no-such-rule] typo\n"
        "CREATE TABLE c (id int);\n"
        "-- DOWN\nSELECT 1;\n"
    )
    select = [
        "syntax-error",
        "unused-suppression",
        "suppression-without-reason",
        "malformed-suppression",
    ]
    found = lint_findings(sql, select, tmp_path)
    assert [(f.rule, f.line) for f in found] == [
        ("suppression-without-reason", 2),
        ("unused-suppression", 2),
        ("malformed-suppression", 4),
        ("unused-suppression", 6),
    ]
    assert "no-such-rule" in found[-1].message


def test_comment_inside_string_is_not_a_suppression(tmp_path: Path) -> None:
    sql = "-- UP\nSELECT '-- pgpreflight: ignore-file[missing-down-section] no';\n"
    assert ids(lint_findings(sql, ["missing-down-section", "unused-suppression"], tmp_path)) == [
        "missing-down-section"
    ]


def test_query_directive_is_not_a_malformed_suppression(tmp_path: Path) -> None:
    sql = "-- UP\n-- pgpreflight: query\nSELECT 1;\n-- DOWN\nSELECT 1;\n"
    assert lint_findings(sql, ["malformed-suppression"], tmp_path) == []


def test_per_file_ignores(tmp_path: Path) -> None:
    found = lint_findings(
        NO_DOWN,
        ["missing-down-section"],
        tmp_path,
        per_file_ignores={"*__example.sql": ["missing-down-section"]},
    )
    assert found == []
