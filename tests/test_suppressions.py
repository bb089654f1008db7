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


def test_the_editor_placeholder_is_no_reason(tmp_path: Path) -> None:
    """The language server's "suppress" action writes `<reason>` for the user to replace: left
    as it is, the suppression still silences the rule but is reported as giving no reason."""
    sql = "-- UP\n-- pgpreflight: ignore[syntax-error] <reason>\nCREAT TABLE a (id int);\n-- DOWN\n"
    found = lint_findings(sql, ["syntax-error", "suppression-without-reason"], tmp_path)
    assert [(f.rule, f.line) for f in found] == [("suppression-without-reason", 2)]


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


def test_suppression_in_an_application_query_file(tmp_path: Path) -> None:
    """A query file's findings are silenced like a migration's: the comment above a query
    covers every line of it."""
    from pgpreflight.linter.engine import lint

    from tests.helpers import make_config, write_history

    write_history(
        "-- UP\nCREATE TABLE sessions (id bigint PRIMARY KEY, ip text NOT NULL);\n"
        "-- DOWN\nDROP TABLE sessions;\n",
        tmp_path / "migrations",
    )
    queries = tmp_path / "queries"
    queries.mkdir()
    body = "SELECT id\nFROM sessions\nWHERE ip = $1;\n"
    (queries / "a.sql").write_text(body)
    (queries / "b.sql").write_text(
        "-- pgpreflight: ignore[filter-column-without-index] audit query, run once a month\n" + body
    )
    config = make_config(
        tmp_path,
        queries=["queries"],
        select=["filter-column-without-index", "unused-suppression"],
    )
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        found = lint([Path("migrations")], config).findings
    finally:
        os.chdir(cwd)
    assert [(f.rule, Path(f.path).name, f.line) for f in found] == [
        ("filter-column-without-index", "a.sql", 3)
    ]
