"""Statement without IF [NOT] EXISTS in a file that does not run in a transaction.

## Why is this bad?
Without a transaction, a file that fails half way leaves its first statements applied. The fix
is to run it again, and then `CREATE TABLE`, `ADD COLUMN` or `DROP INDEX` fail on what the first
attempt already did, so someone has to repair the database by hand during the incident. Files
that need to run outside a transaction (`CREATE INDEX CONCURRENTLY`, `-- +goose NO
TRANSACTION`, `transaction = "none"`) should be safe to re-run: guard every statement with
`IF NOT EXISTS` / `IF EXISTS`, or, for a constraint, drop it `IF EXISTS` first.

Statements inside a transaction (the runner's or the file's own `BEGIN`), inside a `DO` block,
and files with a single statement are not reported: they cannot half-apply.

## Example
```sql
-- +goose NO TRANSACTION
ALTER TABLE users ADD COLUMN locale text;
CREATE INDEX CONCURRENTLY users_locale_idx ON users (locale);
```

Use instead:
```sql
-- +goose NO TRANSACTION
ALTER TABLE users ADD COLUMN IF NOT EXISTS locale text;
DROP INDEX CONCURRENTLY IF EXISTS users_locale_idx;
CREATE INDEX CONCURRENTLY users_locale_idx ON users (locale);
```

## Fix
Guards the statement with `IF [NOT] EXISTS` (every ADD COLUMN and DROP of an ALTER TABLE too). A
named CREATE INDEX CONCURRENTLY gets `DROP INDEX CONCURRENTLY IF EXISTS` above it instead, as IF
NOT EXISTS would keep the INVALID index of a failed build. Safe; unsafe when it puts `ALTER TABLE
... DROP CONSTRAINT IF EXISTS` before an ADD CONSTRAINT, which replaces a constraint of that name
that existed before the migration. No fix for an unnamed constraint.

## Differences from squawk
Only reports files that run without a transaction, where a half-applied file must be re-runnable;
in a transaction a failure rolls everything back and IF [NOT] EXISTS only hides drift.

## References
- https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.stream import maybe_double_quote_name as quote
from pgpreflight.linter import fixes, guards
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Edit, Finding, Fix
from pgpreflight.linter.migration import Migration, Section, Statement
from pgpreflight.linter.names import relation_name

ID = "prefer-robust-statements"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["prefer-robust-stmts"]}
PRESETS = ("guide",)
FIX = "safe; unsafe for ADD CONSTRAINT (dropped IF EXISTS first)"

_NEUTRAL = (
    ast.VariableSetStmt,
    ast.TransactionStmt,
    ast.CommentStmt,
    ast.SelectStmt,
    ast.GrantStmt,
)


def _dropped_before(section: Section, stmt: Statement, kind: type, name: str) -> bool:
    """A `DROP ... IF EXISTS name` earlier in the file makes re-creating `name` re-runnable."""
    for other in section.statements:
        if other is stmt:
            return False
        node = other.node
        if isinstance(node, ast.DropStmt) and node.missing_ok and kind is ast.DropStmt:
            names = {
                ".".join(getattr(p, "sval", "") for p in obj).split(".")[-1]
                for obj in node.objects or ()
                if isinstance(obj, tuple)
            }
            if name in names:
                return True
        if isinstance(node, ast.AlterTableStmt) and kind is ast.AlterTableCmd:
            for cmd in node.cmds or ():
                if cmd.subtype == AT.AT_DropConstraint and cmd.missing_ok and cmd.name == name:
                    return True
    return False


def _problem(section: Section, stmt: Statement) -> tuple[str, str] | None:
    """(what is missing, how to write it) for a statement that fails when re-run."""
    node = stmt.node
    if isinstance(node, (ast.CreateStmt, ast.CreateSeqStmt, ast.CreateSchemaStmt)):
        if not node.if_not_exists:
            return "CREATE without IF NOT EXISTS", "write CREATE ... IF NOT EXISTS"
    elif isinstance(node, ast.IndexStmt):
        if not node.if_not_exists and not (
            node.idxname and _dropped_before(section, stmt, ast.DropStmt, node.idxname)
        ):
            return (
                "CREATE INDEX without IF NOT EXISTS",
                "precede it with DROP INDEX CONCURRENTLY IF EXISTS (a failed CONCURRENTLY build "
                "leaves an "
                "INVALID index behind)",
            )
    elif isinstance(node, ast.DropStmt):
        if not node.missing_ok:
            return "DROP without IF EXISTS", "write DROP ... IF EXISTS"
    elif isinstance(node, ast.AlterTableStmt) and not node.missing_ok:
        for cmd in node.cmds or ():
            if not isinstance(cmd, ast.AlterTableCmd):
                continue
            if cmd.subtype == AT.AT_AddColumn and not cmd.missing_ok:
                return "ADD COLUMN without IF NOT EXISTS", "write ADD COLUMN IF NOT EXISTS"
            if cmd.subtype in (AT.AT_DropColumn, AT.AT_DropConstraint) and not cmd.missing_ok:
                return "DROP without IF EXISTS", "write DROP COLUMN/CONSTRAINT IF EXISTS"
            if cmd.subtype == AT.AT_AddConstraint:
                name = getattr(cmd.def_, "conname", None)
                if not name or not _dropped_before(section, stmt, ast.AlterTableCmd, name):
                    return (
                        "ADD CONSTRAINT that fails when the constraint exists",
                        "name the constraint and run ALTER TABLE ... DROP CONSTRAINT IF EXISTS it "
                        "first",
                    )
    return None


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        effective = [s for s in section.statements if not isinstance(s.node, _NEUTRAL)]
        if len(effective) < 2:
            continue
        created: set[str] = set()
        for stmt in section.statements:
            if ctx.facts.of(stmt).in_transaction:
                continue
            if isinstance(stmt.node, ast.CreateStmt):
                table = relation_name(stmt.node.relation)
            else:
                table = None
            problem = _problem(section, stmt)
            if problem is not None:
                rel = getattr(stmt.node, "relation", None)
                on_new = isinstance(rel, ast.RangeVar) and relation_name(rel) in created
                if not on_new:
                    what, how = problem
                    yield ctx.finding(
                        stmt,
                        f"{what} in a file that runs without a transaction fails when the file is "
                        "re-run after a partial failure",
                        hint=how,
                        fix=_fix(section, stmt),
                    )
            if table is not None:
                created.add(table)


def _fix(section: Section, stmt: Statement) -> Fix | None:
    """Guard the whole statement, or offer nothing: a half-guarded one still fails a re-run."""
    node = stmt.node
    if isinstance(node, ast.IndexStmt) and node.concurrent and node.idxname:
        # IF NOT EXISTS would keep the INVALID index a failed concurrent build leaves behind
        schema = node.relation.schemaname if node.relation is not None else None
        name = ".".join(quote(str(p)) for p in (schema, node.idxname) if p)
        drop = f"DROP INDEX CONCURRENTLY IF EXISTS {name};"
        return fixes.safe(
            f"precede it with {drop}",
            fixes.insert_line_before(stmt.source, stmt.offset, drop),
        )
    if isinstance(node, ast.DropStmt):
        edit = guards.drop_if_exists(stmt)
        return fixes.safe("add IF EXISTS", edit) if edit else None
    if not isinstance(node, ast.AlterTableStmt):
        edit = guards.create_if_not_exists(stmt)
        return fixes.safe("add IF NOT EXISTS", edit) if edit else None
    if node.relation is None:
        return None
    edits: list[Edit] = []
    drops: list[str] = []
    for i, cmd in enumerate(node.cmds or ()):
        if not isinstance(cmd, ast.AlterTableCmd):
            continue
        if cmd.subtype in (AT.AT_AddColumn, AT.AT_DropColumn, AT.AT_DropConstraint):
            if cmd.missing_ok:
                continue
            edit = guards.alter_guard(stmt, i)
            if edit is None:
                return None
            edits.append(edit)
        elif cmd.subtype == AT.AT_AddConstraint:
            name = str(getattr(cmd.def_, "conname", None) or "")
            if not name:
                return None
            if not _dropped_before(section, stmt, ast.AlterTableCmd, name):
                drops.append(name)
    table = guards.relation_text(stmt, node.relation)
    if table is None:
        return None
    if drops:
        lines = " ".join(
            f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {quote(n)};" for n in drops
        )
        edits.append(fixes.insert_line_before(stmt.source, stmt.offset, lines))
        return fixes.unsafe(
            f"add IF [NOT] EXISTS and drop {', '.join(drops)} IF EXISTS first: a constraint of "
            "that name that existed before the migration is replaced",
            *edits,
        )
    return fixes.safe("add IF [NOT] EXISTS", *edits) if edits else None
