"""Extension created without `IF NOT EXISTS`.

## Why is this bad?
Extensions are installed once per database, often by a DBA, another service's migrations or the
template database, before this history runs. A plain `CREATE EXTENSION` then fails with
`extension "..." already exists`, the migration aborts, and the deploy stops on a statement that
had nothing to do. With `IF NOT EXISTS` the statement is a no-op when the extension is there.

## Example
```sql
CREATE EXTENSION pg_trgm;
```

Use instead:
```sql
CREATE EXTENSION IF NOT EXISTS pg_trgm;
```

## References
- https://www.postgresql.org/docs/current/sql-createextension.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "extension-without-if-not-exists"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for stmt, node in migration.up.of(ast.CreateExtensionStmt):
        if node.if_not_exists:
            continue
        yield ctx.finding(
            stmt,
            f"extension {node.extname} is created without IF NOT EXISTS: the migration fails "
            "where it is already installed",
            hint=f'write CREATE EXTENSION IF NOT EXISTS "{node.extname}"',
        )
