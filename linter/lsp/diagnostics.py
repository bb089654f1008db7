"""Findings as LSP diagnostics: the rule id as the code, the hint on a second line (Neovim and
Helix show the message inline, where a hover is one keystroke too far), positions in the
client's encoding."""

from __future__ import annotations

from lsprotocol import types
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.lsp.positions import UTF16, lsp_position
from pgpreflight.linter.positions import LineIndex

SOURCE = "pgpreflight"
SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


def finding_range(finding: Finding, lines: LineIndex, encoding: str = UTF16) -> types.Range:
    """Where the finding is. One without extent (a file-level finding at 1:1) spans the rest of
    its line: an empty range is invisible in most editors."""
    start = lsp_position(lines, finding.line, finding.column, encoding)
    end = lsp_position(lines, finding.end_line, finding.end_column, encoding)
    if end <= start:
        line_end = len(lines.line_text(finding.line)) + 1
        end = lsp_position(lines, finding.line, line_end, encoding)
    return types.Range(
        start=types.Position(line=start[0], character=start[1]),
        end=types.Position(line=end[0], character=end[1]),
    )


def diagnostic(finding: Finding, lines: LineIndex, encoding: str = UTF16) -> types.Diagnostic:
    message = finding.message + (f"\nhint: {finding.hint}" if finding.hint else "")
    return types.Diagnostic(
        range=finding_range(finding, lines, encoding),
        message=message,
        severity=SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.rule,
        source=SOURCE,
    )
