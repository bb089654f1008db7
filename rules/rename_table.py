"""Table renamed: running code that uses the old name fails until it is redeployed.

## Why is this bad?
`ALTER TABLE ... RENAME TO` is instant, but the application servers still running the previous
release query the old name and fail from the moment the migration commits until every instance
runs the new code; a rolling deploy cannot avoid that window. Views and foreign keys follow the
rename, raw SQL in other services and reports does not.

Rename in steps: create the new table (or a view with the new name over the old table), make the
code use it, then drop the old name in a later release. A DOWN reverting its own UP's rename is
not reported.

## Example
```sql
ALTER TABLE customers RENAME TO clients;
```

Use instead:
```sql
-- keep the old name working while the code moves over, drop the view later
ALTER TABLE customers RENAME TO clients;
CREATE VIEW customers AS SELECT * FROM clients;
```

## Differences from squawk
Tables the same migration created, and DOWN reverting its UP's rename, are not reported.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Section
from pgpreflight.linter.names import qualified, relation_name, short
from pgpreflight.linter.provenance import made_by_migration, table_exists

ID = "rename-table"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["renaming-table"],
    "strong_migrations": ["rename_table"],
}
PRESETS = ("guide", "safety")


def _compat_view_follows(section: Section, old: str, after: int) -> bool:
    """A view with the old name created after the rename keeps old code working."""
    return any(
        stmt.offset > after and relation_name(node.view) == old
        for stmt, node in section.of(ast.ViewStmt)
    )


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.RenameStmt):
            if node.renameType != ObjectType.OBJECT_TABLE or node.relation is None:
                continue
            old = relation_name(node.relation)
            if made_by_migration(ctx, stmt, table_exists(old)):
                continue
            if _compat_view_follows(section, old, stmt.end_offset):
                continue
            new = qualified(node.relation.schemaname, str(node.newname))
            yield ctx.finding(
                stmt,
                f"renaming table '{short(old)}' to '{short(new)}' breaks running code that still "
                f"uses '{short(old)}'",
                hint=f"rename, then CREATE VIEW {short(old)} AS SELECT * FROM {short(new)} so old "
                "code "
                "keeps working; drop the view once no deployed code uses the old name",
            )
