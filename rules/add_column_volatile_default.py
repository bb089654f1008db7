"""ADD COLUMN with a volatile DEFAULT (or any DEFAULT before PostgreSQL 11) rewrites the table.

## Why is this bad?
From PostgreSQL 11, `ADD COLUMN ... DEFAULT <constant or stable expression>` is a catalog change:
the value is computed once and served for existing rows. A volatile default (`gen_random_uuid()`,
`random()`, `clock_timestamp()`, `nextval()`, or any function not known to be stable) must be
computed per row, so PostgreSQL rewrites the whole table under ACCESS EXCLUSIVE, blocking reads
and writes. Before PostgreSQL 11 every non-NULL default rewrites the table. `now()` and
`CURRENT_TIMESTAMP` are stable: fine.

## Example
```sql
ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
```

Use instead:
```sql
ALTER TABLE orders ADD COLUMN public_id uuid;
ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
-- then backfill existing rows in batches, in later migrations
```

```sql
ALTER TABLE orders ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
```

## Differences from squawk
Volatility is looked up per function (now() and other STABLE functions do not rewrite from
PostgreSQL 11; clock_timestamp(), random(), gen_random_uuid() do), and the `pg-version` decides
whether a constant default rewrites; tables created earlier in the same section are empty and not
reported. GENERATED columns are add-column-rewrite.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
- https://www.postgresql.org/docs/current/xfunc-volatility.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short
from pgpreflight.linter.volatility import VOLATILE, volatile_functions, volatility

ID = "add-column-volatile-default"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["adding-field-with-default"],
    "strong_migrations": ["add_column_default"],
}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, table, cmd in section.alter_commands(AlterTableType.AT_AddColumn):
            if not ctx.facts.existing(table, stmt) or not ctx.facts.forward(stmt):
                continue
            coldef = cmd.def_
            if not isinstance(coldef, ast.ColumnDef):
                continue
            for con in coldef.constraints or ():
                if con.contype != ConstrType.CONSTR_DEFAULT or con.raw_expr is None:
                    continue
                expr = con.raw_expr
                where = f"'{short(table)}.{coldef.colname}'"
                if volatility(expr) == VOLATILE:
                    funcs = (
                        ", ".join(f"{f}()" for f in volatile_functions(expr)) or "the expression"
                    )
                    why = f"its DEFAULT calls {funcs}, which is volatile (computed per row)"
                elif ctx.pg_version < (11,) and not (isinstance(expr, ast.A_Const) and expr.isnull):
                    why = (
                        f"before PostgreSQL 11 (target {ctx.pg_version}) any DEFAULT is "
                        "written into every row"
                    )
                else:
                    continue
                yield ctx.finding(
                    stmt,
                    f"adding {where} rewrites '{short(table)}' under ACCESS EXCLUSIVE, "
                    "blocking reads "
                    f"and writes: {why}",
                    node=con,
                    severity=ctx.facts.severity(table, ctx.severity),
                    hint=f"ALTER TABLE {short(table)} ADD COLUMN {coldef.colname} <type>; "
                    "then ALTER TABLE "
                    f"{short(table)} ALTER COLUMN {coldef.colname} SET DEFAULT <expr>; then "
                    "backfill "
                    "existing rows in batches in a later migration",
                )
