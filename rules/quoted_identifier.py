"""Name that needs double quotes forever: mixed case, or a reserved word.

## Why is this bad?
PostgreSQL folds unquoted names to lower case, so a table created as `"UserAccount"` must be
written `"UserAccount"` in every query, by every tool and every person at a psql prompt;
`SELECT * FROM UserAccount` fails with "relation useraccount does not exist". A reserved word
(`"user"`, `"order"`, `"group"`) likewise needs quotes wherever it appears. Lower-case snake_case
names that are not reserved never need quotes. Reported once per name, where a statement of the
migration first writes it (info: some ORMs generate such names on purpose).

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

from pglast import ast
from pglast.keywords import RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS
from pglast.parser import ParseError, scan

from linter.context import Context
from linter.findings import Finding
from linter.migration import Migration

ID = "quoted-identifier"
SEVERITY = "info"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, str] = {}

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
# statements that name new objects; references elsewhere only repeat a name chosen earlier
_DEFINING = (
    ast.CreateStmt, ast.AlterTableStmt, ast.RenameStmt, ast.IndexStmt, ast.ViewStmt,
    ast.CreateEnumStmt, ast.CompositeTypeStmt, ast.CreateDomainStmt, ast.CreateSeqStmt,
    ast.CreateFunctionStmt, ast.CreateSchemaStmt, ast.CreateTableAsStmt, ast.CreateTrigStmt,
)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    seen: set[str] = set()
    for stmt in migration.up.all_statements():
        if not isinstance(stmt.node, _DEFINING):
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
            if name in seen:
                continue
            if _PLAIN.match(name) and name not in RESERVED_KEYWORDS and name not in TYPE_FUNC_NAME_KEYWORDS:
                continue  # quoted but would work unquoted
            seen.add(name)
            why = "is a reserved word" if name in RESERVED_KEYWORDS or name in TYPE_FUNC_NAME_KEYWORDS else (
                "has upper-case letters" if name != name.lower() else "has characters outside a-z, 0-9 and _"
            )
            yield ctx.finding(
                stmt,
                f"name '{name}' {why}, so every query must quote it as {raw}",
                offset=stmt.offset + tok.start,
                end_offset=stmt.offset + tok.end + 1,
                hint="use a lower-case snake_case name that is not a reserved word",
            )
