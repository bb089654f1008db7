"""Index dropped without CONCURRENTLY.

## Why is this bad?
`DROP INDEX` takes ACCESS EXCLUSIVE on the index's table: while it waits for running queries to
finish, every new query on the table, reads included, queues behind it. `DROP INDEX
CONCURRENTLY` waits for conflicting transactions without blocking new ones (it cannot run inside
a transaction, and drops one index per statement).

An index created on a table created in the same migration, and a DOWN that drops the index its
own UP created, are not reported; nor is `DROP INDEX IF EXISTS` of an index that no earlier
statement of the history created (a squashed history keeps such drops): it does nothing.

## Example
```sql
DROP INDEX idx_orders_status;
```

Use instead:
```sql
-- +goose NO TRANSACTION
-- +goose Up
SET lock_timeout = '2s';
DROP INDEX CONCURRENTLY IF EXISTS idx_orders_status;
```

## Fix
Adds `CONCURRENTLY IF EXISTS` and the runner's no-transaction marker. The marker is the
convention's: `-- +goose NO TRANSACTION`, `-- NO TRANSACTION`, `-- +migrate Up notransaction`, `--
migrate:up transaction:false`, `run_in_transaction = false` in diesel's `metadata.toml`; none is
needed where the runner leaves such a file unwrapped by itself (Flyway, `transaction = "auto"`).
Safe when every other statement of the file can run again after a partial failure (SET, IF [NOT]
EXISTS, other index statements); unsafe when the file stops running in one transaction while it
holds statements that cannot: prefer-robust-statements and down-not-idempotent may then report
them, and fix them in turn. No fix for a DROP of several indexes or with CASCADE, which
CONCURRENTLY refuses.

## Differences from squawk
Indexes on tables created in the same migration, and DOWN dropping what its UP created, are not
reported.

## References
- https://www.postgresql.org/docs/current/sql-dropindex.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import DropBehavior, ObjectType
from pgpreflight.linter import fixes
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding, Fix
from pgpreflight.linter.locks import describe
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import list_name, short
from pgpreflight.linter.notransaction import outside_transaction_hint
from pgpreflight.linter.tokens import keywords_at, statement_tokens

ID = "require-concurrent-index-drop"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["require-concurrent-index-deletion"],
    "strong_migrations": ["remove_index"],
}
PRESETS = ("guide", "safety")
FIX = "safe; unsafe when the file leaves its transaction with statements that cannot run again"
FIX_ADDS = ("prefer-robust-statements", "down-not-idempotent")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.DropStmt):
            if (
                node.removeType != ObjectType.OBJECT_INDEX
                or node.concurrent
                or not ctx.facts.forward(stmt)
            ):
                continue
            locks = [lk for lk in ctx.facts.locks(stmt) if ctx.facts.existing(lk.table, stmt)]
            if stmt.section == "up":
                # an index created earlier in this UP is not in production yet
                locks = [lk for lk in locks if lk.table not in ctx.facts.created_indexes]
            if not locks:
                continue
            names = ", ".join(short(list_name(o)) for o in node.objects or ())
            yield ctx.finding(
                stmt,
                f"dropping index {names} without CONCURRENTLY takes {describe(locks)}",
                node=node,
                severity=ctx.facts.severity(locks[0].table, ctx.severity),
                hint=outside_transaction_hint(
                    migration,
                    ctx.facts,
                    f"DROP INDEX CONCURRENTLY IF EXISTS {names}; (one index per statement)",
                ),
                fix=_fix(migration, ctx, stmt, node),
            )


def _fix(migration: Migration, ctx: Context, stmt: Statement, node: ast.DropStmt) -> Fix | None:
    """CONCURRENTLY (and IF EXISTS) after DROP INDEX: one index, no CASCADE, which CONCURRENTLY
    refuses."""
    if len(node.objects or ()) != 1 or node.behavior == DropBehavior.DROP_CASCADE:
        return None
    tokens = statement_tokens(stmt)
    if not keywords_at(tokens, 0, "DROP", "INDEX"):
        return None
    words = "CONCURRENTLY" if node.missing_ok else "CONCURRENTLY IF EXISTS"
    return fixes.concurrently(migration, ctx.facts, stmt, tokens[1].end, words)
