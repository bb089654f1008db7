"""Long statement blocking an existing table with no statement_timeout set before it.

## Why is this bad?
A statement that scans, indexes or rewrites a whole table while holding a lock that blocks
writes (or reads) keeps that lock for as long as the work takes: on a table bigger than
expected, the outage has no end the deploy controls. `SET statement_timeout` earlier in the file
(or `SET LOCAL` in its transaction) bounds it: the statement fails, rolls back and releases the
table. Work that does not block traffic (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT) is not
reported: a timeout there would only leave an invalid index behind. One finding per UP or DOWN
section, on its first unbounded statement, counts the others.

## Example
```sql
ALTER TABLE orders ADD CONSTRAINT ck_orders_total CHECK (total >= 0);
```

Use instead:
```sql
SET statement_timeout = '5s';
ALTER TABLE orders ADD CONSTRAINT ck_orders_total CHECK (total >= 0);
```

## Differences from squawk
squawk's require-timeout-settings asks for both timeouts in every file; this rule asks for
statement_timeout only before statements that hold a lock blocking traffic for long (rewrites,
scans, index builds) on existing tables.

## References
- https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.facts import duration_ms
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.locks import TableLock, blocks_writes, describe, statement_action
from pgpreflight.linter.migration import Migration, Statement

ID = "require-statement-timeout"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["require-timeout-settings", "require-statement-timeout"],
}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    # One finding per section, on its first unbounded statement: one SET at the top fixes all.
    for section in migration.sections():
        unbounded = [
            (stmt, locks) for stmt in section.all_statements() if (locks := _locks(stmt, ctx))
        ]
        if not unbounded:
            continue
        stmt, locks = unbounded[0]
        own = [x for x in locks if not x.referenced] or locks
        lk = max(own, key=lambda x: x.mode)
        more = f" ({len(unbounded) - 1} more such statements follow)" if len(unbounded) > 1 else ""
        yield ctx.finding(
            stmt,
            f"no statement_timeout bounds {statement_action(stmt.node, locks)}, a full-table "
            f"{lk.work} holding {describe(locks)}: nothing limits how long the table stays "
            f"blocked{more}",
            node=lk.node,
            severity=ctx.facts.severity(lk.table, ctx.severity),
            hint="SET statement_timeout = '5s'; (or what the table's size allows) at the top of "
            "the section, or SET LOCAL inside its transaction",
        )


def _locks(stmt: Statement, ctx: Context) -> list[TableLock]:
    """Locks blocking traffic held during full-table work, with no statement_timeout set."""
    locks = [lk for lk in ctx.facts.existing_locks(stmt) if blocks_writes(lk.mode) and lk.long]
    if not locks or not ctx.facts.forward(stmt):
        return []
    timeout = duration_ms(ctx.facts.of(stmt).statement_timeout)
    return [] if timeout is not None and timeout > 0 else locks
