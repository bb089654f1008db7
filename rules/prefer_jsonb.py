"""Column of type json: prefer jsonb.

## Why is this bad?
`json` stores the text as written and re-parses it on every access. It has no equality operator,
so `SELECT DISTINCT`, `GROUP BY`, `UNION` and unique indexes on the column fail, and it cannot
use GIN indexes for `@>` containment searches. `jsonb` is parsed once, compares, indexes and is
what every JSON operator is optimised for. Keep `json` only when the exact text (key order,
duplicate keys, whitespace) must be preserved.

## Example
```sql
ALTER TABLE events ADD COLUMN payload json;
```

Use instead:
```sql
ALTER TABLE events ADD COLUMN payload jsonb;
```

## Fix
Declares the column `jsonb`. Safe for a column this migration adds, in CREATE TABLE or ADD COLUMN:
no row holds a value yet. Unsafe for ALTER COLUMN TYPE of an existing column, whose values then
lose key order, duplicate keys and whitespace.

## References
- https://www.postgresql.org/docs/current/datatype-json.html
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType
from pgpreflight.linter import fixes
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding, Fix
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name, short

ID = "prefer-jsonb"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"eugene": ["E3"], "strong_migrations": ["add_column_json"]}
PRESETS = ("guide",)
FIX = "safe; unsafe for ALTER COLUMN TYPE of an existing column"


_ACTIONS = {
    AlterTableType.AT_AddColumn: "add column",
    AlterTableType.AT_AlterColumnType: "alter type",
}


def _is_json(type_name: Any) -> bool:
    names = [getattr(n, "sval", "") for n in getattr(type_name, "names", None) or ()]
    return bool(names) and names[-1] == "json"


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for stmt, node in migration.up.of(ast.CreateStmt, ast.AlterTableStmt):
        if not isinstance(node, (ast.CreateStmt, ast.AlterTableStmt)) or node.relation is None:
            continue
        table = relation_name(node.relation)
        columns: list[tuple[str, ast.ColumnDef, str]] = []
        if isinstance(node, ast.CreateStmt):
            columns = [
                (str(e.colname), e, "create table")
                for e in node.tableElts or ()
                if isinstance(e, ast.ColumnDef)
            ]
        else:
            for cmd in node.cmds or ():
                if not isinstance(cmd, ast.AlterTableCmd):
                    continue
                action = _ACTIONS.get(cmd.subtype) if cmd.subtype is not None else None
                if action and isinstance(cmd.def_, ast.ColumnDef):
                    # ALTER COLUMN x TYPE json carries the name on the command
                    columns.append((str(cmd.def_.colname or cmd.name), cmd.def_, action))
        for name, col, action in columns:
            if _is_json(col.typeName):
                yield ctx.finding(
                    stmt,
                    f"column {short(table)}.{name} is json: no equality operator (DISTINCT, GROUP "
                    "BY "
                    "and unique indexes fail) and no GIN indexing",
                    node=col,
                    hint=f"declare {name} jsonb",
                    fix=_fix(ctx, stmt, table, name, col, action),
                )


def _fix(
    ctx: Context, stmt: Statement, table: str, name: str, col: ast.ColumnDef, action: str
) -> Fix | None:
    """`json` -> `jsonb` (a `pg_catalog.` qualifier goes, array brackets stay)."""
    found = fixes.type_base(stmt, col.typeName)
    if found is None:
        return None
    tokens, i = found
    if tokens[i].word != "json":
        return None
    new = fixes.column_is_new(ctx.facts, stmt, table, action)
    return fixes.retype(stmt, tokens[0], tokens[i], "jsonb", new, f"{name} jsonb")
