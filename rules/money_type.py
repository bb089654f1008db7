"""Column uses the `money` type.

## Why is this bad?
`money` stores a fixed number of fractional digits decided by the server's `lc_monetary`
setting, not by the column: restoring a dump on a server with another locale silently reinterprets
every amount, it cannot hold a currency, it rounds on division, and it converts to and from text
with locale-specific symbols that drivers parse differently. `numeric(p, s)` (plus a currency
column when several exist) is exact and portable.

## Example
```sql
CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    total money NOT NULL
);
```

Use instead:
```sql
CREATE TABLE invoices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    total numeric(12, 2) NOT NULL
);
```

## References
- https://www.postgresql.org/docs/current/datatype-money.html
- https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_money
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short

ID = "money-type"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for column in ctx.facts.columns:
        if column.type.removesuffix("[]") != "money":
            continue
        yield ctx.finding(
            column.stmt,
            f"column {short(column.table)}.{column.name} is money: its precision follows the "
            "server's lc_monetary and changes meaning on another locale",
            node=column.node,
            hint="use numeric(12, 2) (and a currency column if there is more than one)",
        )
