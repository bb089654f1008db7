"""BEGIN without a matching COMMIT in the same file.

## Why is this bad?
A file that opens a transaction and never commits it leaves the session "idle in transaction"
holding every lock its statements took, until the runner closes the connection, which rolls the
work back, or commits it by accident with whatever comes next. Either way the migration's effect
depends on the runner, not on the file.

Files the runner wraps in its own transaction are reported by `nested-transaction` instead.

## Example
```sql
BEGIN;
ALTER TABLE users ADD COLUMN locale text;
```

Use instead:
```sql
BEGIN;
ALTER TABLE users ADD COLUMN locale text;
COMMIT;
```

## Differences from squawk
Same scope; a file the runner wraps itself is judged with the runner's transaction.

## References
- https://www.postgresql.org/docs/current/sql-commit.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import TransactionStmtKind as K
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Statement

ID = "unclosed-transaction"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
# golang-migrate sends a file as one multi-statement query: an implicit transaction that the
# file's own BEGIN/COMMIT replace cleanly, so explicit transaction control is normal there.
_HONOURS_BEGIN = {"golang-migrate"}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["ban-uncommitted-transaction"]}
PRESETS = ("guide", "safety")
EXAMPLE_CONFIG = {"transaction": "none"}


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    if (
        ctx.facts.runner_transaction  # transaction mode, runner directives, "auto" (Flyway)
        and migration.convention not in _HONOURS_BEGIN
    ):
        return
    for section in migration.sections():
        opened: Statement | None = None
        for stmt, node in section.of(ast.TransactionStmt, nested=False):
            if node.kind in (K.TRANS_STMT_BEGIN, K.TRANS_STMT_START):
                opened = opened or stmt
            elif node.kind in (K.TRANS_STMT_COMMIT, K.TRANS_STMT_ROLLBACK, K.TRANS_STMT_PREPARE):
                opened = None
        if opened is not None:
            yield ctx.finding(
                opened,
                f"transaction opened here is never committed in the {section.kind.upper()} section",
                hint="end it with COMMIT; after the last statement",
            )
