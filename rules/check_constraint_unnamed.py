"""Constraint declared without a name.

Only CHECK constraints by default; the `kinds` option adds the others.

## Why is this bad?
PostgreSQL invents a name (`orders_total_check`, `orders_total_check1` when the first is taken),
and the DOWN section, a later migration or an incident fix must guess it to drop or replace the
constraint. The guess differs between databases that ran slightly different histories, so the
rollback fails with `constraint "..." does not exist` exactly when it is needed. An explicit name
also makes the error a client sees (`violates check constraint "ck_orders_total"`) say what broke.

## Example
```sql
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    total numeric(12, 2) NOT NULL CHECK (total >= 0)
);
```

Use instead:
```sql
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    total numeric(12, 2) NOT NULL CONSTRAINT ck_orders_total CHECK (total >= 0)
);
```

## Options
- `kinds`: which constraints must be named: any of `check`, `unique`, `foreign key`,
  `primary key`, `exclude`. Default `["check"]`.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast.enums import ConstrType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short

ID = "check-constraint-unnamed"
SEVERITY = "info"
OPT_IN = True
OPTIONS: dict[str, object] = {"kinds": ["check"]}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)

_PREFIX = {"check": "ck", "unique": "uq", "foreign key": "fk", "primary key": "pk", "exclude": "ex"}
_KINDS = {
    ConstrType.CONSTR_CHECK: "check",
    ConstrType.CONSTR_UNIQUE: "unique",
    ConstrType.CONSTR_FOREIGN: "foreign key",
    ConstrType.CONSTR_PRIMARY: "primary key",
    ConstrType.CONSTR_EXCLUSION: "exclude",
}


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    wanted = {str(k).lower() for k in ctx.options["kinds"]}
    for fact in ctx.facts.constraints:
        kind = _KINDS.get(fact.node.contype) if fact.node.contype is not None else None
        if kind is None or kind not in wanted or fact.node.conname:
            continue
        on = f"{short(fact.table)}.{fact.column}" if fact.column else short(fact.table)
        table = fact.table.split(".", 1)[1]
        yield ctx.finding(
            fact.stmt,
            f"unnamed {kind.upper()} constraint on {on}: DOWN and later migrations must guess "
            "the name PostgreSQL generates",
            node=fact.node,
            hint=f"name it: CONSTRAINT {_PREFIX[kind]}_{table}_... {kind.upper()} (...)",
        )
