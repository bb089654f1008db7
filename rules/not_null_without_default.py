"""NOT NULL column without DEFAULT added to a table created in an earlier migration.

## Why is this bad?
The table already has rows in production, and they get no value for the new column: `ALTER TABLE
... ADD COLUMN ... NOT NULL` fails with `column "..." contains null values`, after it has already
waited for its ACCESS EXCLUSIVE lock. It passes in development, where the table is empty, which is
how it reaches the deploy. Give the column a DEFAULT (metadata-only for constant defaults since
PostgreSQL 11), or add it nullable, backfill in batches, then enforce NOT NULL.

Not reported when an earlier statement of the same migration empties the table (`DELETE`
without `WHERE`, `TRUNCATE`).

## Example
```sql
-- file: 202401010000__create_orders.sql
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
-- file: 202402010000__add_channel.sql
ALTER TABLE orders ADD COLUMN channel text NOT NULL;
```

Use instead:
```sql
-- file: 202401010000__create_orders.sql
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
-- file: 202402010000__add_channel.sql
ALTER TABLE orders ADD COLUMN channel text NOT NULL DEFAULT 'web';
```

## Differences from squawk
Only tables that existed before the migration (from the history) are reported, and a table emptied
earlier in the migration is exempt; a NOT NULL column on a table created in the same file is fine.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ConstrType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.schema.names import serial_base

ID = "not-null-without-default"
# An error, not the info the first draft had: PostgreSQL rejects the statement on any non-empty
# table, so the deploy fails (this rule absorbed issue 4's "ADD COLUMN NOT NULL without DEFAULT").
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["adding-required-field"]}
PRESETS = ("guide", "safety")


def _needs_value(node: ast.ColumnDef) -> bool:
    """NOT NULL (or PRIMARY KEY) with nothing that fills existing rows."""
    kinds = {c.contype for c in node.constraints or () if isinstance(c, ast.Constraint)}
    not_null = bool(node.is_not_null) or bool(
        kinds & {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY}
    )
    filled = node.raw_default is not None or bool(
        kinds & {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}
    )
    return not_null and not filled


def _emptied_before(migration: Migration, stmt: Statement, table: str) -> bool:
    """An earlier statement of UP deletes every row (DELETE without WHERE, TRUNCATE)."""
    for earlier in migration.up.statements:
        if earlier.offset >= stmt.offset and earlier.source is stmt.source:
            return False
        node = earlier.node
        if isinstance(node, ast.DeleteStmt):
            emptied = node.whereClause is None and relation_name(node.relation) == table
        elif isinstance(node, ast.TruncateStmt):
            emptied = any(relation_name(rel) == table for rel in node.relations or ())
        else:
            emptied = False
        if emptied:
            return True
    return False


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for fact in ctx.facts.columns:
        if fact.action != "add column" or ctx.table_is_new(fact.table, fact.stmt):
            continue
        if serial_base(fact.node.typeName) if fact.node.typeName is not None else None:
            continue  # filled from its sequence
        if not _needs_value(fact.node) or _emptied_before(migration, fact.stmt, fact.table):
            continue
        yield ctx.finding(
            fact.stmt,
            f"column {short(fact.table)}.{fact.name} is NOT NULL without a DEFAULT: adding it "
            "fails when the existing table has rows",
            node=fact.node,
            hint="add a DEFAULT, or add it nullable, backfill in batches, then SET NOT NULL",
        )
