"""New table lacks audit columns (`created_at`, `updated_at`, `created_by`, `updated_by`).

The table is judged at the end of the migration, so a column added by a later `ALTER TABLE` in the
same file counts.

## Why is this bad?
The guide asks for the four audit columns on every table. Without them nobody can answer "when did
this row appear, when did it last change, and who did it" during an incident, a support case or an
audit, and adding them later cannot recover the history of the rows already there: every existing
row gets the migration's timestamp and an unknown author.

## Example
```sql
CREATE TABLE notes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
```

Use instead:
```sql
CREATE TABLE notes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    updated_by uuid
);
```

## Options
- `columns`: the audit columns every new table must have.
- `exempt`: table names or shell-style patterns (`*_links`, `audit.*`) that need none, such as
  the migration runner's own `schema_migrations`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import relation_name, short

ID = "missing-audit-columns"
SEVERITY = "error"
OPTIONS: dict[str, object] = {
    "columns": ["created_at", "updated_at", "created_by", "updated_by"],
    "exempt": ["schema_migrations"],
}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def _definition(name: str) -> str:
    if name.endswith("_at"):
        return f"{name} timestamptz NOT NULL DEFAULT now()"
    if name.endswith("_by"):
        return f"{name} uuid"
    return name


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    assert ctx.schema_after is not None
    wanted = [str(c) for c in ctx.options["columns"]]
    exempt = [str(p) for p in ctx.options["exempt"]]
    for stmt, node in migration.up.of(ast.CreateStmt):
        if node.relation is None or node.relation.relpersistence == "t":
            continue
        table = ctx.schema_after.table(relation_name(node.relation))
        if table is None or table.location is not stmt or table.partition_of is not None:
            continue
        if any(
            fnmatch.fnmatchcase(name, p)
            for p in exempt
            for name in (table.name, table.qualified_name)
        ):
            continue
        missing = [c for c in wanted if c not in table.columns]
        if not missing:
            continue
        yield ctx.finding(
            stmt,
            f"table {short(table.qualified_name)} lacks audit "
            f"column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}",
            hint="add " + ", ".join(_definition(c) for c in missing),
        )
