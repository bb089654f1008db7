"""CREATE DOMAIN with constraints, or ALTER DOMAIN adding one that is validated at once.

## Why is this bad?
`ALTER DOMAIN ... ADD CONSTRAINT` (without `NOT VALID`) and `ALTER DOMAIN ... SET NOT NULL` check
every column of every table that uses the domain, holding SHARE on each of those tables: writes
to all of them stop until the scans end (`VALIDATE CONSTRAINT` takes the same SHARE lock up to
PostgreSQL 18). Constraints written into `CREATE DOMAIN` are cheap at first but make the domain
hard to change later, for that reason: prefer CHECK constraints on the columns, which can be
added `NOT VALID` and validated without blocking (reported as info).

## Example
```sql
ALTER DOMAIN positive_amount ADD CONSTRAINT positive_amount_check CHECK (VALUE > 0);
```

Use instead:
```sql
ALTER TABLE orders ADD CONSTRAINT ck_orders_amount_positive CHECK (amount > 0) NOT VALID;
```

## Differences from squawk
Merges squawk's two domain rules; ALTER DOMAIN ... ADD CONSTRAINT ... NOT VALID is not reported,
and constraints written into CREATE DOMAIN are info (cheap now, hard to change later) rather than
banned.

## References
- https://www.postgresql.org/docs/current/sql-alterdomain.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import ConstrType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.locks import domain_tables
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import list_name, short

ID = "domain-constraint"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["ban-alter-domain-with-add-constraint", "ban-create-domain-with-constraint"],
}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for stmt in migration.statements():
        node = stmt.node
        if isinstance(node, ast.CreateDomainStmt):
            checks = [
                c
                for c in node.constraints or ()
                if c.contype in (ConstrType.CONSTR_CHECK, ConstrType.CONSTR_NOTNULL)
            ]
            if checks:
                yield ctx.finding(
                    stmt,
                    f"domain {short(list_name(node.domainname))} carries constraints: changing "
                    "them later "
                    "scans every table using it under SHARE, blocking writes",
                    node=checks[0],
                    severity="info",
                    hint="declare the domain without constraints and put CHECK constraints on "
                    "the columns",
                )
        elif isinstance(node, ast.AlterDomainStmt) and ctx.facts.forward(stmt):
            domain = list_name(node.typeName)
            if (
                node.subtype == "C"
                and isinstance(node.def_, ast.Constraint)
                and not node.def_.skip_validation
            ):
                what = "ADD CONSTRAINT"
                hint = "add it NOT VALID, then VALIDATE CONSTRAINT later, in a quiet window"
            elif node.subtype == "O":
                what = "SET NOT NULL"
                hint = "put CHECK (col IS NOT NULL) NOT VALID on the columns, validate later"
            elif node.subtype == "V" and ctx.pg_version < (19,):
                what = "VALIDATE CONSTRAINT"
                hint = (
                    "run it in a quiet window with a short lock_timeout "
                    "(PostgreSQL 19 validates without blocking writes)"
                )
            else:
                continue
            schema = ctx.schema_before if stmt.section == "up" else ctx.schema_after
            tables = [t for t in domain_tables(schema, domain) if ctx.facts.existing(t, stmt)]
            if schema is not None and schema.type(domain) is not None and not tables:
                continue  # the model knows the domain and no existing table uses it
            on = (
                (" on " + ", ".join(f"'{short(t)}'" for t in tables))
                if tables
                else " on every table using it"
            )
            yield ctx.finding(
                stmt,
                f"altering domain {short(domain)} with {what} checks every column of the domain "
                f"under SHARE{on}, "
                "blocking writes until the scans end",
                node=node,
                hint=hint,
            )
