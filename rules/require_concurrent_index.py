"""Index created on an existing table without CONCURRENTLY.

## Why is this bad?
`CREATE INDEX` takes a SHARE lock on the table for the whole build: every INSERT, UPDATE and
DELETE waits until the index is complete, which on a large table is minutes to hours of blocked
writes. `CREATE INDEX CONCURRENTLY` takes SHARE UPDATE EXCLUSIVE instead, which lets reads and
writes go on while it builds (it scans the table twice and cannot run inside a transaction).

A table created earlier in the same migration is empty, so indexing it is instant and is not
reported, nor is `CREATE INDEX ... ON ONLY` a partitioned table (a catalog entry). A partitioned
table cannot be indexed concurrently: the hint gives the ON ONLY / ATTACH PARTITION recipe.
On PostgreSQL 14.0 to 14.3 CONCURRENTLY itself can corrupt indexes (see
`concurrent-index-corruption-risk`).

## Example
```sql
CREATE INDEX idx_orders_customer_id ON orders (customer_id);
```

Use instead:
```sql
-- +goose NO TRANSACTION
-- +goose Up
SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_customer_id ON orders (customer_id);
```

```sql
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL);
CREATE INDEX idx_orders_customer_id ON orders (customer_id);
```

## Fix
Adds `CONCURRENTLY IF NOT EXISTS` (`CONCURRENTLY` for an unnamed index) and the runner's
no-transaction marker. The marker is the convention's: `-- +goose NO TRANSACTION`, `-- NO
TRANSACTION`, `-- +migrate Up notransaction`, `-- migrate:up transaction:false`,
`run_in_transaction = false` in diesel's `metadata.toml`; none is needed where the runner leaves
such a file unwrapped by itself (Flyway, `transaction = "auto"`). Safe when every other statement
of the file can run again after a partial failure (SET, IF [NOT] EXISTS, other index statements);
unsafe when the file stops running in one transaction while it holds statements that cannot:
prefer-robust-statements and down-not-idempotent may then report them, and fix them in turn. No fix
for a partitioned table, inside the file's own BEGIN, in a golang-migrate or pop file of several
statements, or for PostgreSQL 14.0 to 14.3.

## Differences from squawk
Tables created earlier in the same section (from the history, not only this file) are exempt; ON
ONLY a partitioned table is catalog-only and not reported.

## References
- https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
- https://www.postgresql.org/docs/current/explicit-locking.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter import fixes
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding, Fix
from pgpreflight.linter.locks import describe
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.notransaction import outside_transaction_hint
from pgpreflight.linter.tokens import statement_tokens

ID = "require-concurrent-index"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["require-concurrent-index-creation"],
    "eugene": ["E6"],
    "strong_migrations": ["add_index"],
}
PRESETS = ("guide", "safety")
FIX = "safe; unsafe when the file leaves its transaction with statements that cannot run again"
FIX_ADDS = ("prefer-robust-statements", "down-not-idempotent")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.IndexStmt):
            table = relation_name(node.relation)
            if (
                node.concurrent
                or not ctx.facts.existing(table, stmt)
                or not ctx.facts.forward(stmt)
            ):
                continue
            name = node.idxname or "index"
            unique = "UNIQUE " if node.unique else ""
            t = short(table)
            model = (
                ctx.schema_before.table(ctx.facts.name_before(table, stmt))
                if ctx.schema_before is not None
                else None
            )
            partitioned = model is None or model.partition_by is not None
            if node.relation is not None and not node.relation.inh and partitioned:
                continue  # ON ONLY a partitioned table: catalog-only, partitions are indexed apart
            fix = None
            if model is not None and model.partition_by is not None:
                hint = (
                    "a partitioned table cannot be indexed concurrently: "
                    f"CREATE {unique}INDEX {name} ON ONLY {t} (...); then for each partition "
                    f"CREATE {unique}INDEX CONCURRENTLY "
                    f"...; and ALTER INDEX {name} ATTACH PARTITION <partition index>"
                )
            else:
                hint = outside_transaction_hint(
                    migration,
                    ctx.facts,
                    f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {name} ON {t} (...); and "
                    "check pg_index.indisvalid afterwards",
                )
                fix = _fix(migration, ctx, stmt, node)
            yield ctx.finding(
                stmt,
                f"index {name} on existing table '{t}' is built without CONCURRENTLY: "
                f"takes {describe(ctx.facts.locks(stmt))} until the build ends",
                node=node,
                severity=ctx.facts.severity(table, ctx.severity),
                hint=hint,
                fix=fix,
            )


def _fix(migration: Migration, ctx: Context, stmt: Statement, node: ast.IndexStmt) -> Fix | None:
    """CONCURRENTLY after INDEX, with IF NOT EXISTS for a named index (a re-run after a
    failure must not stop on the index the first run built)."""
    index = next((t for t in statement_tokens(stmt) if t.name == "INDEX"), None)
    if index is None:
        return None
    words = (
        "CONCURRENTLY IF NOT EXISTS" if node.idxname and not node.if_not_exists else "CONCURRENTLY"
    )
    if fixes.corrupts_indexes(ctx.pg_version):
        return None
    return fixes.concurrently(migration, ctx.facts, stmt, index.end, words)
