"""Database dropped from a migration.

## Why is this bad?
`DROP DATABASE` deletes a whole database, every table and row in it, and cannot run inside a
transaction, so a migration runner that wraps files in one fails halfway. A schema migration has
no business removing databases; an environment teardown script does.

## Example
```sql
DROP DATABASE analytics;
```

Use instead:
```sql
-- drop databases from an operations runbook, never from a migration
DROP TABLE IF EXISTS analytics_scratch;
```

## Differences from squawk
Same scope as ban-drop-database.

## References
- https://www.postgresql.org/docs/current/sql-dropdatabase.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "drop-database"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["ban-drop-database"]}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.DropdbStmt):
            yield ctx.finding(
                stmt,
                f"dropping database '{node.dbname}' deletes every table and row in it",
                hint="remove it from the migration; drop databases from an operations runbook",
            )
