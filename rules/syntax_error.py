"""Statement that PostgreSQL cannot parse.

## Why is this bad?
The migration fails on deploy at this statement. In a runner that wraps the file in a
transaction, everything before it is rolled back; in one that does not, the schema is left half
migrated. The message is PostgreSQL's own parser's (pglast), so it is what the server would say.

## Example
```sql
-- UP
CREAT TABLE tags (id bigint PRIMARY KEY);
-- DOWN
DROP TABLE tags;
```

Use instead:
```sql
-- UP
CREATE TABLE tags (id bigint PRIMARY KEY);
-- DOWN
DROP TABLE tags;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "syntax-error"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for err in section.syntax_errors:
            yield ctx.finding(
                err.source,
                f"{err.message} (in {section.kind.upper()})",
                offset=err.offset,
                hint="fix the statement; the rest of the file was still checked",
            )
