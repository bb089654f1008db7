"""BEGIN inside a transaction that is already open: PostgreSQL does not nest transactions.

## Why is this bad?
There is one transaction per session. A second `BEGIN` only prints a warning, so the first
`COMMIT` that follows ends the outer transaction too and the statements after it run one by one,
outside any transaction: a failure there leaves the migration half applied. Most runners
(goose, dbmate, sql-migrate, Flyway, diesel) already wrap each file in a transaction, so a
`BEGIN` in such a file is nested inside the runner's. A `BEGIN` that follows the file's own
`COMMIT` is not: it re-opens a transaction for the runner's final `COMMIT` to close (the
`COMMIT` itself is `commit-in-wrapped-file`'s business).

## Example
```sql
BEGIN;
ALTER TABLE users ADD COLUMN locale text;
BEGIN;
ALTER TABLE users ADD COLUMN tz text;
COMMIT;
COMMIT;
```

Use instead:
```sql
ALTER TABLE users ADD COLUMN locale text;
ALTER TABLE users ADD COLUMN tz text;
```

## Differences from squawk
Split from squawk's transaction-nesting (see commit-in-wrapped-file); it knows whether the runner
already opened a transaction.

## References
- https://www.postgresql.org/docs/current/sql-begin.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import TransactionStmtKind as K
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "nested-transaction"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
# golang-migrate sends a file as one multi-statement query: an implicit transaction that the
# file's own BEGIN/COMMIT replace cleanly, so explicit transaction control is normal there.
_HONOURS_BEGIN = {"golang-migrate"}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["transaction-nesting"]}
PRESETS = ("guide", "safety")

_BEGIN = (K.TRANS_STMT_BEGIN, K.TRANS_STMT_START)
_END = (K.TRANS_STMT_COMMIT, K.TRANS_STMT_ROLLBACK)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    wrapped = (
        ctx.facts.runner_transaction  # transaction mode, runner directives, "auto" (Flyway)
        and migration.convention not in _HONOURS_BEGIN
    )
    for section in migration.sections():
        open_at: int | None = None
        # A COMMIT ends the runner's transaction; a BEGIN after it re-opens one for the runner's
        # own COMMIT to close (sql-migrate and pop files do this around CONCURRENTLY): not nested.
        runner_open = wrapped
        for stmt, node in section.of(ast.TransactionStmt, nested=False):
            if node.kind in _BEGIN:
                if open_at is not None:
                    yield ctx.finding(
                        stmt,
                        f"BEGIN inside the transaction opened at line {open_at}; the next COMMIT "
                        "ends "
                        "both and later statements run outside a transaction",
                        hint="remove the inner BEGIN and its COMMIT",
                    )
                elif runner_open:
                    yield ctx.finding(
                        stmt,
                        f"BEGIN in a file the {migration.convention} runner already runs in a "
                        "transaction; its COMMIT ends the runner's transaction early",
                        hint="remove BEGIN/COMMIT and let the runner manage the transaction, or "
                        "mark the "
                        "file as not transactional for the runner",
                    )
                open_at = stmt.line
            elif node.kind in _END:
                open_at = None
                runner_open = False
