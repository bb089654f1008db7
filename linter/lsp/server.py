"""The language server: pygls wiring of the lint (diagnostics), code actions and hover.

Lints run one at a time on one worker thread (the projects they update are not shared between
threads), in the order asked; a lint asked for an older version of a document than the newest
one is skipped, so a burst of keystrokes costs one lint more than the one running. The event
loop keeps answering hover and code actions meanwhile, from the last lint of each document.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pgpreflight.linter import __version__
from pgpreflight.linter.engine import SUPPRESSION_RULES
from pgpreflight.linter.errors import PgPreflightError
from pgpreflight.linter.lsp.actions import (
    FIX_ALL_KIND,
    SUPPRESS_COMMAND,
    ClientEdits,
    Document,
    Documents,
    Suppress,
    fix_action,
    fix_all_action,
)
from pgpreflight.linter.lsp.diagnostics import diagnostic, finding_range
from pgpreflight.linter.lsp.hover import hover_markdown
from pgpreflight.linter.lsp.project import DocumentLint
from pgpreflight.linter.lsp.workspace import Workspace
from pgpreflight.linter.registry import all_rules
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Opened:
    """The editor's open files when a lint was asked, by resolved path: their text, their
    version (edits carry it, so a client refuses an edit of text that changed since) and the
    URI the client names them by (a path through a symlink resolves elsewhere)."""

    texts: dict[Path, str]
    versions: dict[Path, int]
    uris: dict[Path, str]

    def uri(self, path: Path) -> str:
        return self.uris.get(path) or str(from_fs_path(str(path)))


@dataclass(frozen=True)
class Linted:
    """A document's last lint, and the open files it read."""

    lint: DocumentLint
    opened: Opened


@dataclass(frozen=True)
class Outcome:
    """What the worker hands back: the lint (None: the file is no migration), or an error to
    tell the user."""

    lint: DocumentLint | None = None
    error: str | None = None


def _path(uri: str) -> Path | None:
    """The file of a `file:` URI (untitled buffers and other schemes have none)."""
    if not uri.startswith("file:"):
        return None
    fs_path = to_fs_path(uri)
    return Path(fs_path).resolve() if fs_path else None


def _contains(outer: types.Range, inner: types.Range) -> bool:
    """Whether the two ranges meet (a cursor is an empty range)."""
    a, b, c, d = outer.start, outer.end, inner.start, inner.end
    return (a.line, a.character) <= (d.line, d.character) and (c.line, c.character) <= (
        b.line,
        b.character,
    )


@dataclass
class Session:
    """What the server holds between messages."""

    server: LanguageServer
    workspace: Workspace = field(default_factory=Workspace)
    linted: dict[Path, Linted] = field(default_factory=dict)
    """Resolved path -> the last lint that judged it (each file of the migration linted)."""
    wanted: dict[str, int] = field(default_factory=dict)
    """URI -> the newest version a lint was asked for."""
    published: dict[str, set[str]] = field(default_factory=dict)
    """URI of a linted document -> the URIs its lint published diagnostics for."""
    worker: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="pgpreflight-lint")
    )
    shown: set[str] = field(default_factory=set)
    """Error messages already shown (a broken configuration is told once, not per keystroke)."""

    @property
    def encoding(self) -> str:
        chosen = self.server.workspace.position_encoding
        return str(getattr(chosen, "value", chosen) or "utf-16")

    def open_documents(self) -> Opened:
        """What the editor holds."""
        opened = Opened({}, {}, {})
        for uri, document in self.server.workspace.text_documents.items():
            path = _path(uri)
            if path is not None:
                opened.texts[path] = document.source
                opened.uris[path] = uri
                if document.version is not None:
                    opened.versions[path] = document.version
        return opened

    async def lint(self, uri: str) -> None:
        """Lint the open document `uri` and publish the diagnostics of its migration's files."""
        path = _path(uri)
        if path is None:
            return
        version = self.server.workspace.get_text_document(uri).version or 0
        self.wanted[uri] = version
        opened = self.open_documents()
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(
            self.worker, self._lint, uri, version, path, opened.texts
        )
        if outcome is None:  # a newer version of the document is being linted
            return
        if outcome.error is not None:
            self._tell(outcome.error)
            return
        lint = outcome.lint
        if lint is None:  # not a migration: nothing of ours to show
            self._publish(uri, {uri: []}, opened)
            return
        linted = Linted(lint, opened)
        diagnostics: dict[str, list[types.Diagnostic]] = {}
        for file, findings in lint.findings.items():
            self.linted[file] = linted
            lines = lint.sources[file].lines
            diagnostics[opened.uri(file)] = [diagnostic(f, lines, self.encoding) for f in findings]
        LOG.debug("linted %s v%s in %.3f s", path, version, lint.seconds)
        self._publish(uri, diagnostics, opened)

    def _lint(self, uri: str, version: int, path: Path, texts: dict[Path, str]) -> Outcome | None:
        """On the worker: None when a newer version is waiting."""
        if self.wanted.get(uri) != version:
            return None
        try:
            return Outcome(lint=self.workspace.lint(path, texts))
        except PgPreflightError as err:
            return Outcome(error=f"pgpreflight: {err.message}")
        except Exception as err:  # a bug must not take the editor's server down
            LOG.exception("linting %s failed", path)
            return Outcome(
                error=f"pgpreflight: internal error linting {path.name}: {type(err).__name__}: {err}"
            )

    def _publish(
        self, owner: str, diagnostics: dict[str, list[types.Diagnostic]], opened: Opened
    ) -> None:
        stale = self.published.get(owner, set()) - set(diagnostics)
        for uri in stale:
            diagnostics[uri] = []
        self.published[owner] = {uri for uri, found in diagnostics.items() if found}
        for uri, found in diagnostics.items():
            path = _path(uri)
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(
                    uri=uri,
                    diagnostics=found,
                    version=opened.versions.get(path) if path is not None else None,
                )
            )

    def _tell(self, message: str) -> None:
        LOG.warning("%s", message)
        if message in self.shown:
            return
        self.shown.add(message)
        self.server.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=message)
        )

    async def closed(self, uri: str) -> None:
        path = _path(uri)
        if path is None:
            return
        self.wanted.pop(uri, None)
        texts = self.open_documents().texts
        texts.pop(path, None)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.worker, self.workspace.closed, path, texts)
        open_uris = set(self.server.workspace.text_documents)
        still = set().union(*(v for k, v in self.published.items() if k != uri and k in open_uris))
        for target in self.published.pop(uri, set()) | {uri}:
            if target not in still:
                self.server.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=target, diagnostics=[])
                )

    def _document(self, linted: Linted) -> Documents:
        """The `actions.Documents` of one lint: files it read, at the versions it read them."""

        def document(path: Path) -> Document:
            resolved = path.resolve()
            source = linted.lint.sources.get(resolved)
            lines = source.lines if source is not None else None
            if lines is None and resolved.is_file():
                from pgpreflight.linter.positions import LineIndex

                lines = LineIndex(resolved.read_text(encoding="utf-8", errors="replace"))
            opened = linted.opened
            return Document(opened.uri(resolved), opened.versions.get(resolved), lines)

        return document

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        path = _path(params.text_document.uri)
        linted = self.linted.get(path) if path is not None else None
        if path is None or linted is None:
            return []
        lint = linted.lint
        lines = lint.sources[path].lines
        documents = self._document(linted)
        client = ClientEdits.of(self.server.client_capabilities)
        only = params.context.only
        wanted_kinds = [str(k) for k in only] if only else None

        def wanted(kind: str) -> bool:
            return wanted_kinds is None or any(
                kind == k or kind.startswith(k + ".") for k in wanted_kinds
            )

        actions: list[types.CodeAction] = []
        seen: set[tuple[str, int]] = set()
        for finding in lint.findings.get(path, []):
            diag = diagnostic(finding, lines, self.encoding)
            if not _contains(params.range, diag.range):
                continue
            if finding.fix is not None and wanted(types.CodeActionKind.QuickFix):
                action = fix_action(finding, finding.fix, diag, documents, self.encoding, client)
                if action is not None:
                    actions.append(action)
            if finding.rule in SUPPRESSION_RULES or not wanted(types.CodeActionKind.QuickFix):
                continue
            suppress = Suppress.of(
                finding,
                lint.statements.get(path, []),
                lines,
                params.text_document.uri,
                linted.opened.versions.get(path),
            )
            if (finding.rule, suppress.line) not in seen:
                seen.add((finding.rule, suppress.line))
                actions.append(suppress.action(finding, diag, client))
        if wanted(FIX_ALL_KIND):
            fix_all = fix_all_action(lint.findings.get(path, []), documents, self.encoding, client)
            if fix_all is not None:
                actions.append(fix_all)
        return actions

    def hover(self, params: types.HoverParams) -> types.Hover | None:
        path = _path(params.text_document.uri)
        linted = self.linted.get(path) if path is not None else None
        if path is None or linted is None:
            return None
        lines = linted.lint.sources[path].lines
        cursor = types.Range(params.position, params.position)
        under = [
            (finding, finding_range(finding, lines, self.encoding))
            for finding in linted.lint.findings.get(path, [])
        ]
        under = [(f, r) for f, r in under if _contains(r, cursor)]
        if not under:
            return None
        text = hover_markdown([f for f, _ in under], all_rules())
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
            range=under[0][1],
        )

    async def suppress(self, argument: Any) -> None:
        """Insert the suppression comment, then select its `<reason>` for the user to type."""
        suppress = Suppress.from_arguments(argument)
        result = await self.server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(
                edit=suppress.edit(ClientEdits.of(self.server.client_capabilities)),
                label="Suppress with a reason",
            )
        )
        if not result.applied:
            LOG.info("the client did not apply the suppression: %s", result.failure_reason)
            return
        window = self.server.client_capabilities.window
        if window is not None and window.show_document is not None and window.show_document.support:
            await self.server.window_show_document_async(
                types.ShowDocumentParams(
                    uri=suppress.uri,
                    take_focus=True,
                    selection=suppress.placeholder(self.encoding),
                )
            )


def build_server() -> LanguageServer:
    """A server with every feature registered, not started."""
    server = LanguageServer("pgpreflight", __version__)
    session = Session(server)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(params: types.DidOpenTextDocumentParams) -> None:
        await session.lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(params: types.DidChangeTextDocumentParams) -> None:
        await session.lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(params: types.DidSaveTextDocumentParams) -> None:
        # A saved migration is history for the others: every open document is judged again.
        for uri in list(server.workspace.text_documents):
            await session.lint(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(params: types.DidCloseTextDocumentParams) -> None:
        await session.closed(params.text_document.uri)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND]),
    )
    def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        return session.code_actions(params)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(params: types.HoverParams) -> types.Hover | None:
        return session.hover(params)

    @server.command(SUPPRESS_COMMAND)
    async def suppress(*arguments: Any) -> None:
        await session.suppress(arguments[0] if arguments else None)

    return server


def serve() -> int:
    """Speak LSP on standard input and output until the client says exit."""
    build_server().start_io()
    return 0
