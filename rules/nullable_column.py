"""New column allows NULL.

Primary-key, identity and generated columns are not reported; nor are columns whose domain is
NOT NULL. A `SET NOT NULL` later in the same migration counts.

## Why is this bad?
The guide keeps consistency in the database: a column that may be NULL will, sooner or later,
hold NULL from a code path nobody thought of (a seed, an import, a hotfix in `psql`), and the
application breaks on it far from the cause. NULL also makes every query harder to get right
(`NOT IN` with a NULL matches nothing, `col <> 'x'` skips NULL rows, aggregates ignore them).
When NULL does mean something ("never logged in", "not revoked"), say so with a suppression and
its reason, or add the name to the allow list.

## Example
```sql
CREATE TABLE products (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text
);
```

Use instead:
```sql
CREATE TABLE products (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    -- pgpreflight: ignore[nullable-column] NULL = never discontinued
    discontinued_on date
);
```

## Options
- `allow`: column name patterns (shell style, `*_at`) that may stay nullable. Default
  `["deleted_at"]` (soft deletes: NULL means "not deleted").
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short
from pgpreflight.linter.schema import Domain

ID = "nullable-column"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {"allow": ["deleted_at"]}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    assert ctx.schema_before is not None and ctx.schema_after is not None
    allow = [str(p) for p in ctx.options["allow"]]
    for fact in ctx.facts.added_columns():
        if any(fnmatch.fnmatchcase(fact.name, pattern) for pattern in allow):
            continue
        table = ctx.schema_after.table(fact.table)
        column = table.columns.get(fact.name) if table is not None else None
        if table is None or column is None or table.persistence == "temporary":
            continue
        before = ctx.schema_before.table(fact.table)
        if before is not None and fact.name in before.columns:
            continue  # ADD COLUMN IF NOT EXISTS on a column that was already there
        if column.not_null or column.identity or column.generated:
            continue
        domain = ctx.schema_after.type(column.type)
        if isinstance(domain, Domain) and domain.not_null:
            continue
        yield ctx.finding(
            fact.stmt,
            f"column {short(fact.table)}.{fact.name} allows NULL",
            node=fact.node,
            hint="add NOT NULL (with a DEFAULT), "
            "or suppress it with the reason NULL is meaningful here",
        )
