"""Enum value added without BEFORE or AFTER: it sorts last, whatever it means.

## Why is this bad?
Enum values compare and sort in the order they were declared, not alphabetically. A value added
without `BEFORE` or `AFTER` goes to the end, so for an ordered enum (a workflow status, a
priority, a size) `ORDER BY status` and `status < 'approved'` silently put the new value in the
wrong place. When the order does not matter this is noise, hence the info level.

## Example
```sql
ALTER TYPE order_status ADD VALUE 'packed';
```

Use instead:
```sql
ALTER TYPE order_status ADD VALUE 'packed' AFTER 'paid';
```

## Differences from squawk
Same trigger as require-enum-value-ordering, at info level: for an enum whose order means nothing
an appended value is fine, so this is a prompt to think, not an error.

## References
- https://www.postgresql.org/docs/current/sql-altertype.html
- https://www.postgresql.org/docs/current/datatype-enum.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import list_name, short

ID = "enum-value-order"
SEVERITY = "info"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["require-enum-value-ordering"]}
PRESETS = ("guide",)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for stmt, node in migration.up.of(ast.AlterEnumStmt):
        if node.oldVal is not None or node.newVal is None or node.newValNeighbor is not None:
            continue
        name = list_name(node.typeName)
        enum = ctx.schema_before.type(name) if ctx.schema_before is not None else None
        values = getattr(enum, "values", ())
        if enum is not None and len(values) < 2:
            continue  # nothing to be ordered against
        last = f" after '{values[-1]}'" if values else ""
        yield ctx.finding(
            stmt,
            f"value '{node.newVal}' is added at the end of enum '{short(name)}'{last}; ORDER BY "
            "and "
            "comparisons use declaration order",
            hint=f"say where it belongs: ADD VALUE '{node.newVal}' BEFORE '...' or AFTER '...'",
        )
