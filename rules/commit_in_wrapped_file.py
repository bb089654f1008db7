"""COMMIT or ROLLBACK in a file the migration runner wraps in a transaction.

## Why is this bad?
Runners such as goose, dbmate, sql-migrate, Flyway and diesel run each file inside a transaction
they open and commit themselves. A `COMMIT` in the file ends that transaction early: the
statements after it run outside any transaction (a failure leaves the migration half applied and
the runner's own bookkeeping out of step), and the runner's final `COMMIT` finds nothing to
commit. A `ROLLBACK` silently throws away what the file did while the runner records the
migration as applied.

## Example
```sql
ALTER TABLE users ADD COLUMN locale text;
COMMIT;
CREATE INDEX CONCURRENTLY users_locale_idx ON users (locale);
```

Use instead:
```sql
-- +goose NO TRANSACTION
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_locale_idx ON users (locale);
```

## Differences from squawk
Split from squawk's transaction-nesting: this rule reports COMMIT/ROLLBACK in a file the runner
wraps (per the convention's directives and `transaction`), nested-transaction reports BEGIN inside
an open transaction. A squawk-ignore of transaction-nesting silences both.

## References
- https://www.postgresql.org/docs/current/sql-commit.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import TransactionStmtKind as K
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "commit-in-wrapped-file"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
# golang-migrate sends a file as one multi-statement query: an implicit transaction that the
# file's own BEGIN/COMMIT replace cleanly, so explicit transaction control is normal there.
_HONOURS_BEGIN = {"golang-migrate"}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["transaction-nesting"]}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    if not (
        ctx.facts.runner_transaction  # transaction mode, runner directives, "auto" (Flyway)
        and migration.convention not in _HONOURS_BEGIN
    ):
        return
    for section in migration.sections():
        has_begin = False
        control = [(s, n) for s, n in section.of(ast.TransactionStmt, nested=False)]
        for i, (stmt, node) in enumerate(control):
            if node.kind in (K.TRANS_STMT_BEGIN, K.TRANS_STMT_START):
                has_begin = True
            if node.kind not in (K.TRANS_STMT_COMMIT, K.TRANS_STMT_ROLLBACK):
                continue
            reopens = i + 1 < len(control) and control[i + 1][1].kind in (
                K.TRANS_STMT_BEGIN,
                K.TRANS_STMT_START,
            )
            word = "COMMIT" if node.kind == K.TRANS_STMT_COMMIT else "ROLLBACK"
            effect = (
                "ends the runner's transaction early; later statements run outside a transaction"
                if word == "COMMIT"
                else "discards the file's work while the runner records the migration as applied"
            )
            if has_begin:
                effect = "also ends the transaction the runner opened around the file"
            elif word == "COMMIT" and reopens:
                effect = (
                    "commits the statements before it on their own; the BEGIN after it opens a "
                    "new transaction, so a later failure leaves the migration half applied"
                )
            yield ctx.finding(
                stmt,
                f"{word} in a file the {migration.convention} runner runs in a transaction "
                f"{effect}",
                hint="remove it and let the runner commit; put statements that need their own "
                "transaction in a separate migration",
            )
