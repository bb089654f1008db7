"""CREATE INDEX / REINDEX CONCURRENTLY on PostgreSQL 14.0 to 14.3, which can corrupt indexes.

## Why is this bad?
A bug in PostgreSQL 14.0-14.3 lets `CREATE INDEX CONCURRENTLY` and `REINDEX CONCURRENTLY` miss
rows written while the index is built: the index silently lacks entries and queries using it
return wrong results. 14.4 fixed it; indexes built concurrently on the affected versions must be
rebuilt after upgrading. Set `pg-version` to your server's minor version (`"14.2"`) for this check.

## Example
```sql
-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY idx_orders_customer_id ON orders (customer_id);
```

Use instead:
```sql
-- +goose NO TRANSACTION
-- +goose Up
-- pgpreflight: ignore[concurrent-index-corruption-risk] production runs 14.4; CI is older
CREATE INDEX CONCURRENTLY idx_orders_customer_id ON orders (customer_id);
```

## References
- https://www.postgresql.org/docs/release/14.4/
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "concurrent-index-corruption-risk"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"strong_migrations": ["add_index_corruption"]}
PRESETS = ("guide", "safety")
EXAMPLE_CONFIG = {"pg-version": "14.2"}


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    version = ctx.pg_version
    if not (version.major == 14 and version.minor <= 3):
        return
    for stmt in migration.statements():
        node = stmt.node
        concurrent = (isinstance(node, ast.IndexStmt) and node.concurrent) or (
            isinstance(node, ast.ReindexStmt)
            and any(getattr(p, "defname", "") == "concurrently" for p in node.params or ())
        )
        if concurrent:
            yield ctx.finding(
                stmt,
                f"building an index CONCURRENTLY on PostgreSQL {version} can silently miss rows "
                "(fixed in 14.4)",
                node=node,
                hint="upgrade to 14.4 or later before building indexes concurrently; rebuild "
                "indexes "
                "built concurrently on 14.0-14.3 (REINDEX CONCURRENTLY after the upgrade)",
            )
