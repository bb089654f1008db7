"""REFRESH MATERIALIZED VIEW without CONCURRENTLY.

## Why is this bad?
A plain `REFRESH MATERIALIZED VIEW` takes ACCESS EXCLUSIVE on the view and rebuilds it: every
query reading the view waits until the refresh ends. `REFRESH MATERIALIZED VIEW CONCURRENTLY`
takes EXCLUSIVE, which lets reads go on; it needs a unique index on the view (columns only, no
WHERE) and the view must already be populated.

A materialized view created in the same migration is not reported.

## Example
```sql
REFRESH MATERIALIZED VIEW sales_summary;
```

Use instead:
```sql
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS sales_summary_key ON sales_summary (day, region);
REFRESH MATERIALIZED VIEW CONCURRENTLY sales_summary;
```

## References
- https://www.postgresql.org/docs/current/sql-refreshmaterializedview.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import relation_name, short

ID = "require-concurrent-refresh"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.RefreshMatViewStmt):
            view = relation_name(node.relation)
            if node.concurrent or node.skipData or not ctx.facts.existing(view, stmt):
                continue
            yield ctx.finding(
                stmt,
                f"refreshing materialized view '{short(view)}' without CONCURRENTLY takes ACCESS "
                "EXCLUSIVE on it, blocking reads until the refresh ends",
                node=node,
                severity=ctx.facts.severity(view, ctx.severity),
                hint=f"CREATE UNIQUE INDEX CONCURRENTLY on {short(view)} (key columns) once; then "
                f"REFRESH MATERIALIZED VIEW CONCURRENTLY {short(view)};",
            )
