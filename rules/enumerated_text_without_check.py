"""Text column whose name says it holds one of a few values has no CHECK, enum, domain or FK.

Columns named `status`, `state`, `kind`, `type`, `role` or ending in `_status`, ... (configurable)
of type `text`, `varchar` or `char` are reported unless, at the end of the migration, a CHECK
constraint or a foreign key covers them.

## Why is this bad?
The set of allowed values then lives only in application code. A typo (`'actve'`), an old client,
a manual fix or an import writes a value no code handles, and the row silently drops out of every
`WHERE status = ...` screen and report. The guide asks for consistency in the database: a CHECK
(or an enum type, a domain, or a foreign key to a lookup table) rejects the bad value at write
time.

## Example
```sql
CREATE TABLE tickets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status text NOT NULL DEFAULT 'open'
);
```

Use instead:
```sql
CREATE TABLE tickets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status text NOT NULL DEFAULT 'open'
        CONSTRAINT ck_tickets_status CHECK (status IN ('open', 'pending', 'closed'))
);
```

## Options
- `names`: shell-style patterns of column names that hold enumerated values. `*_type` is not in
  the default list because `mime_type`, `content_type` and the like are open-ended.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short
from pgpreflight.linter.schema import CHECK, FOREIGN_KEY

ID = "enumerated-text-without-check"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {
    "names": [
        "status",
        "state",
        "kind",
        "type",
        "role",
        "*_status",
        "*_state",
        "*_kind",
        "*_role",
    ],
}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)

_TEXT = re.compile(r"^(text|citext|character varying(\(\d+\))?|character(\(\d+\))?)$")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    assert ctx.schema_after is not None
    patterns = [str(p) for p in ctx.options["names"]]
    for fact in ctx.facts.added_columns():
        if not any(fnmatch.fnmatchcase(fact.name, p) for p in patterns):
            continue
        table = ctx.schema_after.table(fact.table)
        column = table.columns.get(fact.name) if table is not None else None
        if table is None or column is None or not _TEXT.match(column.type):
            continue
        covered = any(
            (c.kind == CHECK and fact.name in c.uses)
            or (c.kind == FOREIGN_KEY and fact.name in c.columns)
            for c in table.constraints.values()
        )
        if covered:
            continue
        yield ctx.finding(
            fact.stmt,
            f"column {short(fact.table)}.{fact.name} ({column.type}) holds enumerated values "
            "but nothing in the database restricts them",
            node=fact.node,
            hint=f"add CONSTRAINT ck_{table.name}_{fact.name} CHECK ({fact.name} IN (...)), "
            "or use an enum type or a foreign key to a lookup table",
        )
