"""Column DEFAULT dropped: INSERTs that leave the column out store NULL, or fail.

## Why is this bad?
Code of the running release that inserts without naming the column relied on the default. After
`ALTER COLUMN ... DROP DEFAULT` those rows get NULL, or the INSERT fails with a not-null
violation when the column is `NOT NULL`, from the moment the migration commits until every
instance runs code that sets the column itself.

A column added in the same migration, a DOWN reverting its own UP's `SET DEFAULT`, and a default
set again later in the same section (drop, change the type, set) are not reported.

## Example
```sql
ALTER TABLE users ALTER COLUMN status DROP DEFAULT;
```

Use instead:
```sql
-- deploy code that always sets status first, then:
-- pgpreflight: ignore[drop-default] every INSERT names status since release 42
ALTER TABLE users ALTER COLUMN status DROP DEFAULT;
```

## Differences from squawk
Defaults the same migration set, and DOWN reverting its UP, are not reported.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Section, Statement
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.provenance import reverts_up

ID = "drop-default"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["ban-drop-default"]}
PRESETS = ("guide",)


def _set_again(section: Section, stmt: Statement, table: str, column: str) -> bool:
    """A later ALTER ... SET DEFAULT on the same column in the section (the drop-default,
    change-type, set-default dance of a type change)."""
    seen = False
    for other in section.all_statements():
        if other is stmt:
            seen = True
            continue
        node = other.node
        if not (seen and isinstance(node, ast.AlterTableStmt) and node.relation is not None):
            continue
        if relation_name(node.relation) != table:
            continue
        for cmd in node.cmds or ():
            if (
                isinstance(cmd, ast.AlterTableCmd)
                and cmd.subtype == AlterTableType.AT_ColumnDefault
                and cmd.name == column
                and cmd.def_ is not None
            ):
                return True
    return False


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, table, cmd in section.alter_commands(AlterTableType.AT_ColumnDefault):
            if ctx.table_is_new(table, stmt):
                continue
            before = (
                ctx.schema_before.table(ctx.facts.name_before(table, stmt))
                if ctx.schema_before is not None
                else None
            )
            after = ctx.schema_after.table(table) if ctx.schema_after is not None else None
            if cmd.def_ is not None:
                continue  # SET DEFAULT
            column = str(cmd.name)
            if reverts_up(ctx, stmt, "column", column, table):
                continue
            if _set_again(section, stmt, table, column):
                continue
            known = before.columns.get(column) if before is not None else None
            if before is not None and (known is None or known.default is None):
                continue  # added by this migration, or no default before its UP: a revert
            col = known or (after.columns.get(column) if after is not None else None)
            effect = (
                "fail with a not-null violation"
                if col is not None and col.not_null
                else "store NULL"
            )
            yield ctx.finding(
                stmt,
                f"dropping the default of '{short(table)}.{column}' makes INSERTs that omit it "
                f"{effect}",
                node=cmd,
                hint="deploy code that always sets the column first, then drop the default",
            )
