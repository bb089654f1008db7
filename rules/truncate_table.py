"""TRUNCATE in a migration: every row goes, and CASCADE empties the referencing tables too.

## Why is this bad?
`TRUNCATE` deletes all rows of a table under an ACCESS EXCLUSIVE lock, and no DOWN can bring them
back. With `CASCADE` it also empties every table whose foreign keys reference it, and the tables
referencing those, so `TRUNCATE countries CASCADE` can wipe `addresses` and `orders`. Tables
created earlier in the same migration hold nothing yet and are not reported.

## Example
```sql
TRUNCATE audit_log CASCADE;
```

Use instead:
```sql
-- delete in batches what must go, naming the tables
DELETE FROM audit_log WHERE created_at < now() - interval '1 year';
```

## Differences from squawk
squawk bans TRUNCATE ... CASCADE only; this rule reports any TRUNCATE of a table that existed
before the migration (the rows are gone either way), naming what CASCADE reaches.

## References
- https://www.postgresql.org/docs/current/sql-truncate.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import DropBehavior
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.provenance import model_before

ID = "truncate-table"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["ban-truncate-cascade"]}
PRESETS = ("guide", "safety")


def _cascade_reach(ctx: Context, stmt: Statement, tables: list[str]) -> list[str]:
    """Tables that CASCADE also empties: referencing tables, transitively."""
    model = model_before(ctx, stmt) or ctx.schema_before
    if model is None:
        return []
    seen = set(tables)
    todo = list(tables)
    reached: list[str] = []
    while todo:
        for t, _ in model.referencing(todo.pop()):
            key = f"{t.schema}.{t.name}"
            if key not in seen:
                seen.add(key)
                reached.append(key)
                todo.append(key)
    return reached


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.TruncateStmt):
            tables = [relation_name(r) for r in node.relations or ()]
            existing = [t for t in tables if not ctx.table_is_new(t, stmt)]
            if not existing:
                continue
            names = ", ".join(f"'{short(t)}'" for t in existing)
            message = f"TRUNCATE deletes every row of {names}"
            if node.behavior == DropBehavior.DROP_CASCADE:
                reach = _cascade_reach(ctx, stmt, existing)
                also = f": {', '.join(short(t) for t in reach)}" if reach else ""
                message += f", and CASCADE also empties every table referencing them{also}"
            yield ctx.finding(
                stmt,
                message,
                hint="name every table to empty and drop CASCADE, or DELETE in batches what must "
                "go",
            )
