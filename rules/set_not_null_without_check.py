"""SET NOT NULL on an existing column without a validated CHECK (col IS NOT NULL) first.

## Why is this bad?
`ALTER COLUMN ... SET NOT NULL` takes ACCESS EXCLUSIVE and scans the whole table to prove there
is no NULL: reads and writes stop for the length of the scan. From PostgreSQL 12 the scan is
skipped when a validated `CHECK (col IS NOT NULL)` constraint already proves it, and such a
CHECK can be added `NOT VALID` (brief lock) and validated under SHARE UPDATE EXCLUSIVE (no
blocking). Before 12 there is no way around the scan: keep the validated CHECK instead of NOT
NULL, or set it in a quiet window.

## Example
```sql
ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
```

Use instead:
```sql
-- file: 202312011200__create_orders.sql
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);
-- file: 202401011200__check_customer_id.sql
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_not_null
    CHECK (customer_id IS NOT NULL) NOT VALID;
-- file: 202401011300__validate_customer_id.sql
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_not_null;
-- file: 202401011400__customer_id_not_null.sql
ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_customer_id_not_null;
```

## Differences from squawk
From PostgreSQL 12 a validated CHECK (col IS NOT NULL), earlier in the history or the file, makes
SET NOT NULL skip the scan, and is not reported; squawk reports every SET NOT NULL.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-DROP-NOT-NULL
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, NullTestType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.locks import has_not_null_check
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name, short

ID = "set-not-null-without-check"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["adding-not-nullable-field"],
    "eugene": ["E2"],
    "strong_migrations": ["change_column_null"],
}
PRESETS = ("guide", "safety")


def _is_not_null_check(con: ast.Constraint, column: str) -> bool:
    expr = con.raw_expr
    return bool(
        con.contype == ConstrType.CONSTR_CHECK
        and isinstance(expr, ast.NullTest)
        and expr.nulltesttype == NullTestType.IS_NOT_NULL
        and isinstance(expr.arg, ast.ColumnRef)
        and str(getattr((expr.arg.fields or ("",))[-1], "sval", "")) == column
    )


def _checked_earlier(statements: list[Statement], upto: Statement, table: str, column: str) -> bool:
    """A CHECK (column IS NOT NULL) added validated, or NOT VALID then validated, before `upto`."""
    pending: set[str] = set()
    for stmt in statements:
        if stmt is upto:
            return False
        node = stmt.node
        if not isinstance(node, ast.AlterTableStmt) or relation_name(node.relation) != table:
            continue
        for cmd in node.cmds or ():
            if not isinstance(cmd, ast.AlterTableCmd):
                continue
            if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(
                cmd.def_, ast.Constraint
            ):
                if _is_not_null_check(cmd.def_, column):
                    if not cmd.def_.skip_validation:
                        return True
                    pending.add(str(cmd.def_.conname))
            elif cmd.subtype == AlterTableType.AT_ValidateConstraint and str(cmd.name) in pending:
                return True
    return False


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        statements = list(section.all_statements())
        for stmt, node in section.of(ast.AlterTableStmt):
            table = relation_name(node.relation)
            if not ctx.facts.existing(table, stmt) or not ctx.facts.forward(stmt):
                continue
            schema = ctx.schema_before if stmt.section == "up" else ctx.schema_after
            for cmd in node.cmds or ():
                if (
                    not isinstance(cmd, ast.AlterTableCmd)
                    or cmd.subtype != AlterTableType.AT_SetNotNull
                ):
                    continue
                column = str(cmd.name)
                if ctx.pg_version >= (12,) and (
                    has_not_null_check(schema, ctx.facts.name_before(table, stmt), column)
                    or _checked_earlier(statements, stmt, table, column)
                ):
                    continue
                name = f"{table.split('.')[-1]}_{column}_not_null"
                if ctx.pg_version >= (12,):
                    hint = (
                        f"ALTER TABLE {short(table)} ADD CONSTRAINT {name} CHECK ({column} IS "
                        "NOT NULL) NOT VALID; "
                        f"then in a later migration ALTER TABLE {short(table)} VALIDATE "
                        f"CONSTRAINT {name}; then "
                        f"SET NOT NULL and DROP CONSTRAINT {name}"
                    )
                else:
                    hint = (
                        f"PostgreSQL {ctx.pg_version} always scans: keep a validated CHECK "
                        f"({column} IS NOT "
                        "NULL) instead, or set NOT NULL in a quiet window with a short lock_timeout"
                    )
                yield ctx.finding(
                    stmt,
                    f"setting NOT NULL on '{short(table)}.{column}' scans the whole table under "
                    "ACCESS EXCLUSIVE, "
                    "blocking reads and writes",
                    node=cmd,
                    severity=ctx.facts.severity(table, ctx.severity),
                    hint=hint,
                )
