"""Trigram index (`gin_trgm_ops` / `gist_trgm_ops`) without the `pg_trgm` extension.

## Why is this bad?
The operator classes come from `pg_trgm`. Without it the migration fails with `operator class
"gin_trgm_ops" does not exist for access method "gin"`: on a fresh database, in CI, or on the
production deploy when the extension was only ever installed by hand on a developer's machine.
The extension must be created by an earlier migration, or earlier in the same one.

## Example
```sql
CREATE INDEX idx_products_name_trgm ON products USING gin (name gin_trgm_ops);
```

Use instead:
```sql
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX idx_products_name_trgm ON products USING gin (name gin_trgm_ops);
```

## Options
- `installed`: extensions known to exist on every target although no migration creates them.

## References
- https://www.postgresql.org/docs/current/pgtrgm.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name, short

ID = "trigram-index-needs-extension"
SEVERITY = "error"
OPTIONS: dict[str, object] = {"installed": []}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")

_TRIGRAM_OPCLASSES = {"gin_trgm_ops", "gist_trgm_ops"}


def _available(stmt: Statement, ctx: Context) -> bool:
    if "pg_trgm" in ctx.options["installed"]:
        return True
    assert ctx.schema_before is not None and ctx.schema_after is not None
    if "pg_trgm" in ctx.schema_before.extensions:
        return True
    created = ctx.schema_after.extensions.get("pg_trgm")
    where = created.location if created is not None else None
    return (
        isinstance(where, Statement) and where.source is stmt.source and where.offset < stmt.offset
    )


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for stmt, node in migration.up.of(ast.IndexStmt):
        opclasses = {
            str(elem.opclass[-1].sval)
            for elem in node.indexParams or ()
            if isinstance(elem, ast.IndexElem) and elem.opclass
        } & _TRIGRAM_OPCLASSES
        if not opclasses or _available(stmt, ctx):
            continue
        name = node.idxname or f"on {short(relation_name(node.relation))}"
        yield ctx.finding(
            stmt,
            f"index {name} uses {', '.join(sorted(opclasses))} but extension pg_trgm is not "
            "created before it: the migration fails",
            hint="add CREATE EXTENSION IF NOT EXISTS pg_trgm "
            "in an earlier migration or before this statement",
        )
