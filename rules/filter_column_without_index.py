"""An application query filters or joins on a column no btree index can serve.

## Why is this bad?
A status, date or foreign-key filter without a btree index whose leading columns match makes
PostgreSQL read the whole table on every call; the cost grows with the table and the query that
was instant in development times out in production. A multicolumn index only helps when the
query constrains its leading columns, `lower(email) = $1` needs an index on `lower(email)`, and
`LIKE 'abc%'` needs `text_pattern_ops` (or the C collation) or a trigram index.

This is a named sub-case of `query-without-supporting-index` (see that rule for where queries come
from and how each gap is reported once).

## Example
```sql
CREATE TABLE oficinas (id bigint PRIMARY KEY, status text NOT NULL, data_inicio date NOT NULL);
-- pgpreflight: query
-- SELECT id FROM oficinas WHERE status = $1 AND data_inicio >= $2;
```

Use instead:
```sql
CREATE TABLE oficinas (id bigint PRIMARY KEY, status text NOT NULL, data_inicio date NOT NULL);
CREATE INDEX idx_oficinas_status_data_inicio ON oficinas (status, data_inicio);
-- pgpreflight: query
-- SELECT id FROM oficinas WHERE status = $1 AND data_inicio >= $2;
```

## References
- https://www.postgresql.org/docs/current/indexes-multicolumn.html
- https://www.postgresql.org/docs/current/indexes-opclass.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "filter-column-without-index"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def check_history(migrations: list[Migration], ctx: Context) -> Iterator[Finding]:
    from pgpreflight.linter.queries.findings import query_findings

    yield from query_findings(migrations, ctx)
