"""CREATE INDEX CONCURRENTLY IF NOT EXISTS can keep an INVALID index from a failed attempt.

## Why is this bad?
When `CREATE INDEX CONCURRENTLY` fails (a deadlock, a unique violation, a cancelled deploy) it
leaves the index behind, marked INVALID: it is maintained on every write but never used by
queries. Re-running the migration with `IF NOT EXISTS` then sees the name taken and does
nothing, so the deploy "succeeds" with a useless index and the queries it was meant for stay
slow. Drop it first so that a re-run rebuilds it.

Opt-in (`extend-select`): `IF NOT EXISTS` on a concurrent build is the common recipe for
re-runnable files (squawk's prefer-robust-stmts asks for it), and the risk only bites after a
failed attempt; teams that retry failed deploys unattended should turn it on.

## Example
```sql
-- +goose NO TRANSACTION
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);
```

Use instead:
```sql
-- +goose NO TRANSACTION
DROP INDEX CONCURRENTLY IF EXISTS users_email_idx;
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
```

## References
- https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "concurrent-index-if-not-exists"
SEVERITY = "info"
OPT_IN = True
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for stmt, node in migration.up.of(ast.IndexStmt):
        if not (node.concurrent and node.if_not_exists and node.idxname):
            continue
        yield ctx.finding(
            stmt,
            f"IF NOT EXISTS skips index '{node.idxname}' when a failed earlier CONCURRENTLY build "
            "left "
            "it INVALID, and the re-run succeeds without a usable index",
            hint=f"DROP INDEX CONCURRENTLY IF EXISTS {node.idxname}; then CREATE INDEX "
            "CONCURRENTLY "
            f"{node.idxname} ... without IF NOT EXISTS",
        )
