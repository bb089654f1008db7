"""Column uses `serial` / `bigserial` / `smallserial`.

## Why is this bad?
A serial column is an integer with a separately owned sequence and a `nextval()` default: the
sequence has its own privileges (an INSERT fails for a role granted the table but not the
sequence), `CREATE TABLE ... LIKE` and dumps of a single table lose the link, and explicit ids
inserted by hand do not move the sequence, so a later INSERT collides with a duplicate key in
production. An identity column (SQL standard, PostgreSQL 10+) keeps sequence and column together
and `GENERATED ALWAYS` refuses stray explicit ids; a `uuid DEFAULT gen_random_uuid()` key avoids
the sequence altogether.

## Example
```sql
CREATE TABLE tags (
    id serial PRIMARY KEY,
    name text NOT NULL
);
```

Use instead:
```sql
CREATE TABLE tags (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);
```

## Differences from squawk
Same advice (identity columns, or uuid keys).

## References
- https://www.postgresql.org/docs/current/sql-createtable.html (GENERATED ... AS IDENTITY)
- https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_serial
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short
from pgpreflight.linter.schema.names import serial_base

ID = "serial-column"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["prefer-identity"]}
PRESETS = ("guide",)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for column in ctx.facts.added_columns():
        type_name = column.node.typeName
        base = serial_base(type_name) if type_name is not None else None
        if base is None:
            continue
        yield ctx.finding(
            column.stmt,
            f"column {short(column.table)}.{column.name} is {column.type}: a separate sequence "
            "with its own privileges that explicit ids do not advance",
            node=column.node,
            hint=f"use {base} GENERATED ALWAYS AS IDENTITY, or uuid DEFAULT gen_random_uuid()",
        )
