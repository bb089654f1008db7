"""Statement locking an existing table with no lock_timeout set before it.

## Why is this bad?
A DDL statement first waits for its lock behind every transaction already using the table; while
it waits, every new query on the table queues behind it. One long-running report or an idle
transaction is enough to turn a one-millisecond `ALTER TABLE` into minutes of blocked reads and
writes. `SET lock_timeout = '2s'` earlier in the file (or `SET LOCAL` inside the statement's
transaction) makes the statement give up instead, so the deploy can retry later. Statements whose
lock does not block reads or writes (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT) and tables
created in the same migration are not reported. A FOREIGN KEY declared in CREATE TABLE locks the
existing referenced table too, and is reported with its name. One finding per UP or DOWN section,
on its first unguarded statement, counts the others: one `SET` at the top fixes them all.

The timeout may come from outside the file: the runner's connection (say so with
`runner-lock-timeout = "2s"` in the configuration), or the role or database the runner connects
as (`ALTER ROLE migrator SET lock_timeout = '2s'` or `ALTER DATABASE ... SET` in an earlier
migration, which the rule sees in the history). Such statements are not reported.

## Example
```sql
ALTER TABLE orders ADD COLUMN note text;
```

Use instead:
```sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN note text;
```

## Fix
Adds `SET lock_timeout = '2s';` above the section's first statement. It goes above goose's
`StatementBegin` when that statement opens one. Safe: the migration does what it did, and gives up
instead of queueing traffic when the lock does not come. No fix when the section sets lock_timeout
itself before the statement (to 0, or RESET, on purpose), or in a golang-migrate file where the SET
would make a lone statement one of several run in a transaction.

## Differences from squawk
squawk's require-timeout-settings asks for both timeouts in every file; this rule only reports
sections that take a lock blocking traffic on an existing table, and knows the runner's and the
role's settings: a file that creates tables or only builds indexes concurrently needs no `SET`
(statement_timeout is the separate rule require-statement-timeout).

## References
- https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT
- https://www.postgresql.org/docs/current/explicit-locking.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter import fixes
from pgpreflight.linter.context import Context
from pgpreflight.linter.facts import duration_ms, runs_outside_transaction
from pgpreflight.linter.findings import Finding, Fix
from pgpreflight.linter.locks import TableLock, blocks_writes, describe, statement_action
from pgpreflight.linter.migration import Migration, Section, Statement

ID = "require-lock-timeout"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["require-timeout-settings", "require-lock-timeout"],
    "eugene": ["E9"],
}
PRESETS = ("guide", "safety")
FIX = "safe"


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    # One finding per section, on its first unguarded statement: one SET at the top fixes all.
    for section in migration.sections():
        unguarded = [
            (stmt, locks) for stmt in section.all_statements() if (locks := _locks(stmt, ctx))
        ]
        if not unguarded:
            continue
        stmt, locks = unguarded[0]
        verb = statement_action(stmt.node, ctx.facts.locks(stmt))
        if all(lk.referenced for lk in locks):
            what = "whose foreign key takes " + describe(locks).replace(
                " on '", " on referenced table '", 1
            )
        else:
            what = f"which takes {describe(locks)}"
        more = (
            f" ({len(unguarded) - 1} more lock-taking statements follow)"
            if len(unguarded) > 1
            else ""
        )
        yield ctx.finding(
            stmt,
            f"no lock_timeout is set before {verb}, {what}: while it waits for the lock, every "
            f"query on the table queues behind it{more}",
            node=next((lk.node for lk in locks if not lk.referenced), locks[0].node),
            severity=max(
                (ctx.facts.severity(lk.table, ctx.severity) for _, lks in unguarded for lk in lks),
                key=_rank,
            ),
            hint="SET lock_timeout = '2s'; at the top of the section (SET LOCAL inside a "
            "transaction), and retry the migration when it times out",
            fix=_fix(migration, section, stmt),
        )


def _fix(migration: Migration, section: Section, unguarded: Statement) -> Fix | None:
    """`SET lock_timeout` above the section's first statement, unless the section sets it
    itself before the statement (to 0 or RESET on purpose), or the SET would turn a lone
    statement golang-migrate runs alone into a multi-statement file it runs in a transaction."""
    for stmt in section.statements:
        if stmt is unguarded or stmt is unguarded.parent:
            break
        if isinstance(stmt.node, ast.VariableSetStmt) and stmt.node.name == "lock_timeout":
            return None
    if migration.convention == "golang-migrate" and (
        len(section.statements) == 1
        or any(runs_outside_transaction(s.node) for s in section.statements)
    ):
        return None
    return fixes.safe(
        f"add SET lock_timeout = '{fixes.LOCK_TIMEOUT}'; at the top of the section",
        fixes.lock_timeout_edit(section.source, section.statements[0]),
    )


def _locks(stmt: Statement, ctx: Context) -> list[TableLock]:
    """Locks blocking traffic on existing tables that `stmt` takes with no lock_timeout set."""
    locks = [lk for lk in ctx.facts.existing_locks(stmt) if blocks_writes(lk.mode)]
    if not locks or not ctx.facts.forward(stmt):
        return []
    timeout = duration_ms(ctx.facts.of(stmt).lock_timeout)
    return [] if timeout is not None and timeout > 0 else locks


def _rank(severity: str) -> int:
    return {"info": 0, "warning": 1, "error": 2}.get(severity, 0)
