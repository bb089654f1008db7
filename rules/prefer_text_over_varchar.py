"""Column is `varchar(n)`; prefer `text` with a CHECK on its length.

## Why is this bad?
In PostgreSQL `varchar(n)` is `text` with a length check bolted into the type: it is not faster
nor smaller. The limit is usually a guess that the business outgrows, and raising it later is an
`ALTER COLUMN TYPE` that takes an ACCESS EXCLUSIVE lock (and a rewrite or re-check on older
versions or when it shrinks). A `CHECK (char_length(col) <= n)` says the same thing, and can be
replaced with `NOT VALID` plus `VALIDATE CONSTRAINT` without blocking writes.

## Example
```sql
CREATE TABLE cities (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name varchar(80) NOT NULL
);
```

Use instead:
```sql
CREATE TABLE cities (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CONSTRAINT cities_name_length CHECK (char_length(name) <= 80)
);
```

## Differences from squawk
Info severity: varchar(n) is a length check the team may want; the hint is text with a CHECK, which
can be changed without a rewrite.

## References
- https://www.postgresql.org/docs/current/datatype-character.html
- https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_varchar.28n.29_by_default
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short

ID = "prefer-text-over-varchar"
SEVERITY = "info"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["prefer-text-field"]}
PRESETS = ("guide",)

_VARCHAR = re.compile(r"^character varying\((\d+)\)(\[\])?$")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for column in ctx.facts.columns:
        m = _VARCHAR.match(column.type)
        if m is None:
            continue
        yield ctx.finding(
            column.stmt,
            f"column {short(column.table)}.{column.name} is varchar({m.group(1)}): raising the "
            "limit later means ALTER COLUMN TYPE under an ACCESS EXCLUSIVE lock",
            node=column.node,
            hint=f"use text with CHECK (char_length({column.name}) <= {m.group(1)})",
        )
