"""ALTER TYPE ... ADD VALUE inside a transaction: fails below PostgreSQL 12, and from 12 the new
value cannot be used before COMMIT.

## Why is this bad?
Up to PostgreSQL 11, `ALTER TYPE ... ADD VALUE` refuses to run inside a transaction block
("cannot run inside a transaction block"), and most migration runners wrap each file in one, so
the deploy fails (unless the enum was created in the same transaction). From PostgreSQL 12 it
runs, but the new value cannot be used until the transaction commits: an `UPDATE` or `INSERT`
using it later in the same file fails with "unsafe use of new value".

## Example
```sql
ALTER TYPE order_status ADD VALUE 'packed' AFTER 'paid';
UPDATE orders SET status = 'packed' WHERE packed_at IS NOT NULL;
```

Use instead:
```sql
-- one migration adds the value; a later one (another transaction) uses it
ALTER TYPE order_status ADD VALUE 'packed' AFTER 'paid';
```

## References
- https://www.postgresql.org/docs/current/sql-altertype.html (Notes)
- https://www.postgresql.org/docs/11/sql-altertype.html (Notes)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import TransactionStmtKind
from pglast.visitors import Visitor
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Section, Statement
from pgpreflight.linter.names import list_name, short

ID = "enum-value-in-transaction"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")


class _Literals(Visitor):
    def __init__(self) -> None:
        self.found: list[tuple[str, Any]] = []

    def visit_A_Const(self, ancestors: Any, node: ast.A_Const) -> None:
        if not isinstance(node.val, ast.String):
            return
        # A_Const carries no location in pglast: point at the nearest enclosing node that does
        at: Any = None
        while ancestors is not None and at is None:
            parent = ancestors.node
            if isinstance(getattr(parent, "location", None), int) and parent.location >= 0:
                at = parent
            ancestors = ancestors.parent
        self.found.append((str(node.val.sval), at))


def _uses(stmt: Statement, value: str) -> Any:
    if not isinstance(stmt.node, (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.SelectStmt)):
        return None
    visitor = _Literals()
    visitor(stmt.node)
    return next((node or stmt for text, node in visitor.found if text == value), None)


def _same_transaction_after(section: Section, stmt: Statement, ctx: Context) -> Iterator[Statement]:
    seen = False
    for other in section.all_statements():
        if other is stmt or other is stmt.parent:
            seen = True
            continue
        if not seen:
            continue
        if isinstance(other.node, ast.TransactionStmt) and other.node.kind in (
            TransactionStmtKind.TRANS_STMT_COMMIT,
            TransactionStmtKind.TRANS_STMT_ROLLBACK,
        ):
            return
        if other.parent is None and not ctx.facts.of(other).in_transaction:
            return
        yield other


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.AlterEnumStmt):
            if node.oldVal is not None or node.newVal is None:
                continue
            if not ctx.facts.of(stmt).in_transaction:
                continue
            name = list_name(node.typeName)
            if (
                ctx.schema_before is not None
                and ctx.schema_before.type(name) is None
                and any(
                    isinstance(s.node, ast.CreateEnumStmt) and list_name(s.node.typeName) == name
                    for s in section.statements
                )
            ):
                continue  # created in this transaction: allowed, and usable
            if ctx.pg_version < (12,):
                yield ctx.finding(
                    stmt,
                    f"ALTER TYPE {short(name)} ADD VALUE cannot run inside a transaction block on "
                    f"PostgreSQL {ctx.pg_version}; the migration fails",
                    hint="run it in a migration of its own that the runner does not wrap in a "
                    "transaction (e.g. -- +goose NO TRANSACTION), or upgrade to PostgreSQL 12+",
                )
                continue
            for later in _same_transaction_after(section, stmt, ctx):
                used = _uses(later, str(node.newVal))
                if used is not None:
                    yield ctx.finding(
                        later,
                        f"new value '{node.newVal}' of enum '{short(name)}' is used in the "
                        "transaction "
                        "that added it; PostgreSQL refuses it until COMMIT",
                        node=used if used is not later else None,
                        hint="move the statements that use the new value to a later migration",
                    )
                    break
