"""An application query searches text (ILIKE, `LIKE '%...%'`, a regex) that no trigram index serves.

## Why is this bad?
A btree index cannot serve a pattern with a leading wildcard nor a case-insensitive match: every
search reads and pattern-matches every row of the table. pg_trgm's GIN (`gin_trgm_ops`) or GiST
(`gist_trgm_ops`) operator classes index the three-letter pieces of the text, so that
`nome ILIKE '%termo%'` reads only the rows that can match. The guide asks for a GIN trigram index
on every column searched with ILIKE.

This is a named sub-case of `query-without-supporting-index`.

## Example
```sql
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE oficinas (id bigint PRIMARY KEY, nome text NOT NULL);
-- pgpreflight: query
-- SELECT id, nome FROM oficinas WHERE nome ILIKE '%' || $1 || '%';
```

Use instead:
```sql
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE oficinas (id bigint PRIMARY KEY, nome text NOT NULL);
CREATE INDEX idx_oficinas_nome_trgm ON oficinas USING gin (nome gin_trgm_ops);
-- pgpreflight: query
-- SELECT id, nome FROM oficinas WHERE nome ILIKE '%' || $1 || '%';
```

## References
- https://www.postgresql.org/docs/current/pgtrgm.html#PGTRGM-INDEX
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "text-search-without-trgm-index"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def check_history(migrations: list[Migration], ctx: Context) -> Iterator[Finding]:
    from pgpreflight.linter.queries.findings import query_findings

    yield from query_findings(migrations, ctx)
