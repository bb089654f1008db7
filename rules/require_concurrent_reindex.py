"""REINDEX without CONCURRENTLY.

## Why is this bad?
`REINDEX` blocks writes to the table (SHARE) and takes ACCESS EXCLUSIVE on each index it
rebuilds, so queries that would use the index wait too, for as long as the rebuild takes. From
PostgreSQL 12, `REINDEX CONCURRENTLY` rebuilds without blocking reads or writes (outside a
transaction). Before 12, build a replacement with `CREATE INDEX CONCURRENTLY`, then drop the old
index concurrently and rename the new one.

## Example
```sql
REINDEX INDEX idx_orders_customer_id;
```

Use instead:
```sql
-- +goose NO TRANSACTION
-- +goose Up
REINDEX INDEX CONCURRENTLY idx_orders_customer_id;
```

## Fix
Adds `CONCURRENTLY` (PostgreSQL 12 and later) and the runner's no-transaction marker. The marker is
the convention's: `-- +goose NO TRANSACTION`, `-- NO TRANSACTION`, `-- +migrate Up notransaction`,
`-- migrate:up transaction:false`, `run_in_transaction = false` in diesel's `metadata.toml`; none
is needed where the runner leaves such a file unwrapped by itself (Flyway, `transaction = "auto"`).
Safe when every other statement of the file can run again after a partial failure (SET, IF [NOT]
EXISTS, other index statements); unsafe when the file stops running in one transaction while it
holds statements that cannot: prefer-robust-statements and down-not-idempotent may then report
them, and fix them in turn. No fix for REINDEX SYSTEM, nor for PostgreSQL 14.0 to 14.3.

## Differences from squawk
The hint follows `pg-version`: REINDEX CONCURRENTLY from PostgreSQL 12, the CREATE INDEX
CONCURRENTLY / DROP / RENAME recipe before; tables created in the same migration are exempt.

## References
- https://www.postgresql.org/docs/current/sql-reindex.html#SQL-REINDEX-CONCURRENTLY
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

ID = "require-concurrent-reindex"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["require-concurrent-reindex"]}
PRESETS = ("guide", "safety")
FIX = "safe; unsafe when the file leaves its transaction with statements that cannot run again"
FIX_ADDS = ("prefer-robust-statements", "down-not-idempotent")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.ReindexStmt):
            if any(getattr(p, "defname", "") == "concurrently" for p in node.params or ()):
                continue
            locks = [lk for lk in ctx.facts.locks(stmt) if ctx.facts.existing(lk.table, stmt)]
            target = (
                short(relation_name(node.relation))
                if node.relation is not None
                else str(node.name or "")
            )
            what = f"reindexing {target}"
            if node.relation is not None and not locks:
                continue
            fix = None
            if ctx.pg_version >= (12,):
                hint = outside_transaction_hint(
                    migration, ctx.facts, f"REINDEX {_kind(node)} CONCURRENTLY {target};"
                )
                fix = _fix(migration, ctx, stmt, node)
            else:
                hint = (
                    "PostgreSQL before 12 has no REINDEX CONCURRENTLY: CREATE INDEX CONCURRENTLY a "
                    "replacement, DROP INDEX CONCURRENTLY the old one, then ALTER INDEX ... RENAME"
                )
            yield ctx.finding(
                stmt,
                f"{what} without CONCURRENTLY takes {describe(locks)} while it rebuilds"
                if locks
                else f"{what} without CONCURRENTLY blocks writes to every table it rebuilds",
                node=node,
                hint=hint,
                fix=fix,
            )


def _fix(migration: Migration, ctx: Context, stmt: Statement, node: ast.ReindexStmt) -> Fix | None:
    """CONCURRENTLY after the kind word (INDEX, TABLE, SCHEMA, DATABASE); system catalogs
    cannot be reindexed concurrently."""
    kind = _kind(node)
    if kind == "SYSTEM":
        return None
    word = next((t for t in statement_tokens(stmt) if t.name == kind), None)
    if word is None:
        return None
    if fixes.corrupts_indexes(ctx.pg_version):
        return None
    return fixes.concurrently(migration, ctx.facts, stmt, word.end, "CONCURRENTLY")


def _kind(node: ast.ReindexStmt) -> str:
    return node.kind.name.rsplit("_", 1)[1] if node.kind is not None else "INDEX"
