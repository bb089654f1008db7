"""An application query filters, joins or sorts on a column that no index can serve.

## Why is this bad?
Without an index that matches the predicate, PostgreSQL reads the whole table for every call of
the query: a sequential scan that grows with the table, fills the buffer cache with pages nobody
needed and, under load, turns one slow endpoint into a slow database. The guide's rule is to index
the columns queries search: GIN trigram for text searched with ILIKE, btree for date and status
filters. This rule reads the application's queries (the `queries` setting, and
`-- pgpreflight: query` blocks in migrations), resolves every column in WHERE, JOIN and ORDER BY
to its table in the schema after all migrations, and checks that some index can serve each
predicate: a btree whose leading columns are constrained for `=`, ranges, `IN` and ORDER BY ...
LIMIT; a `*_pattern_ops` btree or a trigram index for `LIKE 'abc%'`; GIN/GiST trigram for ILIKE,
`LIKE '%abc%'` and regular expressions; an index on the same expression for `lower(col) = ...`;
a GIN/GiST index for full-text `@@`.

This is the umbrella rule. Its two main cases are separate rules that can be selected on their
own: `filter-column-without-index` (btree cases) and `text-search-without-trgm-index` (trigram
cases). Each gap is reported once, under the sub-rule when it is enabled, otherwise under this
rule (unless the sub-rule is in `ignore`). ORDER BY ... LIMIT, full-text and containment gaps, and
queries that cannot be parsed, are reported by this rule.

Findings point at the query's file and line. Silence one like any finding: a
`-- pgpreflight: ignore[filter-column-without-index] reason` line just above the query in the
query file covers the whole query; `per-file-ignores` (`"queries/reports.sql" =
["filter-column-without-index"]`) a whole file; in a migration, `-- pgpreflight: ignore-file[rule]
reason` covers its query blocks.

## Example
```sql
CREATE TABLE oficinas (id bigint PRIMARY KEY, nome text NOT NULL, data_inicio date NOT NULL);
-- pgpreflight: query
-- SELECT id, nome FROM oficinas ORDER BY data_inicio DESC LIMIT 20;
```

Use instead:
```sql
CREATE TABLE oficinas (id bigint PRIMARY KEY, nome text NOT NULL, data_inicio date NOT NULL);
CREATE INDEX idx_oficinas_data_inicio ON oficinas (data_inicio);
-- pgpreflight: query
-- SELECT id, nome FROM oficinas ORDER BY data_inicio DESC LIMIT 20;
```

## References
- https://www.postgresql.org/docs/current/indexes-types.html
- https://www.postgresql.org/docs/current/indexes-multicolumn.html
- https://www.postgresql.org/docs/current/indexes-expressional.html
- https://www.postgresql.org/docs/current/pgtrgm.html#PGTRGM-INDEX
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "query-without-supporting-index"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def check_history(migrations: list[Migration], ctx: Context) -> Iterator[Finding]:
    from pgpreflight.linter.queries.findings import query_findings

    yield from query_findings(migrations, ctx)
