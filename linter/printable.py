"""User content made safe to print: terminals, CI logs and XML never see it as commands.

File names, identifiers (a quoted identifier may hold a newline or an escape sequence), messages
quoting them and SQL excerpts all reach text output. Printed raw, an ESC sequence drives the
reader's terminal, a newline forges an output line, and a line starting with `::` is executed by
GitHub Actions as a workflow command (`::error file=...::`, `::add-mask::`, `::stop-commands::`).
So text reporters escape control characters in every field (`printable`, shown as `\\n`, `\\x1b`,
the way Python's repr shows them; a backslash itself stays as it is) and pass their whole output
through `guard_lines`, which defuses any line that would still start a workflow command.
"""

from __future__ import annotations

import re
from typing import Any

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0 controls, DEL, C1 controls, line/paragraph separators, bidirectional overrides and isolates
# (they reorder what a reader sees: "Trojan Source"), lone surrogates (undecodable file names).
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufeff]"
)
# What XML 1.0 forbids: everything outside #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
# [#x10000-#x10FFFF], written as that complement (those ranges cost 5 ms to compile each run).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Workflow commands (`::name ...::`) and the runner's older `##[name ...]` form; the runner
# ignores leading whitespace.
_COMMAND_LINE = re.compile(r"^(\s*)(::|##\[)", re.M)


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, keep: str = "\t") -> str:
    """`text` with control and reordering characters shown as escapes (`keep`: ones left as is)."""
    if text.isprintable():  # every character `_CONTROL` names is one Python calls unprintable
        return text
    return _CONTROL.sub(lambda m: m.group() if m.group() in keep else _escape(m.group()), text)


def printable_all(value: Any, keep: str = "\t") -> Any:
    """`value` (JSON-like data) with every string passed through `printable`."""
    if isinstance(value, str):
        return printable(value, keep)
    if isinstance(value, dict):
        return {k: printable_all(v, keep) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_all(v, keep) for v in value]
    return value


def guard_lines(text: str) -> str:
    """`text` where no line starts (after blanks) with `::` or `##[`: the first character of such
    a line is escaped (`\\x3a:error`), so the CI runner prints it instead of executing it."""
    return _COMMAND_LINE.sub(
        lambda m: m.group(1) + _escape_any(m.group(2)[0]) + m.group(2)[1:], text
    )


def _escape_any(ch: str) -> str:
    return f"\\x{ord(ch):02x}"


def xml_safe(text: str) -> str:
    """`text` with the characters XML 1.0 cannot hold shown as escapes (the rest is left to the
    XML writer's own escaping)."""
    return _NOT_XML.sub(lambda m: _escape(m.group()), text)
