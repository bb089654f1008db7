"""Foreign key whose columns lead no index on the referencing table.

Judged on the schema at the end of the migration history: an index created by a later migration
covers the key. The finding points at the statement that added the foreign key.

## Why is this bad?
PostgreSQL indexes the referenced side (it must be a primary key or unique) but never the
referencing columns. Every DELETE or key UPDATE on the parent row then scans the whole child table
to check for references (under a lock, once per parent row: a cascade over thousands of rows is
thousands of sequential scans), and the joins the foreign key exists for cannot use an index. It
is invisible while the child table is small and becomes an outage when it is not.

A partial index whose predicate only leaves out rows with a NULL key (`WHERE parent_id IS NOT
NULL`, common on optional foreign keys) covers the key: the lookup `parent_id = $1` implies it.

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
from typing import Any

from pglast import ast, enums
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


def _keeps_every_key(where: Any, columns: tuple[str, ...]) -> bool:
    """The partial index's WHERE (its tree; None when it has none pglast reads) only drops rows
    whose key is NULL (`fk IS NOT NULL`, ANDed over key columns): the lookup `fk = $1` implies
    it, and the planner uses the index."""
    if where is None:
        return False
    terms = (
        list(where.args or ())
        if isinstance(where, ast.BoolExpr) and where.boolop == enums.BoolExprType.AND_EXPR
        else [where]
    )
    for term in terms:
        fields = getattr(term.arg, "fields", None) if isinstance(term, ast.NullTest) else None
        if not (
            isinstance(term, ast.NullTest)
            and term.nulltesttype == enums.NullTestType.IS_NOT_NULL
            and isinstance(term.arg, ast.ColumnRef)
            and fields is not None
            and len(fields) == 1
            and getattr(fields[0], "sval", None) in columns
        ):
            return False
    return True


def _covers(index: Index, columns: tuple[str, ...]) -> bool:
    """The index can find the rows of one key value: its leading plain columns are the key's,
    and a partial index's predicate keeps every row with a non-NULL key."""
    if index.predicate is not None and not _keeps_every_key(index.predicate.tree, columns):
        return False
    if len(index.elements) < len(columns):
        return False
    if index.method not in ("btree", "hash") or (index.method == "hash" and len(columns) > 1):
        return False
    leading = [e.column for e in index.elements[: len(columns)]]
    return None not in leading and set(leading) == set(columns)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for fact in ctx.facts.constraints:
        node = fact.node
        if node.contype != ConstrType.CONSTR_FOREIGN:
            continue
        columns = (
            tuple(a.sval for a in node.fk_attrs)
            if node.fk_attrs
            else ((fact.column,) if fact.column else ())
        )
        final = ctx.schema_final  # asked only for a foreign key: it replays the later history
        assert final is not None
        table = final.table(fact.table)
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
