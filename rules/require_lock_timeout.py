"""Statement locking an existing table with no lock_timeout set before it.

## Why is this bad?
A DDL statement first waits for its lock behind every transaction already using the table; while
it waits, every new query on the table queues behind it. One long-running report or an idle
transaction is enough to turn a one-millisecond `ALTER TABLE` into minutes of blocked reads and
writes. `SET lock_timeout = '2s'` earlier in the file (or `SET LOCAL` inside the statement's
transaction) makes the statement give up instead, so the deploy can retry later. Statements whose
lock does not block reads or writes (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT) and tables
created in the same migration are not reported. A FOREIGN KEY declared in CREATE TABLE locks the
existing referenced table too, and is reported with its name.

## Example
```sql
ALTER TABLE orders ADD COLUMN note text;
```

Use instead:
```sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN note text;
```

## References
- https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT
- https://www.postgresql.org/docs/current/explicit-locking.html
"""

from __future__ import annotations

from collections.abc import Iterator

from linter.context import Context
from linter.facts import duration_ms
from linter.findings import Finding
from linter.locks import blocks_writes, describe, statement_action
from linter.migration import Migration

ID = "require-lock-timeout"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS = {"squawk": "require-timeout-settings", "eugene": "E9"}


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for stmt in migration.statements():
        locks = [lk for lk in ctx.facts.existing_locks(stmt) if blocks_writes(lk.mode)]
        if not locks or not ctx.facts.forward(stmt):
            continue
        timeout = duration_ms(ctx.facts.of(stmt).lock_timeout)
        if timeout is not None and timeout > 0:
            continue
        verb = statement_action(stmt.node, ctx.facts.locks(stmt))
        if all(lk.referenced for lk in locks):
            what = "whose foreign key takes " + describe(locks).replace(
                " on '", " on referenced table '", 1
            )
        else:
            what = f"which takes {describe(locks)}"
        yield ctx.finding(
            stmt,
            f"no lock_timeout is set before {verb}, {what}: while it waits for the lock, every "
            "query on "
            "the table queues behind it",
            node=next((lk.node for lk in locks if not lk.referenced), locks[0].node),
            severity=max((ctx.facts.severity(lk.table, ctx.severity) for lk in locks), key=_rank),
            hint="SET lock_timeout = '2s'; earlier in the file (SET LOCAL inside its "
            "transaction), and retry "
            "the migration when it times out",
        )


def _rank(severity: str) -> int:
    return {"info": 0, "warning": 1, "error": 2}.get(severity, 0)
