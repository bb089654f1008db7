"""Table dropped: its rows, indexes, triggers and the foreign keys that point at it go with it.

## Why is this bad?
`DROP TABLE` deletes every row at once and cannot be undone by a DOWN section: a rollback
recreates an empty table. Application code still reading or writing the table fails as soon as
the migration commits, and `CASCADE` silently drops the foreign keys and views that depend on it.
Drop a table in a later release, after the code stopped using it and a backup or archive exists.

A table created earlier in the same migration, and a DOWN section dropping what its own UP
created, lose nothing and are not reported.

## Example
```sql
DROP TABLE legacy_events;
```

Use instead:
```sql
-- pgpreflight: ignore[drop-table] archived to s3://backups/legacy_events, unused since v42
DROP TABLE legacy_events;
```

## Differences from squawk
Tables the same migration (or its UP, for a DOWN) created are not reported: no data existed.

## References
- https://www.postgresql.org/docs/current/sql-droptable.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import DropBehavior, ObjectType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import list_name, short
from pgpreflight.linter.provenance import made_by_migration, model_before, reverts_up, table_exists

ID = "drop-table"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["ban-drop-table"]}
PRESETS = ("guide", "safety")


def _what_goes(ctx: Context, stmt: Statement, name: str, cascade: bool) -> str:
    model = model_before(ctx, stmt) or ctx.schema_before
    table = model.table(name) if model is not None else None
    parts: list[str] = []
    if table is not None and table.columns:
        parts.append(
            f"all rows of its {len(table.columns)} column{'s' if len(table.columns) != 1 else ''}"
        )
        if table.indexes:
            parts.append(f"{len(table.indexes)} index{'es' if len(table.indexes) != 1 else ''}")
    else:
        parts.append("all its rows")
    if model is not None:
        refs = sorted(
            {short(f"{t.schema}.{t.name}") for t, _ in model.referencing(name)} - {short(name)}
        )
        if refs:
            verb = "are dropped (CASCADE)" if cascade else "block the drop unless CASCADE"
            parts.append(f"foreign keys from {', '.join(refs)} {verb}")
        key = model.qualify(name)
        views = sorted(short(k) for k, v in model.views.items() if key in v.depends_on)
        if views:
            parts.append(f"dependent view{'s' if len(views) > 1 else ''} {', '.join(views)}")
    return "; ".join(parts)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.DropStmt):
            if node.removeType != ObjectType.OBJECT_TABLE:
                continue
            cascade = node.behavior == DropBehavior.DROP_CASCADE
            for obj in node.objects or ():
                name = list_name(obj)
                if made_by_migration(ctx, stmt, table_exists(name), name=name):
                    continue
                if reverts_up(ctx, stmt, "table", name):
                    continue
                goes = _what_goes(ctx, stmt, name, cascade)
                model = model_before(ctx, stmt)
                unknown = node.missing_ok and model is not None and model.table(name) is None
                yield ctx.finding(
                    stmt,
                    f"dropping table '{short(name)}' deletes {goes}"
                    + (" if it exists (no earlier migration creates it)" if unknown else ""),
                    hint="stop using the table in code first, archive it, then drop it in a later "
                    "migration; a DOWN cannot bring the rows back",
                )
