"""The statement tables of `check`'s text output fit the terminal: the header stands over its
columns, no line is wider than the terminal, a cut cell says so, and a statement's preview shows
its SQL, not the comment above it."""

from __future__ import annotations

from typing import Any

import pytest
from pgpreflight.linter.report.check_text import render_check


def statement(line: int, sql: str, table: str, rewrite: bool = False) -> dict[str, Any]:
    return {
        "line": line,
        "sql": sql,
        "status": "ok",
        "locks": [
            {
                "locktype": "relation",
                "new_object": False,
                "mode": "AccessExclusiveLock",
                "kind": "table",
                "table": table,
                "object": table,
            }
        ],
        "rewrites": [{"object": table, "kind": "table"}] if rewrite else [],
        "duration_ms": 1234.5,
        "transaction": "per-file",
        "lock_timeout": None,
    }


CHECK = {
    "mode": "scratch",
    "baseline": [],
    "pending": ["202401010000__x"],
    "transaction_mode": "per-file",
    "migrations": [
        {
            "id": "202401010000__x",
            "status": "passed",
            "round_trip": {"verdict": "pass"},
            "up": {
                "transaction_mode": "per-file",
                "duration_ms": 2469.0,
                "statements": [
                    statement(
                        3,
                        "-- a long explanation of why this column changes type, which nobody\n"
                        "-- needs to read in a one-line preview\n"
                        "ALTER TABLE customer_addresses ALTER COLUMN postal_code TYPE text",
                        "customer_addresses",
                        rewrite=True,
                    ),
                    statement(9, "/* short */ DROP TABLE old_things", "old_things"),
                ],
            },
        }
    ],
}


def table_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("line "))
    return lines[start : start + 3]


@pytest.mark.parametrize("width", [80, 100, 140, 220])
def test_statement_table_fits_the_width_and_keeps_its_columns(width: int) -> None:
    text = render_check(CHECK, width=width)
    header, first, second = table_lines(text)
    assert all(len(line) <= width for line in (header, first, second)), (width, text)
    for column in ("lock", "blocks", "rewrite", "ms"):
        at = header.index(column)
        # each row's cell starts where its header does (the cell before it ends two columns back)
        for row in (first, second):
            assert row[at - 2 : at] == "  " and row[at] != " ", (column, header, row)
    assert "explanation" not in text and "short" not in text
    assert "DROP TABLE old_things" in second


def test_a_narrow_terminal_cuts_cells_and_says_so() -> None:
    header, first, _ = table_lines(render_check(CHECK, width=80))
    assert "…" in first
    wide_header, wide_first, _ = table_lines(render_check(CHECK, width=400))
    assert "…" not in wide_first
    assert "ALTER TABLE customer_addresses ALTER COLUMN postal_code TYPE text" in wide_first
    assert wide_header.split() == header.split() or "…" in header


def test_the_previews_leave_the_result_they_render_as_it_was() -> None:
    """The previews are built on copies of the statements only (a whole history's check is
    tens of megabytes), never on the result the JSON and HTML reports render afterwards."""
    import copy

    before = copy.deepcopy(CHECK)
    render_check(CHECK, width=120)
    assert before == CHECK
    assert CHECK["migrations"][0]["up"]["statements"][0]["sql"].startswith("-- a long")
