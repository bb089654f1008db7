"""UPDATE or DELETE without WHERE on an existing table: every row changes.

## Why is this bad?
An `UPDATE` or `DELETE` with no `WHERE` touches every row of the table in one transaction: a
forgotten condition deletes production data, and even an intended one holds row locks on the
whole table (blocking every concurrent write to those rows) and bloats it with one dead tuple per
row until vacuum runs. Tables created in the same migration are not reported (they hold only
what the migration put there), nor is a DOWN emptying a table its own UP created.

## Example
```sql
UPDATE users SET newsletter = false;
```

Use instead:
```sql
UPDATE users SET newsletter = false WHERE id BETWEEN 1 AND 10000 AND newsletter;
-- repeat per batch, ideally outside the schema migration
```

## References
- https://www.postgresql.org/docs/current/sql-update.html
- https://www.postgresql.org/docs/current/sql-delete.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.provenance import made_by_migration, reverts_up, table_exists

ID = "dml-without-where"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.UpdateStmt, ast.DeleteStmt):
            if not isinstance(node, (ast.UpdateStmt, ast.DeleteStmt)):
                continue
            if node.whereClause is not None or node.relation is None:
                continue
            table = relation_name(node.relation)
            if ctx.table_is_new(table, stmt):
                continue
            if made_by_migration(ctx, stmt, table_exists(table), name=table):
                continue
            if reverts_up(ctx, stmt, "table", table):
                continue
            if isinstance(node, ast.DeleteStmt):
                message = f"DELETE without WHERE removes every row of '{short(table)}'"
                hint = "add the WHERE clause that selects the rows to delete, and delete in batches"
            else:
                name = short(table)
                message = f"UPDATE without WHERE rewrites every row of '{name}' in one transaction"
                hint = (
                    "add a WHERE clause; for a backfill, update in batches of a few thousand rows"
                )
            yield ctx.finding(stmt, message, hint=hint)
