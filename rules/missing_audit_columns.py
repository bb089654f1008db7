"""New table lacks audit columns (`created_at`, `updated_at`, `created_by`, `updated_by`).

The table is judged at the end of the migration, so a column added by a later `ALTER TABLE` in the
same file counts.

## Why is this bad?
The guide asks for the four audit columns on every table. Without them nobody can answer "when did
this row appear, when did it last change, and who did it" during an incident, a support case or an
audit, and adding them later cannot recover the history of the rows already there: every existing
row gets the migration's timestamp and an unknown author.

## Example
```sql
CREATE TABLE notes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
```

Use instead:
```sql
CREATE TABLE notes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    updated_by uuid
);
```

## Fix
Adds the missing columns at the end of the CREATE TABLE, as `pgpreflight new` writes them: `*_at`
columns `timestamptz NOT NULL DEFAULT now()`, `*_by` columns of audit-column-type's `user-type`,
`NOT NULL`, referencing its `users-table` (with an index each) when one is set. Safe when only
`*_at` columns are added; unsafe when an author column is, which every INSERT then has to fill.
No fix for a configured column that ends in neither `_at` nor `_by`.

## Options
- `columns`: the audit columns every new table must have.
- `exempt`: table names or shell-style patterns (`*_links`, `audit.*`) that need none, such as
  the migration runner's own `schema_migrations`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator

from pglast import ast
from pglast.stream import maybe_double_quote_name as quote
from pgpreflight.linter import fixes
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Edit, Finding, Fix
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.scaffold import Template
from pgpreflight.linter.tokens import element_end, index_at, semicolon_after, statement_tokens

ID = "missing-audit-columns"
SEVERITY = "error"
OPTIONS: dict[str, object] = {
    "columns": ["created_at", "updated_at", "created_by", "updated_by"],
    "exempt": ["schema_migrations"],
}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)
FIX = "safe for *_at columns; unsafe when author (*_by) columns are added"


def _definition(name: str, template: Template) -> str:
    """The column as `pgpreflight new` writes it (audit-column-type's `user-type` and
    `users-table`)."""
    if name.endswith("_at"):
        return f"{quote(name)} timestamptz NOT NULL DEFAULT now()"
    if name.endswith("_by"):
        ref = f" REFERENCES {template.users_table} (id)" if template.users_table else ""
        return f"{quote(name)} {template.user_type} NOT NULL{ref}"
    return quote(name)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    assert ctx.schema_after is not None
    template = Template.from_config(ctx.config)
    wanted = [str(c) for c in ctx.options["columns"]]
    exempt = [str(p) for p in ctx.options["exempt"]]
    for stmt, node in migration.up.of(ast.CreateStmt):
        if node.relation is None or node.relation.relpersistence == "t":
            continue
        table = ctx.schema_after.table(relation_name(node.relation))
        if table is None or table.location is not stmt or table.partition_of is not None:
            continue
        if any(
            fnmatch.fnmatchcase(name, p)
            for p in exempt
            for name in (table.name, table.qualified_name)
        ):
            continue
        missing = [c for c in wanted if c not in table.columns]
        if not missing:
            continue
        yield ctx.finding(
            stmt,
            f"table {short(table.qualified_name)} lacks audit "
            f"column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}",
            hint="add " + ", ".join(_definition(c, template) for c in missing),
            fix=_fix(ctx, stmt, node, missing, template),
        )


def _fix(
    ctx: Context, stmt: Statement, node: ast.CreateStmt, missing: list[str], template: Template
) -> Fix | None:
    """The missing columns at the end of the CREATE TABLE, typed as `pgpreflight new` writes
    them (audit-column-type's `user-type` and `users-table`), with an index on each author
    column that references the users table. Unsafe when an author column is added: NOT NULL
    without a default, every INSERT must then fill it."""
    if (
        stmt.parent is not None
        or node.relation is None
        or any(not c.endswith(("_at", "_by")) for c in missing)
    ):
        return None
    definitions = [_definition(c, template) for c in missing]
    edits = _append_columns(stmt, node, definitions)
    if edits is None:
        return None
    table = node.relation.relname
    authors = [c for c in missing if c.endswith("_by")]
    if template.users_table and authors:
        semicolon = semicolon_after(stmt.source, stmt.end_offset)
        if semicolon is None:
            return None
        nl = fixes.newline(stmt.source)
        target = ".".join(quote(str(p)) for p in (node.relation.schemaname, table) if p)
        indexes = "".join(
            f"{nl}CREATE INDEX IF NOT EXISTS {quote(f'idx_{table}_{c}')} ON {target} ({quote(c)});"
            for c in authors
        )
        edits.append(fixes.insert(stmt.source, semicolon.end, indexes))
    description = f"add {', '.join(missing)}"
    if authors:
        return fixes.unsafe(
            f"{description}: {', '.join(authors)} NOT NULL without a default, which every "
            "INSERT then has to fill",
            *edits,
        )
    return fixes.safe(description, *edits)


def _append_columns(
    stmt: Statement, node: ast.CreateStmt, definitions: list[str]
) -> list[Edit] | None:
    """Edits that append column definitions to the element list of a CREATE TABLE: each on a
    line of its own, indented as the last element is, when the closing parenthesis starts its
    line; else on the last element's line."""
    tokens = statement_tokens(stmt)
    name = index_at(tokens, stmt.node_offset(node.relation))
    if name is None:
        return None
    opening = next((i for i in range(name, len(tokens)) if tokens[i].name == "ASCII_40"), None)
    if opening is None:
        return None
    last = opening
    i = opening + 1
    while i < len(tokens) and tokens[i].name != "ASCII_41":
        end = element_end(tokens, i)
        last, i = end - 1, end + 1 if end < len(tokens) and tokens[end].name == "ASCII_44" else end
    if i >= len(tokens) or last == opening:
        return None
    source = stmt.source
    closing = tokens[i]
    after_last = tokens[last].end
    start = fixes.line_start(source, closing.start)
    nl = fixes.newline(source)
    if source.text[start : closing.start].strip():
        return [fixes.insert(source, after_last, "".join(f", {d}" for d in definitions))]
    line = fixes.line_start(source, tokens[last].start)
    indent = re.match(r"[ \t]*", source.text[line : tokens[last].start])
    pad = indent.group(0) if indent else ""
    lines = "".join(f"{pad}{d},{nl}" for d in definitions)[: -len(nl) - 1] + nl
    return [fixes.insert(source, after_last, ","), fixes.insert(source, start, lines)]
