"""Schema dropped: with CASCADE, every table, view, function and type in it goes too.

## Why is this bad?
`DROP SCHEMA ... CASCADE` removes everything inside the schema in one statement, data included,
and a DOWN section cannot bring the rows back. Without `CASCADE` it fails as soon as the schema
holds anything, which the model of the history often shows in advance.

A schema created in the same migration, and a DOWN dropping what its UP created, are not reported.

## Example
```sql
DROP SCHEMA reporting CASCADE;
```

Use instead:
```sql
-- drop the objects one by one, each after the code stopped using it
DROP VIEW IF EXISTS reporting.daily_totals;
```

## Differences from squawk
Schemas the same migration created are not reported.

## References
- https://www.postgresql.org/docs/current/sql-dropschema.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import DropBehavior, ObjectType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.provenance import made_by_migration, model_before, reverts_up, schema_exists

ID = "drop-schema"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["ban-drop-schema"]}
PRESETS = ("guide", "safety")


def _contents(ctx: Context, stmt: Statement, schema: str) -> str:
    model = model_before(ctx, stmt) or ctx.schema_before
    if model is None:
        return ""
    counts = [
        (len([k for k in model.tables if k.startswith(schema + ".")]), "table"),
        (len([k for k in model.views if k.startswith(schema + ".")]), "view"),
        (len([k for k in model.functions if k.startswith(schema + ".")]), "function"),
        (len([k for k in model.types if k.startswith(schema + ".")]), "type"),
    ]
    shown = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in counts if n]
    return f" ({', '.join(shown)} with their data)" if shown else ""


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.DropStmt):
            if node.removeType != ObjectType.OBJECT_SCHEMA:
                continue
            cascade = node.behavior == DropBehavior.DROP_CASCADE
            for obj in node.objects or ():
                schema = str(getattr(obj, "sval", obj))
                if made_by_migration(ctx, stmt, schema_exists(schema), name=schema):
                    continue
                if reverts_up(ctx, stmt, "schema", schema):
                    continue
                what = "drops everything in it" if cascade else "fails unless it is empty"
                yield ctx.finding(
                    stmt,
                    f"dropping schema '{schema}' {what}{_contents(ctx, stmt, schema)}",
                    hint="drop the objects one by one after the code stopped using them",
                )
