"""`pgpreflight lsp` driven over stdio as an editor drives it: initialize, didOpen of a buffer
that differs from the file on disk, incremental didChange, hover, codeAction, then the suppress
command, whose `workspace/applyEdit` and `window/showDocument` requests the editor answers.

The client is pygls's: it frames and (de)serialises JSON-RPC as the protocol's reference types
say, and starts the server as a child process, exactly as VS Code, Neovim or Helix do."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, Union

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.protocol import default_converter

TIMEOUT = 60.0
ORDERS = (
    "-- UP\nSET lock_timeout = '2s';\n"
    "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL,\n"
    "  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),\n"
    "  created_by uuid NOT NULL, updated_by uuid NOT NULL);\n"
    "-- DOWN\nSET lock_timeout = '2s';\nDROP TABLE IF EXISTS orders;\n"
)
# What the editor holds, unsaved: the file on disk is still an empty migration. The comment
# before the statement holds a character that is two UTF-16 units.
BUFFER = (
    "-- UP\n"
    "SET lock_timeout = '2s';\n"
    "SET statement_timeout = '5s';\n"
    "/* 🚀 */ CREATE INDEX idx_orders_customer_id ON orders (customer_id);\n"
    "-- DOWN\n"
    "SET lock_timeout = '2s';\n"
    "DROP INDEX IF EXISTS idx_orders_customer_id;\n"
)

T = TypeVar("T")


def _converter() -> Any:
    """pygls's converter, telling a Command from a CodeAction as the protocol (and VS Code,
    Neovim, Helix) do: a Command's `command` is a string, a CodeAction's is a Command.
    lsprotocol 2025.0 reads every object with a `command` key as a Command, which would turn
    the suppress action (a CodeAction carrying a command) into a garbled Command."""
    converter = default_converter()

    def command_or_action(data: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(data.get("command"), str):
            return converter.structure(data, types.Command)  # type: ignore[no-any-return]
        return converter.structure(data, types.CodeAction)  # type: ignore[no-any-return]

    converter.register_structure_hook(types.Command | types.CodeAction, command_or_action)
    converter.register_structure_hook(Union[types.Command, types.CodeAction], command_or_action)  # noqa: UP007
    return converter


class Editor:
    """The editor's side: the text it holds, what the server published and asked for."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.client = LanguageClient("test-editor", "1", converter_factory=_converter)
        self.published: list[types.PublishDiagnosticsParams] = []
        self.applied: list[types.WorkspaceEdit] = []
        self.shown: list[types.ShowDocumentParams] = []
        self.messages: list[str] = []
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.changed = asyncio.Event()
        client = self.client

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.published.append(params)
            self.changed.set()

        @client.feature(types.WINDOW_SHOW_MESSAGE)
        def show_message(params: types.ShowMessageParams) -> None:
            self.messages.append(params.message)
            self.changed.set()

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            self.applied.append(params.edit)
            self.changed.set()
            return types.ApplyWorkspaceEditResult(applied=True)

        @client.feature(types.WINDOW_SHOW_DOCUMENT)
        def show_document(params: types.ShowDocumentParams) -> types.ShowDocumentResult:
            self.shown.append(params)
            self.changed.set()
            return types.ShowDocumentResult(success=True)

    async def start(self, encoding: str = "utf-16") -> None:
        await self.client.start_io(sys.executable, "-m", "pgpreflight.linter", "lsp", cwd=self.root)
        capabilities = types.ClientCapabilities(
            general=types.GeneralClientCapabilities(position_encodings=[encoding]),
            workspace=types.WorkspaceClientCapabilities(
                apply_edit=True,
                workspace_edit=types.WorkspaceEditClientCapabilities(
                    document_changes=True,
                    resource_operations=[types.ResourceOperationKind.Create],
                ),
            ),
            window=types.WindowClientCapabilities(
                show_document=types.ShowDocumentClientCapabilities(support=True)
            ),
        )
        result = await asyncio.wait_for(
            self.client.initialize_async(
                types.InitializeParams(capabilities=capabilities, root_uri=self.root.as_uri())
            ),
            TIMEOUT,
        )
        assert result.server_info is not None and result.server_info.name == "pgpreflight"
        assert result.capabilities.position_encoding == encoding
        self.client.initialized(types.InitializedParams())

    async def until(self, found: Callable[[], T | None]) -> T:
        """Wait until `found` returns something (what the server sent so far)."""

        async def wait() -> T:
            while True:
                value = found()
                if value is not None:
                    return value
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(wait(), TIMEOUT)

    async def diagnostics(self, uri: str) -> list[types.Diagnostic]:
        """The diagnostics published for the current version of `uri`."""
        version = self.versions[uri]

        def latest() -> list[types.Diagnostic] | None:
            for params in reversed(self.published):
                if params.uri == uri and params.version == version:
                    return list(params.diagnostics)
            return None

        return await self.until(latest)

    def open(self, path: Path, text: str) -> str:
        uri = path.as_uri()
        self.texts[uri], self.versions[uri] = text, 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "sql", 1, text))
        )
        return uri

    def change(self, uri: str, range_: types.Range, new_text: str) -> None:
        """An incremental change, as editors send a keystroke."""
        text = self.texts[uri]
        start, end = (_offset(text, p) for p in (range_.start, range_.end))
        self.texts[uri] = text[:start] + new_text + text[end:]
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[types.TextDocumentContentChangePartial(range_, new_text)],
            )
        )

    def apply(self, edit: types.WorkspaceEdit) -> None:
        """What an editor does with a workspace edit of its open documents."""
        for change in edit.document_changes or []:
            assert isinstance(change, types.TextDocumentEdit)
            uri = change.text_document.uri
            assert change.text_document.version == self.versions[uri]
            # every range refers to the document as it was: apply them from the end backwards
            edits = sorted(
                change.edits,
                key=lambda e: (e.range.start.line, e.range.start.character),
                reverse=True,
            )
            for text_edit in edits:
                assert isinstance(text_edit, types.TextEdit)
                self.change(uri, text_edit.range, text_edit.new_text)

    async def stop(self) -> None:
        await asyncio.wait_for(self.client.shutdown_async(None), TIMEOUT)
        self.client.exit(None)
        await asyncio.wait_for(self.client.stop(), TIMEOUT)


def _offset(text: str, position: types.Position) -> int:
    """A UTF-16 LSP position as an offset into `text`."""
    lines = text.split("\n")
    offset = sum(len(line) + 1 for line in lines[: position.line])
    units = 0
    for i, char in enumerate(lines[position.line] if position.line < len(lines) else ""):
        if units >= position.character:
            return offset + i
        units += 2 if ord(char) > 0xFFFF else 1
    return offset + min(len(lines[position.line]), position.character)


def _find(text: str, needle: str) -> types.Range:
    """The UTF-16 range of the first `needle` in `text`, as an editor's selection."""
    offset = text.index(needle)
    line = text.count("\n", 0, offset)
    prefix = text[text.rfind("\n", 0, offset) + 1 : offset]
    start = len(prefix.encode("utf-16-le")) // 2
    end = start + len(needle.encode("utf-16-le")) // 2
    return types.Range(types.Position(line, start), types.Position(line, end))


def _codes(diagnostics: list[types.Diagnostic]) -> list[Any]:
    return sorted(d.code for d in diagnostics)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "202401010000__orders.sql").write_text(ORDERS)
    (tmp_path / "db" / "202401020000__index.sql").write_text("-- UP\n-- DOWN\n")
    (tmp_path / "pgpreflight.toml").write_text('migrations = ["db"]\n')
    return tmp_path


def test_editor_session(project: Path) -> None:
    asyncio.run(_session(project))


async def _session(project: Path) -> None:
    editor = Editor(project)
    await editor.start()
    try:
        await _diagnose_hover_suppress(editor, project)
    finally:
        await editor.stop()


async def _diagnose_hover_suppress(editor: Editor, project: Path) -> None:
    path = project / "db" / "202401020000__index.sql"
    uri = editor.open(path, BUFFER)

    # didOpen: the unsaved text is linted, with orders from the history on disk
    [index] = await editor.diagnostics(uri)
    assert index.code == "require-concurrent-index" and index.source == "pgpreflight"
    assert index.severity == types.DiagnosticSeverity.Error
    assert "'orders'" in index.message and "\nhint: " in index.message
    # after '/* 🚀 */ ': 8 characters, 9 UTF-16 units
    assert (index.range.start.line, index.range.start.character) == (3, 9)

    # hover on the finding: the rule's documentation
    hover = await editor.client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(3, 12))
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert "**require-concurrent-index** (error)" in hover.contents.value
    assert "## Why is this bad?" in hover.contents.value

    # didChange (incremental): the index goes on a table this migration creates, which is empty
    create = "CREATE TABLE lines (id bigint PRIMARY KEY);\n"
    at = types.Position(3, 0)
    editor.change(uri, types.Range(at, at), create)
    editor.change(uri, _find(editor.texts[uri], "ON orders"), "ON lines")
    assert "ON lines (customer_id)" in editor.texts[uri]
    assert "require-concurrent-index" not in _codes(await editor.diagnostics(uri))

    # undone: the finding is back where it was
    editor.change(uri, _find(editor.texts[uri], "ON lines"), "ON orders")
    editor.change(uri, types.Range(types.Position(3, 0), types.Position(4, 0)), "")
    assert editor.texts[uri] == BUFFER
    [index] = await editor.diagnostics(uri)
    assert index.code == "require-concurrent-index" and index.range.start.line == 3

    # codeAction: suppress it, with a reason to write
    actions = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(types.Position(3, 20), types.Position(3, 20)),
            context=types.CodeActionContext(diagnostics=[index]),
        )
    )
    assert actions is not None
    titles = [a.title for a in actions if isinstance(a, types.CodeAction)]
    assert "Suppress require-concurrent-index for this statement, with a reason" in titles
    [suppress] = [
        a
        for a in actions
        if isinstance(a, types.CodeAction) and a.title.startswith("Suppress require-concurrent")
    ]
    assert suppress.kind == types.CodeActionKind.QuickFix and suppress.command is not None

    # executeCommand: the server asks the editor to apply the edit, then selects '<reason>'
    await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=suppress.command.command, arguments=suppress.command.arguments
        )
    )
    [edit] = await editor.until(lambda: editor.applied or None)
    [change] = edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.uri == uri
    assert change.text_document.version == editor.versions[uri]  # the text the action saw
    [text_edit] = change.edits
    assert isinstance(text_edit, types.TextEdit)
    assert text_edit.new_text == "-- pgpreflight: ignore[require-concurrent-index] <reason>\n"
    assert (text_edit.range.start.line, text_edit.range.start.character) == (3, 0)
    [shown] = await editor.until(lambda: editor.shown or None)
    assert shown.uri == uri and shown.selection is not None
    editor.apply(edit)
    line = editor.texts[uri].split("\n")[3]
    selection = shown.selection
    assert line[selection.start.character : selection.end.character] == "<reason>"

    # the finding is silenced; the placeholder is not a reason
    found = await editor.diagnostics(uri)
    assert _codes(found) == ["suppression-without-reason"] and found[0].range.start.line == 3

    # typing the reason over the selection leaves nothing to report
    editor.change(uri, selection, "orders holds 40 rows in every environment")
    assert await editor.diagnostics(uri) == []
    assert path.read_text() == "-- UP\n-- DOWN\n"  # the server never writes the file
    assert editor.messages == []


def test_a_fix_is_a_code_action_the_editor_applies(project: Path) -> None:
    """The rules' own fixes (linter/fixes.py) reach the editor as quick fixes: applying the
    preferred one over the unsaved buffer leaves the finding fixed, and the file untouched."""

    async def session() -> None:
        editor = Editor(project)
        await editor.start()
        try:
            path = project / "db" / "202401020000__index.sql"
            uri = editor.open(path, BUFFER)
            [index] = await editor.diagnostics(uri)
            assert index.code == "require-concurrent-index"
            actions = await editor.client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=types.TextDocumentIdentifier(uri),
                    range=index.range,
                    context=types.CodeActionContext(diagnostics=[index]),
                )
            )
            fixes = [
                a
                for a in actions or []
                if isinstance(a, types.CodeAction) and a.edit is not None and a.is_preferred
            ]
            assert fixes, [getattr(a, "title", a) for a in actions or []]
            editor.apply(fixes[0].edit)  # type: ignore[arg-type]
            assert "CREATE INDEX CONCURRENTLY" in editor.texts[uri]
            assert "require-concurrent-index" not in _codes(await editor.diagnostics(uri))
            assert path.read_text() == "-- UP\n-- DOWN\n"
        finally:
            await editor.stop()

    asyncio.run(session())


@pytest.mark.parametrize(("encoding", "character"), [("utf-8", 11), ("utf-32", 8)])
def test_positions_in_the_encoding_the_client_offers(
    project: Path, encoding: str, character: int
) -> None:
    """Helix offers UTF-8 first: the emoji before the statement is 4 bytes, 1 code point."""

    async def session() -> None:
        editor = Editor(project)
        await editor.start(encoding)
        try:
            uri = editor.open(project / "db" / "202401020000__index.sql", BUFFER)
            [index] = await editor.diagnostics(uri)
            assert (index.range.start.line, index.range.start.character) == (3, character)
        finally:
            await editor.stop()

    asyncio.run(session())


def test_diagnostics_come_for_the_uri_the_editor_opened(project: Path, tmp_path: Path) -> None:
    """A project opened through a symbolic link: the diagnostics name the file as the editor
    does, or the editor would show none."""
    link = tmp_path / "link"
    link.symlink_to(project, target_is_directory=True)

    async def session() -> None:
        editor = Editor(link)
        await editor.start()
        try:
            uri = editor.open(link / "db" / "202401020000__index.sql", BUFFER)
            assert "/link/db/" in uri
            [index] = await editor.diagnostics(uri)
            assert index.code == "require-concurrent-index"
        finally:
            await editor.stop()

    asyncio.run(session())


def test_closing_clears_and_a_broken_configuration_is_told_once(project: Path) -> None:
    async def session() -> None:
        editor = Editor(project)
        await editor.start()
        try:
            path = project / "db" / "202401020000__index.sql"
            uri = editor.open(path, BUFFER)
            assert await editor.diagnostics(uri)
            before = len(editor.published)
            editor.client.text_document_did_close(
                types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
            )
            cleared = await editor.until(
                lambda: next((p for p in editor.published[before:] if p.uri == uri), None)
            )
            assert not cleared.diagnostics
            (project / "pgpreflight.toml").write_text('migrations = ["db"]\nselekt = 1\n')
            uri = editor.open(path, BUFFER)
            await editor.until(lambda: editor.messages or None)
            editor.change(uri, _find(BUFFER, "-- UP"), "-- UP ")
            editor.change(uri, _find(BUFFER, "-- UP"), "-- UP  ")
            (project / "pgpreflight.toml").write_text('migrations = ["db"]\n')
            editor.change(uri, _find(BUFFER, "-- UP"), "-- UP")
            assert await editor.diagnostics(uri)  # the configuration is read again once fixed
            [message] = editor.messages  # told once, not on every keystroke
            assert "pgpreflight.toml: unknown key 'selekt'" in message
        finally:
            await editor.stop()

    asyncio.run(session())


def test_without_pygls_the_command_says_what_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pgpreflight.linter.cli import main

    monkeypatch.setitem(sys.modules, "pygls", None)  # import pygls raises ImportError
    assert main(["lsp"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'pgpreflight[lsp]'" in err and "Traceback" not in err
