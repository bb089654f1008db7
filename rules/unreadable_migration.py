r"""Migration file is binary or not valid UTF-8.

## Why is this bad?
Migration runners send the file to the server as text in the client encoding. A file saved in
Latin-1 or UTF-16, or a binary that slipped into the migrations folder, fails on deploy or,
worse, stores mangled accents in data and comments. Nothing else in the file can be checked.

## Example
```sql
-- UP
INSERT INTO cidades (nome) VALUES ('S\xe3o Paulo');
-- DOWN
DELETE FROM cidades WHERE nome = 'S\xe3o Paulo';
```

Use instead:
```sql
-- UP
INSERT INTO cidades (nome) VALUES ('São Paulo');
-- DOWN
DELETE FROM cidades WHERE nome = 'São Paulo';
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "unreadable-migration"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")
# Examples hold escapes (\xe3) that the example runner writes as raw bytes.
EXAMPLE_ENCODING = "latin-1"


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for problem in migration.problems:
        if problem.kind in ("binary", "encoding"):
            yield ctx.finding(
                problem.source,
                problem.message,
                offset=problem.offset,
                hint="save the file as UTF-8 text"
                if problem.kind == "encoding"
                else "keep only SQL files in the migrations folder",
            )
