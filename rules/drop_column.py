"""Column dropped: its data is gone, and running code that still names it fails.

## Why is this bad?
`ALTER TABLE ... DROP COLUMN` is quick (PostgreSQL only marks the column dropped) but the data
cannot be recovered by a rollback, and every query of the running application that names the
column (or `INSERT`s with a column list from an ORM's cache) fails from the moment the migration
commits. Indexes and constraints on the column go with it; with `CASCADE`, dependent views too.

Deploy code that no longer reads or writes the column first, then drop it in a later migration.
A column added earlier in the same migration, a DOWN section dropping what its own UP added, and
the copy-and-swap pattern (drop `x`, then rename `x_new` to `x` in the same section) are not
reported.

## Example
```sql
ALTER TABLE users DROP COLUMN legacy_token;
```

Use instead:
```sql
-- pgpreflight: ignore[drop-column] no code reads legacy_token since release 42
ALTER TABLE users DROP COLUMN legacy_token;
```

## Differences from squawk
A column the same migration added, and a DOWN dropping what its UP added, are not reported: only
data that existed before is lost.

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
from pgpreflight.linter.provenance import (
    column_exists,
    made_by_migration,
    model_before,
    replaced_by_rename,
    reverts_up,
)

ID = "drop-column"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["ban-drop-column"],
    "strong_migrations": ["remove_column"],
}
PRESETS = ("guide", "safety")


def _dependants(ctx: Context, stmt: Statement, table: str, column: str) -> str:
    model = model_before(ctx, stmt) or ctx.schema_before
    t = model.table(table) if model is not None else None
    if t is None:
        return ""
    idx = sorted(i.name for i in t.indexes.values() if column in i.columns or column in i.uses)
    cons = sorted(c.name for c in t.constraints.values() if column in c.columns or column in c.uses)
    parts = []
    if idx:
        parts.append(f"index{'es' if len(idx) > 1 else ''} {', '.join(idx)}")
    if cons:
        parts.append(f"constraint{'s' if len(cons) > 1 else ''} {', '.join(cons)}")
    return f" ({' and '.join(parts)} dropped with it)" if parts else ""


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, table, cmd in section.alter_commands(AlterTableType.AT_DropColumn):
            column = str(cmd.name)
            if ctx.table_is_new(table, stmt):
                continue
            if made_by_migration(ctx, stmt, column_exists(table, column), name=column):
                continue
            if reverts_up(ctx, stmt, "column", column, table):
                continue
            if replaced_by_rename(ctx, stmt, table, column):
                continue  # copy-and-swap: a new column takes over the name (and the data)
            emptied = _truncated_before(section, stmt, table)
            message = (
                f"dropping column '{column}' of '{short(table)}' breaks running code that names "
                f"it (the TRUNCATE at line {emptied.line} already emptied the table)"
                if emptied is not None
                else f"dropping column '{column}' of '{short(table)}' deletes its data"
                f"{_dependants(ctx, stmt, table, column)}; running code that names it fails"
            )
            yield ctx.finding(
                stmt,
                message,
                node=cmd,
                hint="deploy code that no longer uses the column, then drop it in a later "
                "migration",
            )


def _truncated_before(section: Section, stmt: Statement, table: str) -> Statement | None:
    """The TRUNCATE of `table` earlier in the section: its rows, and the column's data, are
    gone before the DROP runs."""
    for earlier, node in section.of(ast.TruncateStmt):
        if earlier.offset < stmt.offset and any(
            relation_name(r) == table for r in node.relations or () if isinstance(r, ast.RangeVar)
        ):
            return earlier
    return None
