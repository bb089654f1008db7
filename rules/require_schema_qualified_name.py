"""DDL names a table, view, index or sequence without its schema.

## Why is this bad?
An unqualified name is resolved through the session's `search_path`, which the migration does not
control: the runner's role, `ALTER ROLE ... SET search_path`, a connection-string option or an
earlier `SET` in the file decide where `CREATE TABLE orders` lands and which `orders` an
`ALTER TABLE` changes. With several schemas (multi-tenant, an extension's schema, a staging copy
in another schema) a migration can create its table in the wrong one, or alter a table of the
same name elsewhere, and no error says so. Writing `public.orders` makes the target explicit.
Temporary tables are exempt (they live in their own schema).

Opt-in (`extend-select`): most projects run every migration with one fixed `search_path`, where
qualifying every name is noise.

## Example
```sql
CREATE TABLE orders (id bigint PRIMARY KEY);
```

Use instead:
```sql
CREATE TABLE public.orders (id bigint PRIMARY KEY);
```

## Differences from squawk
Covers DDL that names tables, views, indexes and sequences, not the relations a view's query reads;
temporary tables are exempt.

## References
- https://www.postgresql.org/docs/current/ddl-schemas.html#DDL-SCHEMAS-PATH
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast, enums
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "require-schema-qualified-name"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
OPT_IN = True
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["require-table-schema"]}
PRESETS = ("guide",)

# statements whose RangeVars name the objects they create or change
_DDL = (
    ast.CreateStmt,
    ast.AlterTableStmt,
    ast.IndexStmt,
    ast.CreateSeqStmt,
    ast.AlterSeqStmt,
    ast.ViewStmt,
    ast.CreateTableAsStmt,
    ast.RenameStmt,
    ast.CreateTrigStmt,
    ast.TruncateStmt,
    ast.RefreshMatViewStmt,
)
_DROPPED = {
    enums.ObjectType.OBJECT_TABLE,
    enums.ObjectType.OBJECT_VIEW,
    enums.ObjectType.OBJECT_MATVIEW,
    enums.ObjectType.OBJECT_INDEX,
    enums.ObjectType.OBJECT_SEQUENCE,
}


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt in section.statements:
            node = stmt.node
            if isinstance(node, ast.DropStmt) and node.removeType in _DROPPED:
                for obj in node.objects or ():
                    if isinstance(obj, (list, tuple)) and len(obj) == 1:
                        name = str(getattr(obj[0], "sval", obj[0]))
                        yield _finding(ctx, stmt, name, None)
            elif isinstance(node, _DDL):
                seen: set[str] = set()
                for rv in _range_vars(node):
                    if rv.schemaname or rv.relpersistence == "t" or str(rv.relname) in seen:
                        continue
                    seen.add(str(rv.relname))
                    yield _finding(ctx, stmt, str(rv.relname), rv)


def _finding(ctx: Context, stmt: Any, name: str, node: Any) -> Finding:
    return ctx.finding(
        stmt,
        f"'{name}' is not schema-qualified: the session's search_path decides which object it is",
        node=node,
        hint=f"write the schema: public.{name} (or the schema it belongs in)",
    )


def _range_vars(node: Any) -> Iterator[ast.RangeVar]:
    """RangeVars of a DDL statement, outside queries (a view's SELECT reads, it does not change)."""
    if isinstance(node, ast.RangeVar):
        yield node
        return
    if isinstance(node, (ast.SelectStmt, ast.Query)):
        return
    if isinstance(node, ast.Node):
        for attr in node:
            yield from _range_vars(getattr(node, attr))
    elif isinstance(node, (tuple, list)):
        for item in node:
            yield from _range_vars(item)
