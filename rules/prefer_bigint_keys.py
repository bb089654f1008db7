"""Primary or foreign key of type integer or smallint: the ids run out.

## Why is this bad?
An `integer` key tops out at 2,147,483,647 (`smallint` at 32,767). Busy tables reach that in a
few years, and then every INSERT fails until the column is changed to `bigint`, a rewrite of the
table and of every referencing table under an ACCESS EXCLUSIVE lock, during the outage. A
foreign key of type `integer` that references a `bigint` key fails as soon as the referenced ids
pass 2^31. `bigint` costs four bytes more per row; choose it when the table is created.

`serial` columns are reported by `serial-column`; this rule covers plain `integer`/`smallint`
keys and the foreign keys pointing at `bigint` ones. A key column that is also a foreign key
(a join table's `(post_id, person_id)`) follows the type of what it references and is judged
there. In a primary key of several columns, an `integer` member that generates no values (a
position, a count, a type code: no identity, no `nextval` default) does not run out with the
row count and is not reported.

## Example
```sql
CREATE TABLE invoices (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total numeric NOT NULL);
```

Use instead:
```sql
CREATE TABLE invoices (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total numeric NOT NULL);
```

## Fix
Declares the column `bigint`. Safe on a table this migration creates, when no other table's
`integer` column references the key; unsafe on a table created before (code and the columns that
hold its values keep their type), and for a key other tables reference as `integer` (this rule
then reports those foreign keys).

## Options
- `all-integer-columns` (default false): report every `integer` and `smallint` column, keys or
  not, as squawk's prefer-bigint-over-int and prefer-bigint-over-smallint do.

## Differences from squawk
squawk reports every `integer`/`smallint` column; by default this rule reports keys only (the
columns whose values grow with the table's row count, where running out is an outage), and the
foreign keys whose type does not match the `bigint` they reference, which squawk cannot see.
Turn on `all-integer-columns` for squawk's behaviour.

## References
- https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-INT
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pgpreflight.linter import fixes
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding, Fix
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import qualified, relation_name, short

ID = "prefer-bigint-keys"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {"all-integer-columns": False}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["prefer-bigint-over-int", "prefer-bigint-over-smallint"],
}
PRESETS = ("guide",)
FIX = "safe; unsafe on existing tables and for keys referenced as integer"

_SMALL = {
    "int4": "integer",
    "int2": "smallint",
    "integer": "integer",
    "int": "integer",
    "smallint": "smallint",
}
_BIG = {"bigint", "bigserial"}


def _small_type(type_name: Any) -> str | None:
    if type_name is None or type_name.arrayBounds:
        return None
    names = [getattr(n, "sval", "") for n in type_name.names or ()]
    return _SMALL.get(names[-1]) if names else None


def _generates(cons: list[ast.Constraint]) -> bool:
    """An identity column, or one whose default draws from a sequence."""
    for c in cons:
        if c.contype == ConstrType.CONSTR_IDENTITY:
            return True
        expr = c.raw_expr if c.contype == ConstrType.CONSTR_DEFAULT else None
        if (
            isinstance(expr, ast.FuncCall)
            and expr.funcname
            and getattr(expr.funcname[-1], "sval", "") == "nextval"
        ):
            return True
    return False


def _ref_type(ctx: Context, stmt: Statement, con: ast.Constraint, index: int) -> str | None:
    """Type of the referenced column, from the model after this migration."""
    if con.pktable is None or ctx.schema_after is None:
        return None
    table = ctx.schema_after.table(relation_name(con.pktable))
    if table is None:
        return None
    if con.pk_attrs:
        cols = [str(getattr(c, "sval", "")) for c in con.pk_attrs]
    else:
        pk = next((c for c in table.constraints.values() if c.kind == "primary key"), None)
        cols = list(pk.columns) if pk else []
    if index >= len(cols) or cols[index] not in table.columns:
        return None
    return table.columns[cols[index]].type


def _columns(stmt: Statement, node: Any) -> Iterator[tuple[str, ast.ColumnDef]]:
    if isinstance(node, ast.CreateStmt):
        table = relation_name(node.relation)
        for elt in node.tableElts or ():
            if isinstance(elt, ast.ColumnDef):
                yield table, elt
    elif isinstance(node, ast.AlterTableStmt) and node.relation is not None:
        table = relation_name(node.relation)
        for cmd in node.cmds or ():
            if (
                isinstance(cmd, ast.AlterTableCmd)
                and cmd.subtype == AlterTableType.AT_AddColumn
                and isinstance(cmd.def_, ast.ColumnDef)
            ):
                yield table, cmd.def_


def _table_constraints(node: Any) -> list[ast.Constraint]:
    if isinstance(node, ast.CreateStmt):
        return [e for e in node.tableElts or () if isinstance(e, ast.Constraint)]
    return []


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    every_column = bool(ctx.options["all-integer-columns"])
    for stmt, node in migration.up.of(ast.CreateStmt, ast.AlterTableStmt):
        table_cons = _table_constraints(node)
        pk_cols = {
            str(getattr(k, "sval", ""))
            for c in table_cons
            if c.contype == ConstrType.CONSTR_PRIMARY
            for k in c.keys or ()
        }
        fk_cols: dict[str, tuple[ast.Constraint, int]] = {}
        for c in table_cons:
            if c.contype == ConstrType.CONSTR_FOREIGN:
                for i, attr in enumerate(c.fk_attrs or ()):
                    fk_cols[str(getattr(attr, "sval", ""))] = (c, i)
        for table, col in _columns(stmt, node):
            small = _small_type(col.typeName)
            if small is None:
                continue
            name = str(col.colname)
            cons = [c for c in col.constraints or () if isinstance(c, ast.Constraint)]
            is_fk = name in fk_cols or any(c.contype == ConstrType.CONSTR_FOREIGN for c in cons)
            in_key = name in pk_cols and (len(pk_cols) == 1 or _generates(cons))
            if (in_key or any(c.contype == ConstrType.CONSTR_PRIMARY for c in cons)) and not is_fk:
                yield ctx.finding(
                    stmt,
                    f"primary key {short(table)}.{name} is {small}: inserts fail once its ids run "
                    "out "
                    f"({'2,147,483,647' if small == 'integer' else '32,767'})",
                    node=col,
                    hint=f"declare {name} bigint (e.g. bigint GENERATED ALWAYS AS IDENTITY)",
                    fix=_fix(ctx, stmt, table, col, name, key=True),
                )
                continue
            refs = [(c, 0) for c in cons if c.contype == ConstrType.CONSTR_FOREIGN]
            if name in fk_cols:
                refs.append(fk_cols[name])
            if every_column and not refs:
                yield ctx.finding(
                    stmt,
                    f"column {short(table)}.{name} is {small}: values past "
                    f"{'2,147,483,647' if small == 'integer' else '32,767'} fail",
                    node=col,
                    hint=f"declare {name} bigint unless its range is bounded by design",
                    fix=_fix(ctx, stmt, table, col, name, key=False),
                )
                continue
            for con, index in refs:
                target = _ref_type(ctx, stmt, con, index)
                pktable = con.pktable
                if target is not None and pktable is not None and target.split("(")[0] in _BIG:
                    ref = short(qualified(pktable.schemaname, str(pktable.relname)))
                    yield ctx.finding(
                        stmt,
                        f"foreign key {short(table)}.{name} is {small} but references bigint ids "
                        "of "
                        f"'{ref}': inserts fail once those pass "
                        f"{'2^31' if small == 'integer' else '2^15'}",
                        node=col,
                        hint=f"declare {name} bigint, the type of the key it references",
                        fix=_fix(ctx, stmt, table, col, name, key=False),
                    )
                    break


def _fix(
    ctx: Context, stmt: Statement, table: str, col: ast.ColumnDef, name: str, *, key: bool
) -> Fix | None:
    """`integer`/`smallint` -> `bigint`. Safe on a table this migration creates; unsafe on an
    existing one, and for a key that other tables' integer columns reference: those keep their
    type, and this rule then reports them."""
    found = fixes.type_base(stmt, col.typeName)
    if found is None:
        return None
    tokens, i = found
    if len(tokens) != i + 1:
        return None
    edit = fixes.edit(stmt.source, tokens[0].start, tokens[i].end, "bigint")
    if not ctx.facts.created_here(table, stmt):
        return fixes.unsafe(
            f"declare {name} bigint: on a table created before, code and other columns that "
            "hold its values keep their type",
            edit,
        )
    referencing = _referencing(ctx, table, name) if key else []
    if referencing:
        return fixes.unsafe(
            f"declare {name} bigint: {', '.join(referencing)} still hold it as integer",
            edit,
        )
    return fixes.safe(f"declare {name} bigint", edit)


def _referencing(ctx: Context, table: str, column: str) -> list[str]:
    """Columns of other tables (anywhere in the history) whose foreign keys reference
    `table.column` with a type smaller than bigint."""
    if ctx.schema_final is None:
        return []
    found = []
    for other in ctx.schema_final.tables.values():
        for con in other.constraints.values():
            if con.kind != "foreign key" or con.ref_table != table:
                continue
            for own, ref in zip(con.columns, con.ref_columns or (column,), strict=False):
                typ = other.columns[own].type if own in other.columns else ""
                if ref == column and typ in ("integer", "smallint"):
                    found.append(f"{short(other.qualified_name)}.{own}")
    return sorted(set(found))
