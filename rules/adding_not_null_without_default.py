"""NOT NULL column added without a DEFAULT to an existing table: fails on a non-empty table.

## Why is this bad?
PostgreSQL fills a new column with its default, NULL when there is none, so
`ADD COLUMN ... NOT NULL` without `DEFAULT` fails with "column contains null values" as soon as
the table has one row. It passes in development on an empty table and breaks the deploy in
production. Even when it passes, code still running the previous release inserts rows without
the column and fails.

Identity and generated columns fill themselves and are not reported, nor are tables created in
the same migration or emptied earlier in it (`DELETE FROM t;`, `TRUNCATE t;`).

## Example
```sql
ALTER TABLE users ADD COLUMN locale text NOT NULL;
```

Use instead:
```sql
ALTER TABLE users ADD COLUMN locale text NOT NULL DEFAULT 'pt-BR';
```

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from linter.context import Context
from linter.findings import Finding
from linter.migration import Migration, Section, Statement
from linter.names import relation_name, short

ID = "adding-not-null-without-default"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS = {"squawk": "adding-required-field"}

_FILLS = (ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED)


def _emptied_before(section: Section, stmt: Statement, table: str) -> bool:
    """`DELETE FROM t` (no WHERE) or `TRUNCATE t` earlier in the section: the table has no rows."""
    for other in section.all_statements():
        if other is stmt:
            return False
        node = other.node
        if (
            isinstance(node, ast.DeleteStmt)
            and node.whereClause is None
            and relation_name(node.relation) == table
        ):
            return True
        if isinstance(node, ast.TruncateStmt) and table in {
            relation_name(r) for r in node.relations or ()
        }:
            return True
    return False


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in (migration.up, migration.down):
        if section is None:
            continue
        for stmt, node in section.of(ast.AlterTableStmt):
            if node.relation is None:
                continue
            table = relation_name(node.relation)
            if (stmt.section == "up" and ctx.table_is_new(table)) or _emptied_before(
                section, stmt, table
            ):
                continue
            for cmd in node.cmds or ():
                if (
                    not isinstance(cmd, ast.AlterTableCmd)
                    or cmd.subtype != AlterTableType.AT_AddColumn
                ):
                    continue
                col = cmd.def_
                if not isinstance(col, ast.ColumnDef):
                    continue
                kinds = {c.contype for c in col.constraints or () if isinstance(c, ast.Constraint)}
                not_null = ConstrType.CONSTR_NOTNULL in kinds or ConstrType.CONSTR_PRIMARY in kinds
                if not not_null or kinds & set(_FILLS) or col.raw_default is not None:
                    continue
                type_names = [
                    getattr(n, "sval", "")
                    for n in ((col.typeName.names or ()) if col.typeName else ())
                ]
                if type_names and type_names[-1] in (
                    "serial",
                    "bigserial",
                    "smallserial",
                    "serial4",
                    "serial8",
                    "serial2",
                ):
                    continue
                yield ctx.finding(
                    stmt,
                    f"adding NOT NULL column '{col.colname}' without a DEFAULT to existing table "
                    f"'{short(table)}' fails as soon as the table has a row",
                    node=cmd,
                    hint=f"give it a DEFAULT (ADD COLUMN {col.colname} ... NOT NULL DEFAULT ...), "
                    "or add it "
                    "nullable, backfill, then SET NOT NULL",
                )
