"""Constraint dropped: the guarantee it gave (uniqueness, a valid reference, a check) is gone.

## Why is this bad?
Dropping a `UNIQUE`, `PRIMARY KEY`, `FOREIGN KEY` or `CHECK` constraint lets bad rows in from the
moment the migration commits, and putting it back later needs a scan (and a cleanup of the rows
that slipped in meanwhile). Dropping a primary key or unique constraint also drops its index,
which the queries relying on it then miss; foreign keys elsewhere that depend on a dropped unique
key block the drop or, with CASCADE, vanish with it.

A constraint added earlier in the same migration, and a DOWN dropping what its own UP added, are
not reported.

## Example
```sql
ALTER TABLE orders DROP CONSTRAINT orders_total_check;
```

Use instead:
```sql
-- replace it: add the new rule NOT VALID, validate, then drop the old one
ALTER TABLE orders ADD CONSTRAINT orders_total_nonneg CHECK (total >= 0) NOT VALID;
```

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from linter.context import Context
from linter.findings import Finding
from linter.migration import Migration
from linter.names import relation_name, short
from linter.provenance import made_by_migration
from linter.schema import SchemaModel

ID = "drop-constraint"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS = {"squawk": "ban-drop-constraint"}

_KIND = {"p": "primary key", "u": "unique constraint", "f": "foreign key", "c": "check constraint",
         "x": "exclusion constraint"}


def _has(model: SchemaModel, table: str, name: str) -> bool:
    t = model.table(table)
    return t is not None and name in t.constraints


def _describe(ctx: Context, table: str, name: str) -> str:
    t = ctx.schema_before.table(table) if ctx.schema_before is not None else None
    c = t.constraints.get(name) if t is not None else None
    if c is None:
        return f"constraint '{name}' of '{short(table)}' stops PostgreSQL from enforcing it"
    kind = str(c.kind)
    label = {"PRIMARY KEY": "primary key", "UNIQUE": "unique constraint", "FOREIGN KEY": "foreign key",
             "CHECK": "check constraint", "EXCLUDE": "exclusion constraint"}.get(kind.upper(), _KIND.get(kind, "constraint"))
    cols = f" ({', '.join(c.columns)})" if c.columns else ""
    extra = ""
    if label in ("primary key", "unique constraint"):
        extra = "; its index goes with it"
    elif label == "foreign key" and c.ref_table:
        extra = f"; rows may then point at missing {short(c.ref_table)} rows"
    return f"{label} '{name}'{cols} of '{short(table)}' stops PostgreSQL from enforcing it{extra}"


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in (migration.up, migration.down):
        if section is None:
            continue
        for stmt, node in section.of(ast.AlterTableStmt):
            if node.relation is None:
                continue
            table = relation_name(node.relation)
            for cmd in node.cmds or ():
                if not isinstance(cmd, ast.AlterTableCmd) or cmd.subtype != AlterTableType.AT_DropConstraint:
                    continue
                name = str(cmd.name)
                if ctx.table_is_new(table) and stmt.section == "up":
                    continue
                if made_by_migration(ctx, stmt, lambda m: _has(m, table, name), name=name):
                    continue
                yield ctx.finding(
                    stmt,
                    f"dropping {_describe(ctx, table, name)}",
                    node=cmd,
                    hint="if it is being replaced, add the new constraint NOT VALID and VALIDATE it "
                    "before dropping the old one",
                )
