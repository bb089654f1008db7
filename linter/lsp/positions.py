"""Columns as findings count them (characters, 1-based) and as the Language Server Protocol
counts them (code units of the negotiated encoding, 0-based; UTF-16 unless the client offers
better). A character outside the Basic Multilingual Plane is two UTF-16 units: an emoji in a
comment before a finding moves every LSP position after it on that line by one."""

from __future__ import annotations

from pgpreflight.linter.positions import LineIndex

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def _units(char: str, encoding: str) -> int:
    code = ord(char)
    if encoding == UTF8:
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    if encoding == UTF16:
        return 2 if code > 0xFFFF else 1
    return 1


def to_units(line_text: str, column: int, encoding: str = UTF16) -> int:
    """The LSP `character` of 1-based character `column` of `line_text` (clamped to the line's
    end, as LSP asks)."""
    prefix = line_text[: max(column - 1, 0)]
    if encoding == UTF32:
        return len(prefix)
    return sum(_units(c, encoding) for c in prefix)


def to_column(line_text: str, character: int, encoding: str = UTF16) -> int:
    """The 1-based character column of LSP `character` on `line_text` (inside a character that
    takes several units: that character)."""
    seen = 0
    for i, char in enumerate(line_text):
        if seen >= character:
            return i + 1
        seen += _units(char, encoding)
        if seen > character:
            return i + 1
    return len(line_text) + 1


def lsp_position(
    lines: LineIndex, line: int, column: int, encoding: str = UTF16
) -> tuple[int, int]:
    """(line, character) for LSP of a 1-based (line, column) in the text of `lines`."""
    return line - 1, to_units(lines.line_text(line), column, encoding)


def text_position(
    lines: LineIndex, line: int, character: int, encoding: str = UTF16
) -> tuple[int, int]:
    """The inverse of `lsp_position`: 1-based (line, column) of an LSP position."""
    return line + 1, to_column(lines.line_text(line + 1), character, encoding)
