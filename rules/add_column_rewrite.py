"""ADD COLUMN GENERATED STORED, serial or identity on an existing table rewrites it.

## Why is this bad?
A stored generated column is computed for every existing row, and a serial or identity column is
filled from its sequence for every existing row: PostgreSQL rewrites the whole table and its
indexes under ACCESS EXCLUSIVE, blocking reads and writes until it is done. On a table created in
the same migration it costs nothing and is not reported.

## Example
```sql
ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (total * 100) STORED;
```

Use instead:
```sql
ALTER TABLE orders ADD COLUMN total_cents bigint;
-- fill it with a trigger for new rows and a batched backfill for old ones, in later migrations
```

## Differences from squawk
squawk's adding-field-with-default reports volatile defaults and stored generated columns (squawk
2.70 leaves `DEFAULT now()` alone, as this project does); this rule reports the ADD COLUMN forms
that rewrite whatever the default (GENERATED ... STORED, serial, identity), on tables
that existed before the migration (a table created earlier in the same section is empty). Volatile
defaults are add-column-volatile-default.

## References
- https://www.postgresql.org/docs/current/ddl-generated-columns.html
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.locks import add_column_rewrites
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short

ID = "add-column-rewrite"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["adding-field-with-default"],
    "eugene": ["E11"],
    "strong_migrations": ["add_column_generated_stored"],
}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, table, cmd in section.alter_commands(AlterTableType.AT_AddColumn):
            if not ctx.facts.existing(table, stmt) or not ctx.facts.forward(stmt):
                continue
            coldef = cmd.def_
            if not isinstance(coldef, ast.ColumnDef):
                continue
            # volatile DEFAULTs are add-column-volatile-default's; this rule covers the others
            kinds = {c.contype for c in coldef.constraints or ()}
            why = add_column_rewrites(coldef, ctx.pg_version)
            if why is None or ("DEFAULT" in why and ConstrType.CONSTR_DEFAULT in kinds):
                continue
            yield ctx.finding(
                stmt,
                f"adding '{short(table)}.{coldef.colname}' rewrites '{short(table)}' under "
                "ACCESS "
                f"EXCLUSIVE, blocking reads and writes: {why}",
                node=cmd,
                severity=ctx.facts.severity(table, ctx.severity),
                hint=f"ALTER TABLE {short(table)} ADD COLUMN {coldef.colname} <plain type>; "
                "fill new rows "
                "with a DEFAULT or trigger and old rows with a batched backfill",
            )
