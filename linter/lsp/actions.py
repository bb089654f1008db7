"""Code actions: a finding's `Fix` as a quick fix, every safe fix of a document at once
(`source.fixAll.pgpreflight`, for "fix on save"), and "suppress with a reason".

Fixes are built from `Finding.fix` alone, whatever rule made them: their edits count characters
(1-based columns) in the text that was linted, and become LSP positions in the client's encoding
here; an edit that creates a file (a statement split off into a new migration) becomes a
CreateFile then an insert, which needs a client that supports resource operations.

The suppress action is a command (`pgpreflight.suppress`): the server asks the client to apply
the edit (`workspace/applyEdit`), then selects the `<reason>` placeholder (`window/showDocument`)
so that typing replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pgpreflight.linter.findings import Edit, Finding, Fix
from pgpreflight.linter.lsp.positions import UTF16, lsp_position, to_units
from pgpreflight.linter.positions import LineIndex
from pgpreflight.linter.suppressions import REASON_PLACEHOLDER

SUPPRESS_COMMAND = "pgpreflight.suppress"
FIX_ALL_KIND = "source.fixAll.pgpreflight"


@dataclass(frozen=True)
class Document:
    """A file as an edit addresses it: its URI, the version of the open document the positions
    were computed in (None when it is not open), and its text (None: not created yet)."""

    uri: str
    version: int | None
    lines: LineIndex | None


Documents = Callable[[Path], Document]
"""The document of a path as findings and edits name it (relative to the working folder)."""


@dataclass(frozen=True)
class ClientEdits:
    """What the client's workspace edits can hold (its `workspace.workspaceEdit` capabilities),
    and whether it applies the edits a server asks for (`workspace.applyEdit`)."""

    document_changes: bool = True
    create_files: bool = True
    apply_edit: bool = True

    @classmethod
    def of(cls, capabilities: types.ClientCapabilities) -> ClientEdits:
        workspace = capabilities.workspace
        edit = workspace.workspace_edit if workspace else None
        apply_edit = bool(workspace and workspace.apply_edit)
        if edit is None:
            return cls(False, False, apply_edit)
        operations = edit.resource_operations or []
        return cls(
            bool(edit.document_changes),
            bool(edit.document_changes) and types.ResourceOperationKind.Create in operations,
            apply_edit,
        )


def _range(
    lines: LineIndex, start: tuple[int, int], end: tuple[int, int], encoding: str
) -> types.Range:
    a = lsp_position(lines, *start, encoding)
    b = lsp_position(lines, *end, encoding)
    return types.Range(types.Position(*a), types.Position(*b))


def workspace_edit(
    edits: Iterable[Edit], documents: Documents, encoding: str, client: ClientEdits
) -> types.WorkspaceEdit | None:
    """`edits` as one workspace edit; None when the client cannot apply them (a new file
    without resource operations)."""
    by_path: dict[str, list[Edit]] = {}
    for edit in edits:
        by_path.setdefault(edit.path, []).append(edit)
    changes: list[types.TextDocumentEdit | types.CreateFile] = []
    plain: dict[str, list[types.TextEdit]] = {}
    origin = types.Range(types.Position(0, 0), types.Position(0, 0))
    for path, file_edits in by_path.items():
        document = documents(Path(path))
        text_edits: list[types.TextEdit] = []
        version = document.version
        if any(e.new_file for e in file_edits):
            if not client.create_files:
                return None
            changes.append(
                types.CreateFile(
                    uri=document.uri,
                    options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
                )
            )
            text_edits = [types.TextEdit(origin, e.replacement) for e in file_edits]
            version = None
        elif document.lines is None:
            return None
        else:
            lines = document.lines
            text_edits = [
                types.TextEdit(
                    _range(
                        lines, (e.start_line, e.start_column), (e.end_line, e.end_column), encoding
                    ),
                    e.replacement,
                )
                for e in file_edits
            ]
        plain[document.uri] = text_edits
        changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=document.uri, version=version
                ),
                edits=list(text_edits),
            )
        )
    if client.document_changes:
        return types.WorkspaceEdit(document_changes=changes)
    return types.WorkspaceEdit(changes=plain)


def fix_action(
    finding: Finding,
    fix: Fix,
    diagnostic: types.Diagnostic,
    documents: Documents,
    encoding: str,
    client: ClientEdits,
) -> types.CodeAction | None:
    """The finding's fix as a quick fix; an unsafe one says so in its title and is never the
    preferred action (it changes what the migration does: read it before applying)."""
    edit = workspace_edit(fix.edits, documents, encoding, client)
    if edit is None:
        return None
    safe = fix.applicability == "safe"
    return types.CodeAction(
        title=f"{fix.description} ({finding.rule})" + ("" if safe else " [unsafe]"),
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=safe,
        edit=edit,
    )


def fix_all_action(
    findings: Iterable[Finding], documents: Documents, encoding: str, client: ClientEdits
) -> types.CodeAction | None:
    """Every safe fix of the document whose edits do not overlap an earlier one's, as one
    source action (VS Code's `editor.codeActionsOnSave`, Neovim's `vim.lsp.buf.code_action`)."""
    chosen: list[Edit] = []
    taken: list[tuple[str, int, int]] = []
    for finding in findings:
        fix = finding.fix
        if fix is None or fix.applicability != "safe" or any(e.new_file for e in fix.edits):
            continue
        spans = [(e.path, e.start, e.end) for e in fix.edits]
        if any(p == q and a < d and c < b for p, a, b in spans for q, c, d in taken):
            continue
        if any(p == q and a == b == c == d for p, a, b in spans for q, c, d in taken):
            continue  # two inserts at one place: their order would be a guess
        taken.extend(spans)
        chosen.extend(fix.edits)
    if not chosen:
        return None
    edit = workspace_edit(chosen, documents, encoding, client)
    if edit is None:
        return None
    return types.CodeAction(title="Apply every safe pgpreflight fix", kind=FIX_ALL_KIND, edit=edit)


@dataclass(frozen=True)
class Suppress:
    """What the suppress action inserts and where: a comment line that becomes `line` (1-based),
    above the statement the finding is in, or the file's first line for a finding outside any
    statement (those need `ignore-file`)."""

    uri: str
    version: int | None
    line: int
    text: str

    @classmethod
    def of(
        cls,
        finding: Finding,
        statements: list[tuple[int, int]],
        lines: LineIndex,
        uri: str,
        version: int | None,
    ) -> Suppress:
        for first, last in statements:
            if first <= finding.line <= last:
                code = lines.line_text(first)
                indent = code[: len(code) - len(code.lstrip())]
                comment = f"-- pgpreflight: ignore[{finding.rule}] {REASON_PLACEHOLDER}"
                return cls(uri, version, first, f"{indent}{comment}\n")
        comment = f"-- pgpreflight: ignore-file[{finding.rule}] {REASON_PLACEHOLDER}"
        return cls(uri, version, 1, comment + "\n")

    def arguments(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_arguments(cls, data: Any) -> Suppress:
        """The command's argument back, as the client returns it (JSON): checked, since it
        crossed the wire."""
        if not isinstance(data, dict):
            raise ValueError("pgpreflight.suppress takes one object argument")
        uri, version, line, text = (data.get(k) for k in ("uri", "version", "line", "text"))
        if not (
            isinstance(uri, str)
            and (version is None or isinstance(version, int))
            and isinstance(line, int)
            and line >= 1
            and isinstance(text, str)
            and text.endswith("\n")
        ):
            raise ValueError(f"pgpreflight.suppress: bad argument {data!r}")
        return cls(uri, version, line, text)

    def edit(self, client: ClientEdits) -> types.WorkspaceEdit:
        at = types.Position(self.line - 1, 0)
        insert = types.TextEdit(types.Range(at, at), self.text)
        if not client.document_changes:
            return types.WorkspaceEdit(changes={self.uri: [insert]})
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=self.uri, version=self.version
                    ),
                    edits=[insert],
                )
            ]
        )

    def placeholder(self, encoding: str = UTF16) -> types.Range:
        """Where `<reason>` is once the comment is inserted."""
        comment = self.text.rstrip("\n")
        start = comment.rindex(REASON_PLACEHOLDER) + 1
        end = start + len(REASON_PLACEHOLDER)
        line = self.line - 1
        return types.Range(
            types.Position(line, to_units(comment, start, encoding)),
            types.Position(line, to_units(comment, end, encoding)),
        )

    def action(
        self, finding: Finding, diagnostic: types.Diagnostic, client: ClientEdits
    ) -> types.CodeAction:
        """The command that applies the edit then selects `<reason>`; the edit itself for a
        client that does not apply edits a server asks for."""
        scope = "file" if "ignore-file[" in self.text else "statement"
        title = f"Suppress {finding.rule} for this {scope}, with a reason"
        if not client.apply_edit:
            return types.CodeAction(
                title=title,
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                edit=self.edit(client),
            )
        return types.CodeAction(
            title=title,
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            command=types.Command(
                title=title, command=SUPPRESS_COMMAND, arguments=[self.arguments()]
            ),
        )
