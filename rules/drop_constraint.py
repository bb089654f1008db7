"""Constraint dropped: the guarantee it gave (uniqueness, a valid reference, a check) is gone.

## Why is this bad?
Dropping a `UNIQUE`, `PRIMARY KEY`, `FOREIGN KEY` or `CHECK` constraint lets bad rows in from the
moment the migration commits, and putting it back later needs a scan (and a cleanup of the rows
that slipped in meanwhile). Dropping a primary key or unique constraint also drops its index,
which the queries relying on it then miss; foreign keys elsewhere that depend on a dropped unique
key block the drop or, with CASCADE, vanish with it.

A constraint added earlier in the same migration, a DOWN dropping what its own UP added, and a
constraint replaced in the same section (a new primary key, a key on the same columns, a new
check, a foreign key on the same columns with other ON DELETE rules) are not reported.

## Example
```sql
ALTER TABLE orders DROP CONSTRAINT orders_total_check;
```

Use instead:
```sql
-- replace it: add the new rule NOT VALID, validate, then drop the old one
ALTER TABLE orders ADD CONSTRAINT orders_total_nonneg CHECK (total >= 0) NOT VALID;
```

## Differences from squawk
A constraint the same migration added, one replaced under the same name, and DOWN reverting its UP
are not reported.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Section, Statement
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.provenance import (
    constraint_exists,
    made_by_migration,
    model_before,
    recreated_later,
    reverts_up,
    surely_absent,
)

ID = "drop-constraint"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["ban-drop-constraint"]}
PRESETS = ("guide", "safety")

_KIND = {
    "p": "primary key",
    "u": "unique constraint",
    "f": "foreign key",
    "c": "check constraint",
    "x": "exclusion constraint",
}


def _describe(ctx: Context, stmt: Statement, table: str, name: str) -> str:
    model = model_before(ctx, stmt) or ctx.schema_before
    t = model.table(table) if model is not None else None
    c = t.constraints.get(name) if t is not None else None
    if c is None:
        return f"constraint '{name}' of '{short(table)}' stops PostgreSQL from enforcing it"
    kind = str(c.kind)
    label = {
        "PRIMARY KEY": "primary key",
        "UNIQUE": "unique constraint",
        "FOREIGN KEY": "foreign key",
        "CHECK": "check constraint",
        "EXCLUDE": "exclusion constraint",
    }.get(kind.upper(), _KIND.get(kind, "constraint"))
    cols = f" ({', '.join(c.columns)})" if c.columns else ""
    extra = ""
    if label in ("primary key", "unique constraint"):
        extra = "; its index goes with it"
    elif label == "foreign key" and c.ref_table:
        extra = f"; rows may then point at missing {short(c.ref_table)} rows"
    return f"{label} '{name}'{cols} of '{short(table)}' stops PostgreSQL from enforcing it{extra}"


def _added(node: Any, table: str) -> Iterator[ast.Constraint]:
    """Constraints a statement adds to `table` (ADD CONSTRAINT, or on an added column)."""
    if (
        not isinstance(node, ast.AlterTableStmt)
        or node.relation is None
        or relation_name(node.relation) != table
    ):
        return
    for cmd in node.cmds or ():
        if not isinstance(cmd, ast.AlterTableCmd):
            continue
        if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            yield cmd.def_
        if cmd.subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            for c in cmd.def_.constraints or ():
                if isinstance(c, ast.Constraint):
                    yield c


def _replaced(ctx: Context, section: Section, stmt: Statement, table: str, name: str) -> bool:
    """The same section adds an equivalent guarantee: a new primary key for a dropped one, a key
    on the same columns for a dropped unique constraint, a check for a check, a foreign key on the
    same columns for a foreign key (ON DELETE changes are written as drop + add)."""
    t = ctx.schema_before.table(table) if ctx.schema_before is not None else None
    old = t.constraints.get(name) if t is not None else None
    kind = old.kind if old is not None else ("primary key" if name.endswith("_pkey") else None)
    if kind is None:
        return False
    cols = tuple(old.columns) if old is not None else ()
    seen = False
    for other in section.all_statements():
        seen = seen or other is stmt
        if not seen:
            continue
        for con in _added(other.node, table):
            keys = tuple(str(getattr(k, "sval", "")) for k in con.keys or ())
            fks = tuple(str(getattr(k, "sval", "")) for k in con.fk_attrs or ())
            if kind == "primary key" and con.contype == ConstrType.CONSTR_PRIMARY:
                return True
            if (
                kind == "unique"
                and con.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE)
                and keys == cols
            ):
                return True
            if kind == "check" and con.contype == ConstrType.CONSTR_CHECK:
                return True
            if kind == "foreign key" and con.contype == ConstrType.CONSTR_FOREIGN and fks == cols:
                return True
    return False


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, table, cmd in section.alter_commands(AlterTableType.AT_DropConstraint):
            name = str(cmd.name)
            if ctx.table_is_new(table, stmt):
                continue
            if cmd.missing_ok and surely_absent(ctx, stmt, table, "constraint", name):
                continue  # IF EXISTS of a constraint that is not there: nothing happens
            if made_by_migration(ctx, stmt, constraint_exists(table, name), name=name):
                continue
            if reverts_up(ctx, stmt, "constraint", name, table) or recreated_later(
                ctx, stmt, "constraint", name, table
            ):
                continue  # the revert, or replaced by a new definition in the same section
            if _replaced(ctx, section, stmt, table, name):
                continue
            yield ctx.finding(
                stmt,
                f"dropping {_describe(ctx, stmt, table, name)}",
                node=cmd,
                hint="if it is being replaced, add the new constraint NOT VALID and VALIDATE "
                "it "
                "before dropping the old one",
            )
