"""Foreign key whose columns lead no index on the referencing table.

Judged on the schema at the end of the migration history: an index created by a later migration
covers the key. The finding points at the statement that added the foreign key.

## Why is this bad?
PostgreSQL indexes the referenced side (it must be a primary key or unique) but never the
referencing columns. Every DELETE or key UPDATE on the parent row then scans the whole child table
to check for references (under a lock, once per parent row: a cascade over thousands of rows is
thousands of sequential scans), and the joins the foreign key exists for cannot use an index. It
is invisible while the child table is small and becomes an outage when it is not.

## Example
```sql
CREATE TABLE comments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id bigint NOT NULL CONSTRAINT fk_comments_post REFERENCES posts (id),
    body text NOT NULL
);
```

Use instead:
```sql
CREATE TABLE comments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id bigint NOT NULL CONSTRAINT fk_comments_post REFERENCES posts (id),
    body text NOT NULL
);
CREATE INDEX idx_comments_post_id ON comments (post_id);
```

## References
- https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast.enums import ConstrType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.schema import FOREIGN_KEY, Index

ID = "foreign-key-without-index"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def _covers(index: Index, columns: tuple[str, ...]) -> bool:
    """The index can find the rows of one key value: its leading plain columns are the key's."""
    if index.predicate is not None or len(index.elements) < len(columns):
        return False
    if index.method not in ("btree", "hash") or (index.method == "hash" and len(columns) > 1):
        return False
    leading = [e.column for e in index.elements[: len(columns)]]
    return None not in leading and set(leading) == set(columns)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    assert ctx.schema_final is not None
    for fact in ctx.facts.constraints:
        node = fact.node
        if node.contype != ConstrType.CONSTR_FOREIGN:
            continue
        columns = (
            tuple(a.sval for a in node.fk_attrs)
            if node.fk_attrs
            else ((fact.column,) if fact.column else ())
        )
        table = ctx.schema_final.table(fact.table)
        if table is None or not columns:
            continue
        if not any(
            c.kind == FOREIGN_KEY and c.columns == columns for c in table.constraints.values()
        ):
            continue  # dropped again later in the history
        if any(_covers(index, columns) for index in table.indexes.values()):
            continue
        name = short(table.qualified_name)
        cols = ", ".join(columns)
        parent = short(relation_name(node.pktable))
        yield ctx.finding(
            fact.stmt,
            f"foreign key {name}({cols}) has no index: every delete or key update on {parent} "
            f"scans {name}",
            node=node,
            hint=f"CREATE INDEX CONCURRENTLY idx_{table.name}_{'_'.join(columns)} "
            f"ON {name} ({cols})",
        )
