"""ATTACH PARTITION without a validated CHECK constraint that proves the partition bound.

## Why is this bad?
`ALTER TABLE parent ATTACH PARTITION child FOR VALUES ...` scans the whole child table, under
ACCESS EXCLUSIVE on the child, to prove every row fits the bound (and scans the default
partition, if any, for rows that now belong to the child). If the child already has a validated
CHECK constraint implying the bound, PostgreSQL skips that scan. Add the CHECK as `NOT VALID`,
validate it (SHARE UPDATE EXCLUSIVE, no blocking), attach, then drop the CHECK.

A partition created empty in the same migration is not reported.

## Example
```sql
ALTER TABLE measurements ATTACH PARTITION measurements_2024
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
```

Use instead:
```sql
-- file: 202312011200__create_measurements.sql
CREATE TABLE measurements (logdate date NOT NULL, value numeric) PARTITION BY RANGE (logdate);
CREATE TABLE measurements_2024 (logdate date NOT NULL, value numeric);
-- file: 202401011200__check_measurements_2024.sql
ALTER TABLE measurements_2024 ADD CONSTRAINT measurements_2024_bound
    CHECK (logdate >= '2024-01-01' AND logdate < '2025-01-01') NOT VALID;
ALTER TABLE measurements_2024 VALIDATE CONSTRAINT measurements_2024_bound;
-- file: 202401011300__attach_measurements_2024.sql
ALTER TABLE measurements ATTACH PARTITION measurements_2024
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE measurements_2024 DROP CONSTRAINT measurements_2024_bound;
```

## References
- https://www.postgresql.org/docs/current/ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-MAINTENANCE
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import relation_name, short

ID = "attach-partition-without-check"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")


def _has_validated_check(ctx: Context, table: str) -> bool:
    t = ctx.schema_before.table(table) if ctx.schema_before is not None else None
    return t is not None and any(c.kind == "check" and c.validated for c in t.constraints.values())


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.AlterTableStmt):
            parent = relation_name(node.relation)
            if not ctx.facts.forward(stmt):
                continue
            for cmd in node.cmds or ():
                if (
                    not isinstance(cmd, ast.AlterTableCmd)
                    or cmd.subtype != AlterTableType.AT_AttachPartition
                    or not isinstance(cmd.def_, ast.PartitionCmd)
                ):
                    continue
                part = relation_name(cmd.def_.name)
                if not ctx.facts.existing(part, stmt) or _has_validated_check(ctx, part):
                    continue
                yield ctx.finding(
                    stmt,
                    f"attaching '{short(part)}' to '{short(parent)}' scans all of "
                    f"'{short(part)}' under "
                    "ACCESS EXCLUSIVE, blocking its reads and writes, to check the partition bound",
                    node=cmd,
                    severity=ctx.facts.severity(part, ctx.severity),
                    hint=f"first, in an earlier migration: ALTER TABLE {short(part)} ADD "
                    "CONSTRAINT "
                    f"{part.split('.')[-1]}_bound CHECK (<the bound>) NOT VALID; ALTER TABLE "
                    f"{short(part)} "
                    "VALIDATE CONSTRAINT ...; then ATTACH PARTITION, then drop the CHECK",
                )
