"""VACUUM FULL or CLUSTER on an existing table.

## Why is this bad?
`VACUUM FULL` and `CLUSTER` rewrite the whole table and all its indexes under ACCESS EXCLUSIVE:
neither reads nor writes can touch the table until the copy finishes, and the rewrite needs free
disk for a second copy. In a migration this is an outage proportional to the table size. Plain
`VACUUM` (which migrations cannot run in a transaction anyway) does not block traffic; to reclaim
space online use an extension such as pg_repack or pg_squeeze, run by an operator.

## Example
```sql
VACUUM FULL orders;
```

Use instead:
```sql
-- +goose NO TRANSACTION
-- +goose Up
VACUUM (ANALYZE) orders;
```

## Differences from squawk
squawk's prefer-repack points at pg_repack; this rule reports VACUUM FULL and CLUSTER on tables
that existed before the migration (the same hazard) and leaves reclaiming space online (pg_repack,
pg_squeeze) to an operator, outside migrations.

## References
- https://www.postgresql.org/docs/current/sql-vacuum.html
- https://www.postgresql.org/docs/current/sql-cluster.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.locks import REWRITE, Lock
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short

ID = "vacuum-full-or-cluster"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["prefer-repack"]}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for stmt in migration.statements():
        if not isinstance(stmt.node, (ast.VacuumStmt, ast.ClusterStmt)):
            continue
        locks = [
            lk
            for lk in ctx.facts.locks(stmt)
            if lk.mode == Lock.ACCESS_EXCLUSIVE and lk.work == REWRITE
        ]
        if isinstance(stmt.node, ast.ClusterStmt) and stmt.node.relation is None:
            yield ctx.finding(
                stmt,
                "running CLUSTER without a table rewrites every clustered table of the database "
                "under ACCESS EXCLUSIVE",
                hint="do not run CLUSTER from migrations; use pg_repack",
            )
            continue
        for lk in locks:
            if not ctx.facts.existing(lk.table, stmt):
                continue
            yield ctx.finding(
                stmt,
                f"running {lk.action} rewrites '{short(lk.table)}' under ACCESS EXCLUSIVE, "
                "blocking reads and writes "
                "until the copy ends",
                node=stmt.node,
                severity=ctx.facts.severity(lk.table, ctx.severity),
                hint="leave space reclamation to an operator with pg_repack or pg_squeeze; "
                "plain VACUUM "
                "does not block traffic",
            )
