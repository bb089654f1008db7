r"""Meta-command of psql (a backslash line) in a migration file.

## Why is this bad?
Lines such as `\i other.sql`, `\set ON_ERROR_STOP` or `\connect` are commands of the psql
client, not SQL. Migration runners send the file to the server, which rejects them with a
syntax error on deploy, even if the file worked when a developer ran it with psql.

## Example
```sql
-- UP
\set ON_ERROR_STOP on
CREATE TABLE tags (id bigint PRIMARY KEY);
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

ID = "psql-meta-command"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for problem in migration.problems:
        if problem.kind == "meta-command":
            yield ctx.finding(
                problem.source,
                problem.message,
                offset=problem.offset,
                hint="remove it; put its effect in SQL (e.g. SET) or in the runner's configuration",
            )
