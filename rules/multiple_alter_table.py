"""Several ALTER TABLE statements on one table where a single one would do.

## Why is this bad?
Each ALTER TABLE that blocks traffic waits for its lock again when it runs in its own
transaction, and each one that scans or rewrites the table reads all of it again: merged into one
statement (`ALTER TABLE t ADD COLUMN a ..., ADD COLUMN b ...`), PostgreSQL takes the lock once and
does one pass. Statements in one transaction that are catalog-only, and statements whose lock
blocks nobody (VALIDATE CONSTRAINT, which must run separately), are not reported.

## Example
```sql
-- +goose NO TRANSACTION
-- +goose Up
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE orders ADD COLUMN source text;
```

Use instead:
```sql
-- +goose NO TRANSACTION
-- +goose Up
ALTER TABLE orders ADD COLUMN note text, ADD COLUMN source text;
```

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.locks import blocks_writes
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name, short

ID = "multiple-alter-table"
SEVERITY = "info"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"eugene": ["W12"]}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        by_table: dict[str, list[tuple[Statement, bool]]] = {}
        for stmt, node in section.of(ast.AlterTableStmt):
            table = relation_name(node.relation)
            if not ctx.facts.existing(table, stmt) or not ctx.facts.forward(stmt):
                continue
            locks = [
                lk for lk in ctx.facts.locks(stmt) if lk.table == table and blocks_writes(lk.mode)
            ]
            if locks:
                by_table.setdefault(table, []).append((stmt, any(lk.long for lk in locks)))
        for table, entries in by_table.items():
            first = entries[0][0]
            passes = sum(1 for _, long in entries if long)
            for stmt, _ in entries[1:]:
                separate = not (
                    ctx.facts.same_transaction(first, stmt) and ctx.facts.of(stmt).in_transaction
                )
                if not separate and passes < 2:
                    continue
                why = (
                    "each waits for the lock again"
                    if separate
                    else f"{passes} of them read the whole table"
                )
                yield ctx.finding(
                    stmt,
                    f"this migration runs {len(entries)} ALTER TABLE statements on "
                    f"'{short(table)}': {why}",
                    node=stmt.node,
                    severity=ctx.facts.severity(table, ctx.severity)
                    if passes >= 2
                    else ctx.severity,
                    hint=f"merge them into one ALTER TABLE {short(table)} with comma-separated "
                    "subcommands",
                )
                break
