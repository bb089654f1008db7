"""Credentials never leave pgpreflight: the one function that scrubs them out of text.

Connection strings reach free text in many ways (a test command's output, a server's error
message, a note); every result passes through `redact` before it is saved or rendered, so
neither a password nor a URI's user part appears in any output.
"""

from __future__ import annotations

import re
from typing import Any

_URI = re.compile(r"\b(postgres(?:ql)?://)([^\s/@'\"]*)@", re.I)
# `password=` only where a connection string can hold it (start, after a space, `?`, `&`, `;`, a
# quote or a bracket), so a file named `x-password=y.sql` keeps its name.
_KV_PASSWORD = re.compile(r"((?<![^\s?&;,'\"(\[{])password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)
_ENV_PASSWORD = re.compile(r"(\bPGPASSWORD\s*=\s*)(\S+)")


# What every credential pattern above needs, "://" or "password" in any case: most strings (SQL,
# messages) have neither, and a result holds a hundred thousand of them.


def redact(text: str) -> str:
    """`text` with the credentials of every URI, `password=...` pair and PGPASSWORD replaced by ***."""
    if "://" not in text and "password" not in text.lower():  # needed by every pattern above
        return text

    def uri(m: re.Match[str]) -> str:  # user and password both go: host/dbname is enough
        return f"{m.group(1)}***@"

    text = _URI.sub(uri, text)
    text = _KV_PASSWORD.sub(lambda m: m.group(1) + "***", text)
    return _ENV_PASSWORD.sub(lambda m: m.group(1) + "***", text)


def redact_all(value: Any) -> Any:
    """`value` (JSON-like data) with every string passed through `redact`."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_all(v) for v in value]
    return value
