"""PL/pgSQL body of a DO block or function that PostgreSQL cannot parse.

## Why is this bad?
The outer statement parses, because the body is only a string to the SQL parser; PostgreSQL
parses the PL/pgSQL when the `DO` block runs or, for `CREATE FUNCTION ... LANGUAGE plpgsql`,
when the function is created (with the default `check_function_bodies = on`). A typo there fails
the deploy half way through the migration. pgpreflight runs the same PL/pgSQL parser up front.

## Example
```sql
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reporting') THEN
    CREATE ROLE reporting;
END
$$;
```

Use instead:
```sql
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reporting') THEN
    CREATE ROLE reporting;
  END IF;
END
$$;
```

## References
- https://www.postgresql.org/docs/current/plpgsql-structure.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.parser import ParseError, parse_plpgsql_json
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "invalid-plpgsql-body"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")


def _language(node: ast.CreateFunctionStmt) -> str:
    for opt in node.options or ():
        if opt.defname == "language":
            return str(getattr(opt.arg, "sval", "")).lower()
    return ""


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.DoStmt, ast.CreateFunctionStmt, nested=False):
            what = "DO block" if isinstance(node, ast.DoStmt) else "function body"
            try:
                if isinstance(node, ast.DoStmt):
                    if stmt.do is not None and isinstance(stmt.do.error, ParseError):
                        raise stmt.do.error
                elif isinstance(node, ast.CreateFunctionStmt):
                    if _language(node) != "plpgsql" or node.sql_body is not None:
                        continue
                    parse_plpgsql_json(stmt.text)
            except ParseError as err:
                yield ctx.finding(
                    stmt,
                    f"PL/pgSQL {what} does not parse: {err.args[0]}",
                    hint="fix the PL/pgSQL; PostgreSQL rejects it when the migration runs",
                )
