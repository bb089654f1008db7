"""DOWN statement fails when run twice or after a partial UP: add IF EXISTS / IF NOT EXISTS.

## Why is this bad?
A rollback runs when something already went wrong. When DOWN runs without a transaction (goose
`NO TRANSACTION`, dbmate `transaction:false`, `DROP INDEX CONCURRENTLY`, `transaction = "none"`)
and stops half way, the statements before the failure stay done: re-running DOWN then fails on
the first object that is already gone (`DROP INDEX idx_x`), and the rest of the rollback never
runs without someone editing it by hand. `DROP ... IF EXISTS`, `DROP COLUMN IF EXISTS` and
`CREATE ... IF NOT EXISTS` make such a rollback safe to re-run. A DOWN that runs in one
transaction is not reported: a failure rolls all of it back, so it re-runs from the start. Nor is
a DOWN of one statement: a statement is atomic, it cannot stop half way (golang-migrate sends a
whole file as one query, which PostgreSQL runs as one implicit transaction) — unless it runs
CONCURRENTLY, in transactions of its own that a failure does not roll back together.

## Example
```sql
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY idx_tags_name ON tags (name);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY idx_tags_name;
```

Use instead:
```sql
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_tags_name ON tags (name);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY IF EXISTS idx_tags_name;
```

## Fix
Guards the statement with `IF EXISTS` (DROP, DROP COLUMN, DROP CONSTRAINT) or `IF NOT EXISTS`
(CREATE, ADD COLUMN). Safe: when the object is already where DOWN leaves it, the statement does
nothing instead of failing.

## Options
- `check-create` (default true): also report `CREATE TABLE/INDEX/SEQUENCE/SCHEMA/EXTENSION` and
  `ADD COLUMN` in DOWN (recreating what UP dropped) without `IF NOT EXISTS`.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ObjectType
from pgpreflight.linter import fixes, guards
from pgpreflight.linter.context import Context
from pgpreflight.linter.facts import runs_outside_transaction
from pgpreflight.linter.findings import Edit, Finding, Fix
from pgpreflight.linter.migration import Migration

ID = "down-not-idempotent"
SEVERITY = "info"
OPTIONS: dict[str, object] = {"check-create": True}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")
FIX = "safe"

_DROPPABLE = {
    ObjectType.OBJECT_TABLE: "TABLE",
    ObjectType.OBJECT_INDEX: "INDEX",
    ObjectType.OBJECT_VIEW: "VIEW",
    ObjectType.OBJECT_MATVIEW: "MATERIALIZED VIEW",
    ObjectType.OBJECT_SEQUENCE: "SEQUENCE",
    ObjectType.OBJECT_TYPE: "TYPE",
    ObjectType.OBJECT_DOMAIN: "DOMAIN",
    ObjectType.OBJECT_FUNCTION: "FUNCTION",
    ObjectType.OBJECT_PROCEDURE: "PROCEDURE",
    ObjectType.OBJECT_TRIGGER: "TRIGGER",
    ObjectType.OBJECT_EXTENSION: "EXTENSION",
    ObjectType.OBJECT_SCHEMA: "SCHEMA",
    ObjectType.OBJECT_POLICY: "POLICY",
}


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    if migration.down is None:
        return
    statements = migration.down.statements
    if len(statements) == 1 and not runs_outside_transaction(statements[0].node):
        return  # one statement fails whole: a re-run starts from where DOWN started
    check_create = bool(ctx.options.get("check-create", True))
    for statement in statements:
        if ctx.facts.of(statement).in_transaction:
            continue  # a failure rolls the whole DOWN back: it re-runs from the start
        node = statement.node
        match node:
            case ast.DropStmt(missing_ok=False) if node.removeType in _DROPPABLE:
                kind = _DROPPABLE[node.removeType]
                yield ctx.finding(
                    statement,
                    f"DROP {kind} in DOWN without IF EXISTS fails when the object is already gone",
                    hint=f"write DROP {kind} IF EXISTS",
                    fix=_fix("add IF EXISTS", guards.drop_if_exists(statement)),
                )
            case ast.AlterTableStmt(objtype=ObjectType.OBJECT_TABLE):
                for i, cmd in enumerate(node.cmds or ()):
                    if cmd.missing_ok:
                        continue
                    if cmd.subtype == AlterTableType.AT_DropColumn:
                        yield ctx.finding(
                            statement,
                            f"DROP COLUMN {cmd.name} in DOWN without IF EXISTS fails when the "
                            "column is already gone",
                            hint=f"write DROP COLUMN IF EXISTS {cmd.name}",
                            fix=_fix("add IF EXISTS", guards.alter_guard(statement, i)),
                        )
                    elif cmd.subtype == AlterTableType.AT_DropConstraint:
                        yield ctx.finding(
                            statement,
                            f"DROP CONSTRAINT {cmd.name} in DOWN without IF EXISTS fails when the "
                            "constraint is already gone",
                            hint=f"write DROP CONSTRAINT IF EXISTS {cmd.name}",
                            fix=_fix("add IF EXISTS", guards.alter_guard(statement, i)),
                        )
                    elif check_create and cmd.subtype == AlterTableType.AT_AddColumn:
                        yield ctx.finding(
                            statement,
                            f"ADD COLUMN {cmd.def_.colname} in DOWN without IF NOT EXISTS fails "
                            "when the column is still there",
                            hint=f"write ADD COLUMN IF NOT EXISTS {cmd.def_.colname}",
                            fix=_fix("add IF NOT EXISTS", guards.alter_guard(statement, i)),
                        )
            case (
                ast.CreateStmt(if_not_exists=False)
                | ast.CreateSeqStmt(if_not_exists=False)
                | ast.CreateExtensionStmt(if_not_exists=False)
                | ast.CreateSchemaStmt(if_not_exists=False)
            ) if check_create:
                kind = {
                    ast.CreateStmt: "TABLE",
                    ast.CreateSeqStmt: "SEQUENCE",
                    ast.CreateExtensionStmt: "EXTENSION",
                    ast.CreateSchemaStmt: "SCHEMA",
                }[type(node)]
                yield ctx.finding(
                    statement,
                    f"CREATE {kind} in DOWN without IF NOT EXISTS fails when the object is still "
                    "there",
                    hint=f"write CREATE {kind} IF NOT EXISTS",
                    fix=_fix("add IF NOT EXISTS", guards.create_if_not_exists(statement)),
                )
            case ast.IndexStmt(if_not_exists=False) if check_create and node.idxname:
                yield ctx.finding(
                    statement,
                    "CREATE INDEX in DOWN without IF NOT EXISTS fails when the index is still "
                    "there",
                    hint="write CREATE INDEX IF NOT EXISTS",
                    fix=_fix("add IF NOT EXISTS", guards.create_if_not_exists(statement)),
                )
            case _:
                pass


def _fix(description: str, edit: Edit | None) -> Fix | None:
    return fixes.safe(description, edit) if edit is not None else None
