"""NOT NULL dropped from a column: readers that count on a value start getting NULLs.

## Why is this bad?
`ALTER COLUMN ... DROP NOT NULL` is instant, but it changes the contract every reader relies on:
code, reports and other services that assumed the column always has a value now meet NULLs
(`NullPointerException`, wrong `COUNT(col)`, `col = x` silently false). Putting the constraint
back later needs a full-table check under lock and a cleanup of the NULL rows written meanwhile.

A column added in the same migration, and a DOWN reverting its own UP's `SET NOT NULL`, are not
reported.

## Example
```sql
ALTER TABLE orders ALTER COLUMN customer_id DROP NOT NULL;
```

Use instead:
```sql
-- pgpreflight: ignore[drop-not-null] guest checkout: readers handle NULL since release 42
ALTER TABLE orders ALTER COLUMN customer_id DROP NOT NULL;
```

## Differences from squawk
Columns added in the same migration, and DOWN reverting its UP's SET NOT NULL, are not reported.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast.enums import AlterTableType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short
from pgpreflight.linter.provenance import reverts_up

ID = "drop-not-null"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["ban-drop-not-null"]}
PRESETS = ("guide",)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, table, cmd in section.alter_commands(AlterTableType.AT_DropNotNull):
            if ctx.table_is_new(table, stmt):
                continue
            before = (
                ctx.schema_before.table(ctx.facts.name_before(table, stmt))
                if ctx.schema_before is not None
                else None
            )
            column = str(cmd.name)
            if reverts_up(ctx, stmt, "column", column, table):
                continue
            known = before.columns.get(column) if before is not None else None
            if before is not None and (known is None or not known.not_null):
                continue  # added by this migration, or nullable before its UP: a revert
            yield ctx.finding(
                stmt,
                f"dropping NOT NULL from '{short(table)}.{column}' lets NULLs in where readers "
                "expect a value",
                node=cmd,
                hint="make sure every reader handles NULL first; restoring NOT NULL later "
                "needs a "
                "cleanup and a validated CHECK",
            )
