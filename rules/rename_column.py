"""Column renamed: running code that uses the old name fails until it is redeployed.

## Why is this bad?
`ALTER TABLE ... RENAME COLUMN` is instant, but every query of the release still running names
the old column and fails from the moment the migration commits until all instances run the new
code. ORMs that cache column lists fail on `INSERT` and `SELECT *` mapping as well.

Rename in steps: add the new column, write to both, backfill, switch reads, then drop the old
column in a later release. A DOWN reverting its own UP's rename is not reported.

## Example
```sql
ALTER TABLE users RENAME COLUMN name TO full_name;
```

Use instead:
```sql
ALTER TABLE users ADD COLUMN full_name text;
-- deploy code writing both columns, backfill in batches, switch reads, drop "name" later
```

## Differences from squawk
Columns the same migration added, and DOWN reverting its UP's rename, are not reported.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.provenance import column_exists, made_by_migration

ID = "rename-column"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["renaming-column"],
    "strong_migrations": ["rename_column"],
}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.RenameStmt):
            if node.renameType != ObjectType.OBJECT_COLUMN or node.relation is None:
                continue
            if node.relationType not in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_FOREIGN_TABLE):
                continue
            table = relation_name(node.relation)
            old, new = str(node.subname), str(node.newname)
            if ctx.table_is_new(table, stmt):
                continue
            if made_by_migration(ctx, stmt, column_exists(table, old)):
                continue
            yield ctx.finding(
                stmt,
                f"renaming column '{old}' of '{short(table)}' to '{new}' breaks running code that "
                f"still uses '{old}'",
                hint=f"add column {new}, write to both, backfill, move reads, then drop {old} in a "
                "later "
                "migration",
            )
