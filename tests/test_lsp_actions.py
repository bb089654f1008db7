"""What the language server sends, built from findings alone: positions in the client's
encoding, a `Fix` as a workspace edit (any rule's, once rules make them), every safe fix at once,
the suppression comment and where it goes, the hover text."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pgpreflight.linter.findings import Edit, Finding, Fix
from pgpreflight.linter.lsp.actions import (
    FIX_ALL_KIND,
    ClientEdits,
    Document,
    Suppress,
    fix_action,
    fix_all_action,
    workspace_edit,
)
from pgpreflight.linter.lsp.diagnostics import diagnostic, finding_range
from pgpreflight.linter.lsp.hover import hover_markdown
from pgpreflight.linter.lsp.positions import UTF8, UTF16, UTF32, to_column, to_units
from pgpreflight.linter.positions import LineIndex
from pgpreflight.linter.registry import all_rules

TEXT = "-- UP\n/* 🚀 é */ CREATE INDEX i ON t (c);\n-- DOWN\nDROP INDEX i;\n"
LINES = LineIndex(TEXT)
URI = "file:///project/db/202401020000__index.sql"


def _finding(fix: Fix | None = None, line: int = 2, column: int = 12, **kw: object) -> Finding:
    values: dict[str, object] = dict(
        rule="require-concurrent-index",
        severity="error",
        message="index i on existing table 't' is built without CONCURRENTLY",
        path="db/202401020000__index.sql",
        line=line,
        column=column,
        end_line=line,
        end_column=35,
        hint="add CONCURRENTLY",
        fix=fix,
    )
    values.update(kw)
    return Finding(**values)  # type: ignore[arg-type]


def _edit(start_column: int, end_column: int, replacement: str, **kw: object) -> Edit:
    start = LINES.offset(2, start_column)
    end = LINES.offset(2, end_column)
    values: dict[str, object] = dict(
        path="db/202401020000__index.sql",
        start=start,
        end=end,
        replacement=replacement,
        start_line=2,
        start_column=start_column,
        end_line=2,
        end_column=end_column,
    )
    values.update(kw)
    return Edit(**values)  # type: ignore[arg-type]


def _documents(path: Path) -> Document:
    if path.name == "202401020000__index.sql":
        return Document(URI, 7, LINES)
    return Document(f"file:///project/{path}", None, None)


@pytest.mark.parametrize(
    ("encoding", "units"),
    [(UTF16, 11), (UTF8, 14), (UTF32, 10)],  # '/* 🚀 é */ ' before column 11
)
def test_columns_in_each_encoding(encoding: str, units: int) -> None:
    line = LINES.line_text(2)
    assert line[10:16] == "CREATE"
    assert to_units(line, 11, encoding) == units
    assert to_column(line, units, encoding) == 11
    assert to_units(line, 999, encoding) == to_units(line, len(line) + 1, encoding)


def test_inside_a_character_is_that_character() -> None:
    assert to_column("a🚀b", 2, UTF16) == 2  # between the two halves of the emoji


def test_diagnostic_of_a_finding() -> None:
    found = diagnostic(_finding(column=11), LINES)
    assert (found.range.start.line, found.range.start.character) == (1, 11)
    assert (found.range.end.line, found.range.end.character) == (1, 35)  # after ";"
    assert found.code == "require-concurrent-index" and found.source == "pgpreflight"
    assert found.severity == types.DiagnosticSeverity.Error
    assert found.message.endswith("\nhint: add CONCURRENTLY")


def test_a_finding_without_extent_spans_its_line() -> None:
    at_start = _finding(line=1, column=1, end_column=1)
    assert finding_range(at_start, LINES).end == types.Position(0, 5)  # '-- UP'


def test_a_fix_becomes_a_versioned_edit_in_utf16() -> None:
    """CONCURRENTLY inserted after 'CREATE INDEX ' (column 24, after a 2-unit emoji)."""
    fix = Fix("build the index concurrently", "safe", (_edit(24, 24, "CONCURRENTLY "),))
    finding = _finding(fix)
    action = fix_action(finding, fix, diagnostic(finding, LINES), _documents, UTF16, ClientEdits())
    assert action is not None and action.kind == types.CodeActionKind.QuickFix
    assert action.title == "build the index concurrently (require-concurrent-index)"
    assert action.is_preferred and action.edit is not None
    [change] = action.edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document == types.OptionalVersionedTextDocumentIdentifier(uri=URI, version=7)
    [text_edit] = change.edits
    assert isinstance(text_edit, types.TextEdit)
    assert text_edit.range == types.Range(types.Position(1, 24), types.Position(1, 24))
    assert text_edit.new_text == "CONCURRENTLY "


def test_an_unsafe_fix_and_a_new_file() -> None:
    """A fix that splits a statement into a new migration: CreateFile, then the insert; a
    client without resource operations gets no such action."""
    new = Edit("db/202401020001__index.sql", 0, 0, "CREATE INDEX ...;\n", 1, 1, 1, 1, new_file=True)
    cut = _edit(11, 35, "")
    fix = Fix("move the index to its own migration", "unsafe", (cut, new))
    finding = _finding(fix)
    action = fix_action(finding, fix, diagnostic(finding, LINES), _documents, UTF16, ClientEdits())
    assert action is not None and not action.is_preferred and action.title.endswith("[unsafe]")
    assert action.edit is not None
    [edit_here, create, fill] = action.edit.document_changes or []
    assert isinstance(edit_here, types.TextDocumentEdit)
    assert isinstance(create, types.CreateFile)
    assert create.uri == "file:///project/db/202401020001__index.sql"
    assert create.options == types.CreateFileOptions(overwrite=False, ignore_if_exists=False)
    assert isinstance(fill, types.TextDocumentEdit) and fill.text_document.version is None
    assert fill.edits[0].new_text == "CREATE INDEX ...;\n"
    no_create = ClientEdits(document_changes=True, create_files=False)
    assert (
        fix_action(finding, fix, diagnostic(finding, LINES), _documents, UTF16, no_create) is None
    )


def test_a_client_without_document_changes_gets_plain_changes() -> None:
    fix = Fix("build the index concurrently", "safe", (_edit(24, 24, "CONCURRENTLY "),))
    edit = workspace_edit(fix.edits, _documents, UTF16, ClientEdits(False, False))
    assert edit is not None and edit.document_changes is None
    assert edit.changes is not None and list(edit.changes) == [URI]


def test_fix_all_takes_safe_fixes_that_do_not_overlap() -> None:
    first = _finding(Fix("a", "safe", (_edit(24, 24, "CONCURRENTLY "),)))
    same_place = _finding(Fix("b", "safe", (_edit(24, 24, "IF NOT EXISTS "),)), rule="other")
    unsafe = _finding(Fix("c", "unsafe", (_edit(1, 10, ""),)), rule="third")
    later = _finding(Fix("d", "safe", (_edit(35, 35, " -- done"),)), rule="fourth")
    action = fix_all_action([first, same_place, unsafe, later], _documents, UTF16, ClientEdits())
    assert action is not None and action.kind == FIX_ALL_KIND and action.edit is not None
    [change] = action.edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit)
    assert [e.new_text for e in change.edits] == ["CONCURRENTLY ", " -- done"]
    assert fix_all_action([_finding()], _documents, UTF16, ClientEdits()) is None


def test_suppression_goes_above_the_statement_with_its_indent() -> None:
    text = "-- UP\nDO $$ BEGIN\n    PERFORM 1;\nEND $$;\n  CREATE INDEX i\n    ON t (c);\n"
    lines = LineIndex(text)
    statements = [(2, 4), (5, 6)]
    suppress = Suppress.of(_finding(line=6, column=5), statements, lines, URI, 3)
    assert (suppress.line, suppress.text) == (
        5,
        "  -- pgpreflight: ignore[require-concurrent-index] <reason>\n",
    )
    # a finding inside a DO block's body: above the DO statement, never inside the string
    inside = Suppress.of(_finding(line=3, column=5), statements, lines, URI, 3)
    assert inside.line == 2 and inside.text.startswith("-- pgpreflight: ignore[")
    placeholder = suppress.placeholder()
    comment = suppress.text.rstrip("\n")
    assert comment[placeholder.start.character : placeholder.end.character] == "<reason>"
    assert placeholder.start.line == 4
    edit = suppress.edit(ClientEdits())
    [change] = edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit) and change.text_document.version == 3
    plain = suppress.edit(ClientEdits(document_changes=False, create_files=False))
    assert plain.changes is not None and plain.changes[URI][0].new_text == suppress.text


def test_a_finding_outside_statements_is_suppressed_for_the_file() -> None:
    suppress = Suppress.of(_finding(line=1, column=1), [(2, 2)], LINES, URI, None)
    assert suppress.line == 1
    assert suppress.text == "-- pgpreflight: ignore-file[require-concurrent-index] <reason>\n"
    action = suppress.action(
        _finding(line=1, column=1), diagnostic(_finding(), LINES), ClientEdits()
    )
    assert action.title == "Suppress require-concurrent-index for this file, with a reason"
    assert action.command is not None and action.command.command == "pgpreflight.suppress"
    # a client that does not apply a server's edits gets the edit in the action
    direct = suppress.action(
        _finding(line=1, column=1), diagnostic(_finding(), LINES), ClientEdits(apply_edit=False)
    )
    assert direct.command is None and direct.edit == suppress.edit(ClientEdits())


def test_suppress_arguments_survive_the_round_trip_and_are_checked() -> None:
    suppress = Suppress.of(_finding(), [(2, 2)], LINES, URI, 4)
    assert Suppress.from_arguments(suppress.arguments()) == suppress
    for bad in (None, [], {**suppress.arguments(), "line": 0}, {**suppress.arguments(), "text": 1}):
        with pytest.raises(ValueError, match=r"pgpreflight\.suppress"):
            Suppress.from_arguments(bad)


def test_hover_shows_the_rule_documentation_once() -> None:
    two = [_finding(), _finding(column=20)]
    text = hover_markdown(two, all_rules())
    assert text.count("**require-concurrent-index** (error)") == 2
    assert text.count("## Why is this bad?") == 1
    assert "*hint:* add CONCURRENTLY" in text
