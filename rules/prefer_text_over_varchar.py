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
    name text NOT NULL CONSTRAINT ck_cities_name_length CHECK (char_length(name) <= 80)
);
```

## Fix
Declares the column `text` with a CHECK on its length, named by the `index-naming` option
`check-patterns` (`ck_<table>_<column>_length` by default). Safe for a column of a table this
migration creates: no row holds a value yet, and the CHECK accepts what `varchar(n)` accepted. No
fix on an existing table (the CHECK would scan it: constraint-without-not-valid), for an array,
or for ALTER COLUMN TYPE.

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

from pglast.stream import maybe_double_quote_name as quote
from pgpreflight.linter import fixes
from pgpreflight.linter.context import Context
from pgpreflight.linter.facts import ColumnFact
from pgpreflight.linter.findings import Finding, Fix
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short
from pgpreflight.linter.tokens import element_end, index_at, keywords_at, statement_tokens

ID = "prefer-text-over-varchar"
SEVERITY = "info"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["prefer-text-field"]}
PRESETS = ("guide",)
FIX = "safe"

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
            fix=_fix(ctx, column, m.group(1)) if not m.group(2) else None,
        )


def _fix(ctx: Context, column: ColumnFact, limit: str) -> Fix | None:
    """`varchar(n)` -> `text` and a CHECK on the length at the end of the column's definition,
    for a column of a table this migration creates: on an existing table the CHECK would scan
    it under ACCESS EXCLUSIVE (constraint-without-not-valid)."""
    stmt = column.stmt
    if column.action == "alter type" or not ctx.facts.created_here(column.table, stmt):
        return None
    found = fixes.type_base(stmt, column.node.typeName)
    if found is None:
        return None
    tokens, i = found
    if keywords_at(tokens, i, "VARCHAR", "ASCII_40", "ICONST", "ASCII_41"):
        last = tokens[i + 3]
    elif keywords_at(tokens, i, "CHARACTER", "VARYING", "ASCII_40", "ICONST", "ASCII_41"):
        last = tokens[i + 4]
    else:
        return None
    if len(tokens) > tokens.index(last) + 1:
        return None  # an array, or more than the type
    every = statement_tokens(stmt)
    first = index_at(every, stmt.node_offset(column.node))
    if first is None:
        return None
    end = every[element_end(every, first) - 1].end
    table = column.table.split(".", 1)[1]
    name = fixes.check_name(ctx.config, table, column.name, "length")
    named = f"CONSTRAINT {quote(name)} " if name else ""
    check = f" {named}CHECK (char_length({quote(column.name)}) <= {limit})"
    return fixes.safe(
        f"declare {column.name} text{check}",
        fixes.edit(stmt.source, tokens[0].start, last.end, "text"),
        fixes.insert(stmt.source, end, check),
    )
