"""CONCURRENTLY (or VACUUM) in a transaction: PostgreSQL refuses to run it.

## Why is this bad?
`CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX CONCURRENTLY`, `DETACH
PARTITION CONCURRENTLY` and `VACUUM` cannot run inside a transaction block: the migration fails
with "cannot run inside a transaction block" at deploy time. That includes files the runner wraps
in a transaction (goose, dbmate, sql-migrate and golang-migrate runners by default, or the
`transaction = "per-file"` configuration) unless a directive such as `-- +goose NO TRANSACTION`
turns that off, and statements between the file's own BEGIN and COMMIT. The guide's `-- UP`/`--
DOWN` files say so with a line `-- NO TRANSACTION`.

## Example
```sql
-- +goose Up
CREATE INDEX CONCURRENTLY idx_orders_customer_id ON orders (customer_id);
```

Use instead:
```sql
-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY idx_orders_customer_id ON orders (customer_id);
```

## Fix
Adds the runner's no-transaction marker. The marker is the convention's: `-- +goose NO
TRANSACTION`, `-- NO TRANSACTION`, `-- +migrate Up notransaction`, `-- migrate:up
transaction:false`, `run_in_transaction = false` in diesel's `metadata.toml`; none is needed where
the runner leaves such a file unwrapped by itself (Flyway, `transaction = "auto"`). Safe when every
other statement of the file can run again after a partial failure (SET, IF [NOT] EXISTS, other
index statements); unsafe when the file stops running in one transaction while it holds statements
that cannot: prefer-robust-statements and down-not-idempotent may then report them, and fix them in
turn. No fix between the file's own BEGIN and COMMIT, nor for golang-migrate and pop, which have no
marker.

## Differences from squawk
Besides CREATE INDEX CONCURRENTLY it covers DROP INDEX, REINDEX and DETACH PARTITION CONCURRENTLY
and VACUUM, and it knows which runners wrap a file (goose NO TRANSACTION, dbmate transaction:false,
Flyway's detection), where squawk relies on its assume-in-transaction setting.

## References
- https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter import fixes
from pgpreflight.linter.context import Context
from pgpreflight.linter.facts import runs_outside_transaction
from pgpreflight.linter.findings import Finding, Fix
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.notransaction import how_to_leave_transaction

ID = "concurrently-in-transaction"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["ban-concurrent-index-creation-in-transaction"]}
PRESETS = ("guide", "safety")
FIX = "safe; unsafe when the file holds statements that cannot run again"
FIX_ADDS = ("prefer-robust-statements", "down-not-idempotent")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for stmt in migration.statements():
        if stmt.parent is not None or not runs_outside_transaction(stmt.node):
            continue
        facts = ctx.facts.of(stmt)
        if not facts.in_transaction:
            continue
        what = stmt.text.strip().split("(")[0][:60].strip()
        if facts.explicit_transaction:
            where, hint = (
                "between BEGIN and COMMIT",
                "move it after COMMIT, into its own statement outside the transaction",
            )
        else:
            where = "in a file the runner wraps in a transaction"
            hint = how_to_leave_transaction(migration, ctx.facts) or (
                "run the file outside a transaction (a runner directive, or "
                'transaction = "none" / "auto" in the configuration if the runner does so)'
            )
            hint += ", and keep other statements in separate migrations"
        yield ctx.finding(
            stmt,
            f"cannot run '{what}' {where}: the migration will fail",
            hint=hint,
            fix=_fix(migration, ctx, stmt),
        )


def _fix(migration: Migration, ctx: Context, stmt: Statement) -> Fix | None:
    """The runner's no-transaction marker for the file, where its convention has one."""
    leaving = fixes.leave_transaction(migration, ctx.facts, stmt)
    if leaving is None or not leaving.edits:
        return None
    description = f"add {fixes.marker_words(leaving.edits)}"
    if not fixes.leaving_is_safe(migration, stmt):
        return fixes.unsafe(
            description + ": the file then runs outside a transaction, and its other statements "
            "fail when it is run again after a partial failure",
            *leaving.edits,
        )
    return fixes.safe(description, *leaving.edits)
