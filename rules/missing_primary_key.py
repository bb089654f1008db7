"""New table has no primary key.

The table is judged as it is at the end of the migration, so an `ALTER TABLE ... ADD PRIMARY KEY`
later in the same file counts. Partitions are judged through their partitioned table.

## Why is this bad?
Without a primary key (or a UNIQUE key on NOT NULL columns) nothing stops duplicate rows, and
there is no reliable way to address one row: the application updates or deletes several rows
where it meant one, ORMs refuse or guess. And logical replication (and tools built on it, such as
zero-downtime upgrades and CDC) cannot replicate UPDATE or DELETE on the table: they fail with
`cannot update table ... because it does not have a replica identity`.

A table whose UNIQUE index covers NOT NULL columns only (no expression, no WHERE) does prevent
duplicates and identifies each row: it is reported as a warning, because replication still
needs that index named as the replica identity (`ALTER TABLE ... REPLICA IDENTITY USING INDEX`),
which the simplest fix makes unnecessary (`ADD PRIMARY KEY USING INDEX`).

## Example
```sql
CREATE TABLE audit_events (
    occurred_at timestamptz NOT NULL DEFAULT now(),
    payload jsonb NOT NULL
);
```

Use instead:
```sql
CREATE TABLE audit_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    payload jsonb NOT NULL
);
```

## References
- https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-PRIMARY-KEYS
- https://www.postgresql.org/docs/current/logical-replication-publication.html (replica identity)
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ObjectType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.schema import Index, Table

ID = "missing-primary-key"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    assert ctx.schema_after is not None
    for stmt, node in migration.up.of(ast.CreateStmt, ast.CreateTableAsStmt):
        if isinstance(node, ast.CreateTableAsStmt):
            if node.objtype != ObjectType.OBJECT_TABLE:
                continue
            rel = node.into.rel if node.into is not None else None
        elif isinstance(node, ast.CreateStmt):
            rel = node.relation
        else:
            continue
        if rel is None or rel.relpersistence == "t":
            continue  # temporary tables live for one session
        table = ctx.schema_after.table(relation_name(rel))
        if table is None or table.location is not stmt or table.partition_of is not None:
            continue  # dropped again, renamed, IF NOT EXISTS on an existing table, or a partition
        if table.primary_key is not None:
            continue
        key = _unique_not_null(table)
        if key is not None:
            yield ctx.finding(
                stmt,
                f"table {short(table.qualified_name)} has no primary key: its unique index "
                f"{key.name} prevents duplicates, but logical replication cannot apply UPDATE or "
                "DELETE until it is the replica identity",
                hint=f"ALTER TABLE {short(table.qualified_name)} ADD PRIMARY KEY USING INDEX "
                f"{key.name}",
                severity="warning" if ctx.severity == "error" else ctx.severity,
            )
            continue
        yield ctx.finding(
            stmt,
            f"table {short(table.qualified_name)} has no primary key: duplicate rows cannot be "
            "prevented and logical replication cannot apply UPDATE or DELETE",
            hint="add id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "or a PRIMARY KEY on its natural key",
        )


def _unique_not_null(table: Table) -> Index | None:
    """A UNIQUE index on plain NOT NULL columns, no WHERE: it could be the primary key."""
    for index in table.indexes.values():
        columns = [e.column for e in index.elements]
        if (
            index.unique
            and index.predicate is None
            and columns
            and all(
                c is not None and c in table.columns and table.columns[c].not_null for c in columns
            )
        ):
            return index
    return None
