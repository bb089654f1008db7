"""DETACH PARTITION without CONCURRENTLY.

## Why is this bad?
`ALTER TABLE ... DETACH PARTITION` takes ACCESS EXCLUSIVE on the partitioned table and on the
partition: every query on any partition of the table waits, and queues behind it while it waits
for running queries. From PostgreSQL 14, `DETACH PARTITION ... CONCURRENTLY` takes only SHARE
UPDATE EXCLUSIVE and lets reads and writes continue (outside a transaction; if interrupted, finish
it with `DETACH PARTITION ... FINALIZE`). Before 14 there is no concurrent form: detach in a quiet
window with a short `lock_timeout`.

## Example
```sql
ALTER TABLE measurements DETACH PARTITION measurements_2020;
```

Use instead:
```sql
-- +goose NO TRANSACTION
-- +goose Up
ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;
```

## Fix
Adds `CONCURRENTLY` (PostgreSQL 14 and later) and the runner's no-transaction marker, as
require-concurrent-index does. Safe when every other statement of the file can run again after a
partial failure; unsafe when the file stops running in one transaction while it holds statements
that cannot, or when the history does not show the partitioned table (CONCURRENTLY fails where it
has a DEFAULT partition). No fix beside other subcommands of the ALTER TABLE, or on a table with
a DEFAULT partition.

## Differences from squawk
The `pg-version` decides: from PostgreSQL 14 it is an error with DETACH ... CONCURRENTLY as the
fix; before 14, where no concurrent form exists, a warning to detach in a quiet window with a short
lock_timeout.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DETACH-PARTITION
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType
from pgpreflight.linter import fixes
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding, Fix
from pgpreflight.linter.locks import describe
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.notransaction import outside_transaction_hint
from pgpreflight.linter.tokens import statement_tokens

ID = "require-concurrent-detach"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["require-concurrent-partition-detach"]}
PRESETS = ("guide", "safety")
FIX = "safe; unsafe when the file leaves its transaction with statements that cannot run again, or the table is unknown"
FIX_ADDS = ("prefer-robust-statements", "down-not-idempotent")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.AlterTableStmt):
            table = relation_name(node.relation)
            if not ctx.facts.existing(table, stmt) or not ctx.facts.forward(stmt):
                continue
            for cmd in node.cmds or ():
                if (
                    not isinstance(cmd, ast.AlterTableCmd)
                    or cmd.subtype != AlterTableType.AT_DetachPartition
                    or not isinstance(cmd.def_, ast.PartitionCmd)
                ):
                    continue
                if cmd.def_.concurrent:
                    continue
                part = short(relation_name(cmd.def_.name))
                locks = [lk for lk in ctx.facts.locks(stmt) if lk.node is cmd]
                fix = None
                if ctx.pg_version >= (14,):
                    fix = _fix(migration, ctx, stmt, table)
                    hint = outside_transaction_hint(
                        migration,
                        ctx.facts,
                        f"ALTER TABLE {short(table)} DETACH PARTITION {part} CONCURRENTLY; (if "
                        f"it is interrupted: ... DETACH PARTITION {part} FINALIZE)",
                    )
                    severity = ctx.severity
                else:
                    hint = (
                        "PostgreSQL before 14 cannot detach concurrently: SET lock_timeout = "
                        "'2s' and "
                        "detach in a quiet window, retrying on timeout"
                    )
                    severity = "warning"
                yield ctx.finding(
                    stmt,
                    f"detaching partition '{part}' without CONCURRENTLY takes {describe(locks)}",
                    node=cmd,
                    severity=ctx.facts.severity(table, severity),
                    hint=hint,
                    fix=fix,
                )


def _fix(migration: Migration, ctx: Context, stmt: Statement, table: str) -> Fix | None:
    """CONCURRENTLY at the end of a DETACH PARTITION that is the statement's only subcommand
    (PostgreSQL allows no other beside it), on a table with no default partition (which
    PostgreSQL refuses to detach from concurrently)."""
    node = stmt.node
    if not isinstance(node, ast.AlterTableStmt) or len(node.cmds or ()) != 1:
        return None
    before = ctx.schema_before
    known = before is not None and before.table(table) is not None
    if before is not None and any(p.partition_bound == "DEFAULT" for p in before.partitions(table)):
        return None
    tokens = statement_tokens(stmt)
    fix = (
        fixes.concurrently(migration, ctx.facts, stmt, tokens[-1].end, "CONCURRENTLY")
        if tokens
        else None
    )
    if fix is None or known:
        return fix
    markers = fix.edits[:-1]  # `concurrently` puts the CONCURRENTLY edit last
    what = f" and {fixes.marker_words(markers)}" if markers else ""
    return fixes.unsafe(
        f"add CONCURRENTLY{what}: the history does not show whether '{short(table)}' has a "
        "DEFAULT partition, with which CONCURRENTLY fails",
        *fix.edits,
    )
