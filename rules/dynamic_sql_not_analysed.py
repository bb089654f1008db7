"""EXECUTE of SQL built at run time inside a DO block: pgpreflight cannot check it.

## Why is this bad?
pgpreflight checks the statements inside `DO` blocks like any other (a `CREATE INDEX` there
still locks the table), and an `EXECUTE 'constant SQL'` too. SQL assembled at run time
(`EXECUTE format('ALTER TABLE %I ...', t)`, string concatenation) is only known when it runs, so
none of the lock, rewrite or destructive-change rules saw it. The finding says so instead of
staying silent; review that SQL by hand, or run `pgpreflight check` against a database, which
records what it really did.

## Example
```sql
DO $$
BEGIN
  EXECUTE format('ALTER TABLE %I ADD COLUMN note text', 'orders');
END
$$;
```

Use instead:
```sql
ALTER TABLE orders ADD COLUMN note text;
```

## References
- https://www.postgresql.org/docs/current/plpgsql-statements.html#PLPGSQL-STATEMENTS-EXECUTING-DYN
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "dynamic-sql-not-analysed"
SEVERITY = "info"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, _ in section.of(ast.DoStmt, nested=False):
            for dyn in stmt.do.dynamic if stmt.do is not None else ():
                shown = dyn.expression if len(dyn.expression) <= 60 else dyn.expression[:57] + "..."
                yield ctx.finding(
                    stmt,
                    f"dynamic SQL in DO block is not analysed: EXECUTE {shown}",
                    offset=dyn.offset,
                    end_offset=dyn.offset + len(dyn.expression),
                    hint="review the generated SQL by hand, or write it as plain statements "
                    "pgpreflight can check",
                )
