"""Whole-table backfill in the same transaction as schema changes: the DDL locks are held for the
whole UPDATE.

## Why is this bad?
A migration that alters a table and then runs `UPDATE that_table SET new_col = ...` over all its
rows (no `WHERE`, or only `WHERE new_col IS NULL` on a column the migration just added without
a default, which is NULL in every row) keeps every lock the DDL took, usually ACCESS
EXCLUSIVE, until the UPDATE finishes and the transaction commits: the table is unreadable for the
length of a full-table rewrite. The UPDATE also cannot be batched or resumed if it fails, and a
failure rolls back the schema change too. Tables created in the same migration are empty and not
reported, nor are UPDATEs with any other filter (`WHERE status IS NULL` on an existing column
may match a handful of rows: the model cannot tell).

## Example
```sql
ALTER TABLE users ADD COLUMN locale text;
UPDATE users SET locale = 'pt-BR' WHERE locale IS NULL;
```

Use instead:
```sql
ALTER TABLE users ADD COLUMN locale text;
-- backfill in a separate migration (no transaction), in batches:
-- UPDATE users SET locale = 'pt-BR' WHERE id BETWEEN 1 AND 10000 AND locale IS NULL;
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import BoolExprType, ConstrType, NullTestType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name, short

ID = "backfill-with-ddl"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")

# statements that lock an existing table (`relation`) until the end of the transaction
_DDL = (ast.AlterTableStmt, ast.IndexStmt, ast.RenameStmt, ast.CreateTrigStmt)


def _whole_table(where: Any, null_columns: set[str]) -> bool:
    """No WHERE, or only `col IS NULL` tests joined by AND on columns that are NULL in every row
    (added by this migration without a default): every row qualifies."""
    if where is None:
        return True
    if isinstance(where, ast.NullTest):
        fields = where.arg.fields if isinstance(where.arg, ast.ColumnRef) else None
        name = getattr(fields[-1], "sval", None) if fields else None
        return where.nulltesttype == NullTestType.IS_NULL and name in null_columns
    if isinstance(where, ast.BoolExpr) and where.boolop == BoolExprType.AND_EXPR:
        return all(_whole_table(arg, null_columns) for arg in where.args or ())
    return False


def _null_columns(ctx: Context, table: str) -> set[str]:
    """Columns of `table` this migration adds with no default: NULL in every existing row."""
    return {
        c.name
        for c in ctx.facts.added_columns()
        if c.table == table
        and not any(
            isinstance(k, ast.Constraint)
            and k.contype
            in (ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED)
            for k in c.node.constraints or ()
        )
    }


def _ddl_table(stmt: Statement) -> str | None:
    node = stmt.node
    rel = getattr(node, "relation", None)
    if isinstance(node, _DDL) and isinstance(rel, ast.RangeVar):
        return relation_name(rel)
    return None


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    statements = list(migration.up.all_statements())
    for stmt, node in migration.up.of(ast.UpdateStmt):
        if node.relation is None:
            continue
        table = relation_name(node.relation)
        if not _whole_table(node.whereClause, _null_columns(ctx, table)):
            continue
        if ctx.table_is_new(table, stmt) or not ctx.facts.of(stmt).in_transaction:
            continue
        # DDL on the same table earlier in the transaction: its lock is held until the end
        ddl = [
            s
            for s in statements
            if s.offset < stmt.offset
            and ctx.facts.of(s).in_transaction
            and ctx.facts.same_transaction(s, stmt)
            and _ddl_table(s) == table
        ]
        if not ddl:
            continue
        first = ddl[0]
        yield ctx.finding(
            stmt,
            f"UPDATE of every row of '{short(table)}' runs in the same transaction as the schema "
            "change "
            f"of that table at line {first.line}, which keeps its lock until the backfill ends",
            hint="move the backfill to its own migration without a transaction and update in "
            "batches",
        )
