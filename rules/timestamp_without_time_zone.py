"""Column is `timestamp` (without time zone) instead of `timestamptz`.

## Why is this bad?
`timestamp without time zone` stores a wall-clock reading with no zone attached. Values written
by servers, drivers or sessions in different time zones (a Node.js backend, a cron job, a `psql`
session on a laptop) land in the same column and can no longer be compared: events are ordered
wrongly, "last 24 hours" windows shift by the offset, and every daylight-saving change creates an
hour that occurs twice. `timestamptz` stores an absolute instant and converts on the way in and
out, costs the same 8 bytes, and is what `now()` returns. Changing the type later rewrites the
table under an ACCESS EXCLUSIVE lock (unless the session time zone is UTC, PostgreSQL 12+).

## Example
```sql
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    happened_at timestamp NOT NULL DEFAULT now()
);
```

Use instead:
```sql
CREATE TABLE events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    happened_at timestamptz NOT NULL DEFAULT now()
);
```

## Fix
Declares the column `timestamptz`, its precision and array brackets kept. Safe for a column this
migration adds, in CREATE TABLE or ADD COLUMN: no row holds a value yet. Unsafe for ALTER COLUMN
TYPE of an existing column, whose values are then read in the session's time zone.

## Differences from squawk
Same scope as prefer-timestamptz, for CREATE TABLE, ADD COLUMN and ALTER COLUMN TYPE.

## References
- https://www.postgresql.org/docs/current/datatype-datetime.html
- https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_timestamp_.28without_time_zone.29
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter import fixes
from pgpreflight.linter.context import Context
from pgpreflight.linter.facts import ColumnFact
from pgpreflight.linter.findings import Finding, Fix
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short
from pgpreflight.linter.tokens import keywords_at

ID = "timestamp-without-time-zone"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["prefer-timestamptz"]}
PRESETS = ("guide",)
FIX = "safe; unsafe for ALTER COLUMN TYPE of an existing column"


def _without_zone(type_text: str) -> bool:
    base = type_text.removesuffix("[]")
    return base.startswith("timestamp") and base.endswith("without time zone")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for column in ctx.facts.columns:
        if not _without_zone(column.type):
            continue
        wanted = column.type.replace("without time zone", "with time zone")
        yield ctx.finding(
            column.stmt,
            f"column {short(column.table)}.{column.name} is {column.type}: "
            "values carry no time zone and cannot be compared across sessions",
            node=column.node,
            hint=f"use timestamptz ({wanted})",
            fix=_fix(column, ctx),
        )


def _fix(column: ColumnFact, ctx: Context) -> Fix | None:
    """`timestamp[(p)] [without time zone]` -> `timestamptz[(p)]`, array brackets kept."""
    found = fixes.type_base(column.stmt, column.node.typeName)
    if found is None:
        return None
    tokens, i = found
    if not keywords_at(tokens, i, "TIMESTAMP"):
        return None
    end, precision = i, ""
    if keywords_at(tokens, i + 1, "ASCII_40", "ICONST", "ASCII_41"):
        end, precision = i + 3, f"({tokens[i + 2].text})"
    if keywords_at(tokens, end + 1, "WITHOUT", "TIME", "ZONE"):
        end += 3
    new = fixes.column_is_new(ctx.facts, column.stmt, column.table, column.action)
    return fixes.retype(
        column.stmt,
        tokens[0],
        tokens[end],
        f"timestamptz{precision}",
        new,
        f"{column.name} timestamptz",
    )
