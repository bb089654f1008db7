"""Statement uses syntax the configured PostgreSQL version does not have: it fails there.

## Why is this bad?
pgpreflight parses with PostgreSQL 18's parser, so a migration written against a newer server
parses here but fails with a syntax or catalog error on the version production runs
(`pg-version`). The migration then stops half way in CI or, worse, in the deploy. Reported:

- `CONSTRAINT name NOT NULL column` as a table constraint, `ADD CONSTRAINT ... NOT NULL`, and
  renaming or dropping a NOT NULL constraint by name: NOT NULL became a named constraint in
  PostgreSQL 18 (before, it is a column property: `ALTER COLUMN ... SET/DROP NOT NULL`);
- `NULLS NOT DISTINCT` on a unique index or constraint, and `MERGE`: PostgreSQL 15.

## Example
```sql
ALTER TABLE users ADD CONSTRAINT users_email_not_null NOT NULL email;
```

Use instead:
```sql
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
```

## References
- https://www.postgresql.org/docs/18/release-18.html (NOT NULL constraints in pg_constraint)
- https://www.postgresql.org/docs/15/release-15.html (NULLS NOT DISTINCT, MERGE)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast, enums
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name
from pgpreflight.linter.provenance import model_before

ID = "requires-newer-postgres"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")

AT = enums.AlterTableType
_NOTNULL = enums.ConstrType.CONSTR_NOTNULL


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    version = ctx.pg_version
    for section in migration.sections():
        for stmt in section.all_statements():
            for what, major, node in _features(stmt, ctx):
                if version.major >= major:
                    continue
                yield ctx.finding(
                    stmt,
                    f"{what} needs PostgreSQL {major}; pg-version is {version}, where this "
                    "statement fails",
                    node=node,
                    hint="write it the way the older version allows, or raise pg-version if "
                    "production already runs the newer one",
                )


def _features(stmt: Statement, ctx: Context) -> Iterator[tuple[str, int, Any]]:
    node = stmt.node
    if isinstance(node, ast.MergeStmt):
        yield "MERGE", 15, None
    elif isinstance(node, ast.IndexStmt) and node.nulls_not_distinct:
        yield "NULLS NOT DISTINCT", 15, None
    elif isinstance(node, ast.CreateStmt):
        for element in node.tableElts or ():
            if isinstance(element, ast.Constraint):
                yield from _constraint(element)
    elif isinstance(node, ast.AlterTableStmt):
        table = relation_name(node.relation)
        for cmd in node.cmds or ():
            if not isinstance(cmd, ast.AlterTableCmd):
                continue
            if cmd.subtype == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
                yield from _constraint(cmd.def_)
            elif cmd.subtype == AT.AT_DropConstraint and _is_not_null(ctx, stmt, table, cmd.name):
                yield f"DROP CONSTRAINT {cmd.name} (a NOT NULL constraint)", 18, cmd
    elif (
        isinstance(node, ast.RenameStmt)
        and node.renameType == enums.ObjectType.OBJECT_TABCONSTRAINT
        and node.relation is not None
        and _is_not_null(ctx, stmt, relation_name(node.relation), node.subname)
    ):
        yield f"RENAME CONSTRAINT {node.subname} (a NOT NULL constraint)", 18, None


def _constraint(con: ast.Constraint) -> Iterator[tuple[str, int, Any]]:
    if con.contype == _NOTNULL and con.keys:
        yield "NOT NULL as a table constraint", 18, con
    if con.nulls_not_distinct:
        yield "NULLS NOT DISTINCT", 15, con


def _is_not_null(ctx: Context, stmt: Statement, table: str, name: str | None) -> bool:
    """`name` is no ordinary constraint of the table but the NOT NULL constraint of a column."""
    model = model_before(ctx, stmt)
    found = model.table(table) if model is not None and name else None
    return (
        found is not None
        and name is not None
        and name not in found.constraints
        and found.not_null_constraint(name) is not None
    )
