"""Slow or lock-taking statement after one that took ACCESS EXCLUSIVE, in the same transaction.

## Why is this bad?
Locks are held until the transaction ends. Once a statement has taken ACCESS EXCLUSIVE on an
existing table, every later statement in the same transaction extends the time that table
rejects reads and writes: an index build, a validation, a data backfill or a rewrite there turns
a millisecond catalog change into an outage as long as that work. Waiting for a lock on another
table without a `lock_timeout` does the same, and can deadlock. Commit first (a separate
migration, or a file the runner does not wrap), or do the slow work before taking the lock.

## Example
```sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN status text;
UPDATE orders SET status = 'new';
```

Use instead:
```sql
-- file: 202401011200__orders_status.sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN status text;
-- file: 202401011300__backfill_orders_status.sql
UPDATE orders SET status = 'new' WHERE status IS NULL;
```

## References
- https://www.postgresql.org/docs/current/explicit-locking.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.facts import duration_ms
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.locks import Lock, TableLock, blocks_writes, statement_action
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import short

ID = "statement-after-access-exclusive"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"eugene": ["E4"]}
PRESETS = ("guide", "safety")

_DML = (ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)


def _bulk(node: ast.Node) -> bool:
    """UPDATE, DELETE, MERGE, or INSERT ... SELECT FROM: work proportional to a table."""
    if isinstance(node, _DML):
        return True
    select = getattr(node, "selectStmt", None) if isinstance(node, ast.InsertStmt) else None
    return isinstance(select, ast.SelectStmt) and bool(select.fromClause)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    # One finding per held ACCESS EXCLUSIVE lock, on the first statement that prolongs it.
    for section in migration.sections():
        held: tuple[Statement, TableLock] | None = None
        offending: list[tuple[Statement, str]] = []
        for stmt in section.statements:
            facts = ctx.facts.of(stmt)
            if held is not None and not (
                facts.in_transaction and ctx.facts.same_transaction(held[0], stmt)
            ):
                yield from _report(ctx, held, offending)
                held, offending = None, []
            if not facts.in_transaction:
                continue
            locks = ctx.facts.existing_locks(stmt)
            if held is not None:
                why = _why(stmt, locks, held, ctx) if ctx.facts.forward(stmt) else None
                if why:
                    offending.append((stmt, why))
            else:
                exclusive = [lk for lk in locks if lk.mode == Lock.ACCESS_EXCLUSIVE]
                if exclusive and ctx.facts.forward(stmt):
                    held = (stmt, exclusive[0])
        if held is not None:
            yield from _report(ctx, held, offending)


def _report(
    ctx: Context, held: tuple[Statement, TableLock], offending: list[tuple[Statement, str]]
) -> Iterator[Finding]:
    if not offending:
        return
    stmt, why = offending[0]
    table = held[1].table
    name = f"'{short(table)}'"
    current = ctx.facts.current_name(table, held[0], stmt)  # the lock follows RENAME TO
    if current != table:
        name = f"'{short(current)}' (was '{short(table)}')"
    more = f" ({len(offending) - 1} more statements after it do too)" if len(offending) > 1 else ""
    yield ctx.finding(
        stmt,
        f"table {name} is still locked ACCESS EXCLUSIVE by {held[1].action} (line "
        f"{held[0].line}) while {why}: reads and writes wait until the transaction ends{more}",
        node=stmt.node,
        severity=ctx.facts.severity(table, ctx.severity),
        hint="commit first: move the slow statements to their own migration, or run the ACCESS "
        "EXCLUSIVE change last in the transaction",
    )


def _why(
    stmt: Statement, locks: list[TableLock], held: tuple[Statement, TableLock], ctx: Context
) -> str | None:
    if _bulk(stmt.node):
        return f"{type(stmt.node).__name__.removesuffix('Stmt').upper()} runs"
    long = [lk for lk in locks if lk.long and not lk.referenced]
    if long:
        return f"{long[0].action} does a full-table {long[0].work} of '{short(long[0].table)}'"
    timeout = duration_ms(ctx.facts.of(stmt).lock_timeout)
    other = [
        lk
        for lk in locks
        if not ctx.facts.same_table(lk.table, stmt, held[1].table, held[0])
        and blocks_writes(lk.mode)
    ]
    if other and not (timeout is not None and timeout > 0):
        action = statement_action(stmt.node, locks)
        lock = other[0]
        return f"{action} waits for {lock.mode.label} on '{short(lock.table)}' with no lock_timeout"
    return None
