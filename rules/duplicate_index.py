"""Index duplicates another index on the same table, or makes one redundant.

An index is redundant when another index on the same table has the same method and predicate and
starts with the same key columns (same operator classes, collations and order); for methods other
than btree only an exact duplicate counts. A unique index is only redundant next to one with the
same keys. Indexes backing a constraint are never reported as the one to drop.

## Why is this bad?
Every index is written on every INSERT and on every UPDATE of its columns, takes disk and cache
space and vacuum time, and the planner picks one of the twins anyway: the duplicate costs write
throughput and memory and buys nothing. Building it on a large table also holds a lock (or, with
CONCURRENTLY, two table scans) for nothing.

## Example
```sql
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_orders_customer_id_created_at ON orders (customer_id, created_at);
CREATE INDEX idx_orders_customer_id ON orders (customer_id);
```

Use instead:
```sql
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_orders_customer_id_created_at ON orders (customer_id, created_at);
```

## References
- https://www.postgresql.org/docs/current/indexes-multicolumn.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.schema import Index

ID = "duplicate-index"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def _redundant(small: Index, big: Index) -> bool:
    """`big` serves every lookup `small` serves."""
    n = len(small.elements)
    if small.method != big.method or small.predicate != big.predicate or n > len(big.elements):
        return False
    if small.elements != big.elements[:n]:
        return False
    if (small.method != "btree" or small.unique) and n != len(big.elements):
        return False
    if small.unique and not big.unique:
        return False
    return set(small.include) <= set(big.columns) | set(big.include)


def _label(index: Index) -> str:
    return f"{index.name} ({', '.join(index.columns)})"


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    assert ctx.schema_after is not None
    for stmt, node in migration.up.of(ast.IndexStmt):
        table = ctx.schema_after.table(relation_name(node.relation))
        if table is None:
            continue
        new = next((i for i in table.indexes.values() if i.location is stmt), None)
        if new is None:
            continue
        shown = short(table.qualified_name)
        covering: list[Index] = []
        for other in table.indexes.values():
            if other is new:
                continue
            where = other.location
            if (
                isinstance(where, Statement)
                and where.source is stmt.source
                and where.offset > stmt.offset
            ):
                continue  # the later of two new indexes reports the pair
            if _redundant(new, other):
                covering.append(other)
            elif _redundant(other, new) and other.constraint is None:
                yield ctx.finding(
                    stmt,
                    f"index {_label(new)} makes {_label(other)} on {shown} redundant",
                    hint=f"DROP INDEX CONCURRENTLY {other.name} once the new index is built",
                )
        if covering:
            # one finding per new index, naming the closest twin (fewest columns)
            closest = min(covering, key=lambda i: (len(i.elements), i.name))
            more = f" and {len(covering) - 1} more" if len(covering) > 1 else ""
            yield ctx.finding(
                stmt,
                f"index {_label(new)} duplicates {_label(closest)}{more} on {shown}",
                hint=f"drop this statement: {closest.name} already serves these lookups",
            )
