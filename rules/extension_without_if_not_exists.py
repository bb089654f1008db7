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

## Fix
Adds `IF NOT EXISTS`. Safe; unsafe when the migration's DOWN drops the extension, which may
then have been installed before UP (down-does-not-revert reports that DOWN).

## References
- https://www.postgresql.org/docs/current/sql-createextension.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType
from pgpreflight.linter import fixes, guards
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding, Fix
from pgpreflight.linter.migration import Migration, Statement

ID = "extension-without-if-not-exists"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)
FIX = "safe; unsafe when DOWN drops the extension"
FIX_ADDS = ("down-does-not-revert",)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for stmt, node in migration.up.of(ast.CreateExtensionStmt):
        if node.if_not_exists:
            continue
        yield ctx.finding(
            stmt,
            f"extension {node.extname} is created without IF NOT EXISTS: the migration fails "
            "where it is already installed",
            hint=f'write CREATE EXTENSION IF NOT EXISTS "{node.extname}"',
            fix=_fix(migration, stmt, str(node.extname)),
        )


def _fix(migration: Migration, stmt: Statement, name: str) -> Fix | None:
    """IF NOT EXISTS; unsafe when DOWN drops the extension, which then may have been there
    before UP (down-does-not-revert says so)."""
    edit = guards.create_if_not_exists(stmt)
    if edit is None:
        return None
    down = migration.down.of(ast.DropStmt) if migration.down is not None else iter(())
    if any(
        node.removeType == ObjectType.OBJECT_EXTENSION
        and name in {str(getattr(o, "sval", o)) for o in node.objects or ()}
        for _, node in down
    ):
        return fixes.unsafe(
            f"add IF NOT EXISTS: DOWN then drops {name} even where it was installed before",
            edit,
        )
    return fixes.safe("add IF NOT EXISTS", edit)
