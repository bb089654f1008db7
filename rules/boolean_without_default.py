"""Boolean column is nullable or has no DEFAULT.

## Why is this bad?
A nullable boolean has three states, and code written for two treats NULL as whichever it
happens to fall into: `WHERE NOT active` skips NULL rows, `if (row.active)` in JavaScript treats it
as false. Without a DEFAULT every INSERT must name the column, and a new code path that forgets it
either fails (NOT NULL) or stores NULL. A flag almost always has a natural default.

## Example
```sql
CREATE TABLE subscriptions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    active boolean
);
```

Use instead:
```sql
CREATE TABLE subscriptions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    active boolean NOT NULL DEFAULT true
);
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short

ID = "boolean-without-default"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    assert ctx.schema_after is not None
    for fact in ctx.facts.added_columns():
        table = ctx.schema_after.table(fact.table)
        column = table.columns.get(fact.name) if table is not None else None
        if column is None or column.type != "boolean" or column.generated:
            continue
        problems = []
        if not column.not_null:
            problems.append("is nullable")
        if column.default is None:
            problems.append("has no DEFAULT")
        if not problems:
            continue
        yield ctx.finding(
            fact.stmt,
            f"boolean column {short(fact.table)}.{fact.name} {' and '.join(problems)}",
            node=fact.node,
            hint=f"declare it {fact.name} boolean NOT NULL DEFAULT false (or true)",
        )
