"""Name that needs double quotes forever: mixed case, or a reserved word.

## Why is this bad?
PostgreSQL folds unquoted names to lower case, so a table created as `"UserAccount"` must be
written `"UserAccount"` in every query, by every tool and every person at a psql prompt;
`SELECT * FROM UserAccount` fails with "relation useraccount does not exist". A reserved word
(`"user"`, `"order"`, `"group"`) likewise needs quotes wherever it appears. Lower-case snake_case
names that are not reserved never need quotes. Reported once per name, where the migration
names a table, column, view, type, function or schema (constraint and index names never appear
in queries), at info level: some ORMs generate such names on purpose.

## Example
```sql
CREATE TABLE "Order" ("userId" bigint NOT NULL);
```

Use instead:
```sql
CREATE TABLE orders (user_id bigint NOT NULL);
```

## References
- https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS
- https://www.postgresql.org/docs/current/sql-keywords-appendix.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import ObjectType
from pglast.keywords import RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS
from pglast.parser import ParseError, scan
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "quoted-identifier"
SEVERITY = "info"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
_NOT_QUERIED = (
    ObjectType.OBJECT_INDEX,
    ObjectType.OBJECT_TABCONSTRAINT,
    ObjectType.OBJECT_TRIGGER,
    ObjectType.OBJECT_DOMCONSTRAINT,
    ObjectType.OBJECT_POLICY,
    ObjectType.OBJECT_RULE,
)


def _defined_names(node: Any) -> set[str]:
    """Names this statement gives to things queries refer to: tables, columns, views, types,
    functions, schemas (constraint, index and trigger names never appear in queries)."""
    names: set[str] = set()
    if isinstance(node, (ast.CreateStmt, ast.CreateTableAsStmt)):
        rel = getattr(node, "relation", None) or getattr(getattr(node, "into", None), "rel", None)
        if rel is not None:
            names.add(str(rel.relname))
        for elt in getattr(node, "tableElts", None) or ():
            if isinstance(elt, ast.ColumnDef):
                names.add(str(elt.colname))
    elif isinstance(node, ast.AlterTableStmt):
        for cmd in node.cmds or ():
            if (
                isinstance(cmd, ast.AlterTableCmd)
                and isinstance(cmd.def_, ast.ColumnDef)
                and cmd.def_.colname
            ):
                names.add(str(cmd.def_.colname))
    elif isinstance(node, ast.RenameStmt) and node.renameType not in _NOT_QUERIED:
        names.add(str(node.newname))
    elif isinstance(node, ast.ViewStmt):
        names.add(str(getattr(node.view, "relname", "")))
    elif isinstance(node, (ast.CreateEnumStmt, ast.CreateDomainStmt)):
        parts = node.typeName if isinstance(node, ast.CreateEnumStmt) else node.domainname
        names.update(str(getattr(p, "sval", "")) for p in (parts or ())[-1:])
    elif isinstance(node, ast.CompositeTypeStmt):
        names.add(str(getattr(node.typevar, "relname", "")))
    elif isinstance(node, ast.CreateFunctionStmt):
        names.update(str(getattr(p, "sval", "")) for p in (node.funcname or ())[-1:])
    elif isinstance(node, ast.CreateSchemaStmt) and node.schemaname:
        names.add(str(node.schemaname))
    return names


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    seen: set[str] = set()
    for stmt in migration.up.all_statements():
        if '"' not in stmt.text:
            continue  # nothing quoted: the scan would find no quoted name
        defined = _defined_names(stmt.node)
        if not defined:
            continue
        try:
            tokens = scan(stmt.text)
        except ParseError:
            continue
        for tok in tokens:
            raw = stmt.text[tok.start : tok.end + 1]
            if tok.name != "IDENT" or not raw.startswith('"'):
                continue
            name = raw[1:-1].replace('""', '"')
            if name in seen or name not in defined:
                continue
            if (
                _PLAIN.match(name)
                and name not in RESERVED_KEYWORDS
                and name not in TYPE_FUNC_NAME_KEYWORDS
            ):
                continue  # quoted but would work unquoted
            seen.add(name)
            why = (
                "is a reserved word"
                if name in RESERVED_KEYWORDS or name in TYPE_FUNC_NAME_KEYWORDS
                else (
                    "has upper-case letters"
                    if name != name.lower()
                    else "has characters outside a-z, 0-9 and _"
                )
            )
            yield ctx.finding(
                stmt,
                f"name '{name}' {why}, so every query must quote it as {raw}",
                offset=stmt.offset + tok.start,
                end_offset=stmt.offset + tok.end + 1,
                hint="use a lower-case snake_case name that is not a reserved word",
            )
