"""Identifier longer than 63 bytes: PostgreSQL silently truncates it.

## Why is this bad?
Names are limited to 63 bytes (NAMEDATALEN - 1). A longer table, column, index or constraint name
is cut to 63 bytes with only a NOTICE, so the catalog holds a different name than the migration
and the code: a later `DROP INDEX` or `ALTER ... RENAME CONSTRAINT` with the full name may hit a
different object, two long names sharing the first 63 bytes collide ("relation already exists"),
and error handlers matching constraint names never match. The limit is in bytes, not
characters: 32 accented letters already take 64 bytes in UTF-8.

## Example
```sql
CREATE INDEX idx_inscricoes_participante_oficina_status_data_inscricao_confirmada
    ON inscricoes (status);
```

Use instead:
```sql
CREATE INDEX idx_inscricoes_status ON inscricoes (status);
```

## Differences from squawk
Same limit (63 bytes, not characters), read from the scanner's tokens, so a long string literal is
not an identifier.

## References
- https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pglast.parser import ParseError, scan
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "identifier-too-long"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["identifier-too-long"]}
PRESETS = ("guide",)

LIMIT = 63


def identifier_value(raw: str) -> str:
    """The name PostgreSQL stores: quoted as written, unquoted folded to lower case."""
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return raw[1:-1].replace('""', '"')
    if raw[:2].lower() == "u&":
        return raw
    return raw.lower()


# Runs of characters that can make an identifier, quoted ones whole: an identifier longer than
# LIMIT bytes is inside one of them.
_NAME_RUN = re.compile(r'"(?:[^"]|"")*"|[^\s"(),;.\[\]:=<>+\-*/%^|&!~@#?\']+')


def _may_hold_long_name(text: str) -> bool:
    if text.isascii() and '"' not in text and max(map(len, text.split()), default=0) <= LIMIT:
        return False  # an unquoted ASCII name lies within a word: split() is the fast scan
    return any(
        len(run.encode("utf-8")) > LIMIT for run in _NAME_RUN.findall(text) if len(run) * 4 > LIMIT
    )


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    seen: set[str] = set()
    for section in migration.sections():
        for stmt in section.all_statements():
            if stmt.nested:
                continue  # the DO body is a string; its statements are checked one by one
            if not _may_hold_long_name(stmt.text):
                continue  # no run of name characters is long enough: the scan would find none
            try:
                tokens = scan(stmt.text)
            except ParseError:
                continue
            for tok in tokens:
                if tok.name != "IDENT":
                    continue
                raw = stmt.text[tok.start : tok.end + 1]
                name = identifier_value(raw)
                size = len(name.encode("utf-8"))
                if size <= LIMIT or name in seen:
                    continue
                seen.add(name)
                kept = name.encode("utf-8")[:LIMIT].decode("utf-8", "ignore")
                yield ctx.finding(
                    stmt,
                    f"identifier '{name}' is {size} bytes; PostgreSQL silently truncates it to "
                    f"'{kept}'",
                    offset=stmt.offset + tok.start,
                    end_offset=stmt.offset + tok.end + 1,
                    hint=f"use a name of at most {LIMIT} bytes",
                )
