"""CHECK or FOREIGN KEY added to an existing table without NOT VALID.

## Why is this bad?
Adding a CHECK constraint validates every existing row while holding ACCESS EXCLUSIVE: reads and
writes stop for the whole scan. Adding a FOREIGN KEY validates every row while holding SHARE ROW
EXCLUSIVE on both the table and the referenced table: writes to both stop. Adding the constraint
`NOT VALID` is a brief catalog change (new rows are checked from then on), and a later
`VALIDATE CONSTRAINT` scans under SHARE UPDATE EXCLUSIVE, which blocks neither reads nor writes
(for a foreign key, ROW SHARE on the referenced table). Columns added with an inline
`REFERENCES` or `CHECK` are validated the same way.

## Example
```sql
-- file: 202401010000__create_orders.sql
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL);
-- file: 202401011200__fk_orders_customer.sql
ALTER TABLE orders ADD CONSTRAINT fk_orders_customer
    FOREIGN KEY (customer_id) REFERENCES customers (id);
```

Use instead:
```sql
-- file: 202401011200__fk_orders_customer.sql
ALTER TABLE orders ADD CONSTRAINT fk_orders_customer
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
-- file: 202401011300__validate_fk_orders_customer.sql
ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_customer;
```

## Fix
Adds `NOT VALID` to the ADD CONSTRAINT and moves its `VALIDATE CONSTRAINT` to a new migration. The
new migration follows the project's convention, takes the first free version after this one, and
its DOWN puts the constraint back NOT VALID, as this migration leaves it. Unsafe: the validation
moves to another deploy, and rows are checked only when it runs. No fix for an unnamed constraint
or one declared on a new column (`ADD COLUMN ... REFERENCES`), nor in DOWN.

## Differences from squawk
Tables created earlier in the same section are not reported: they are empty, so the scan costs
nothing (squawk 2.70 reports them too). A DOWN statement restoring what its UP dropped is left to
the DOWN rules.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pglast.stream import maybe_double_quote_name as quote
from pgpreflight.linter import fixes, guards
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding, Fix
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.tokens import alter_table_commands, keywords_at, statement_tokens

ID = "constraint-without-not-valid"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["constraint-missing-not-valid", "adding-foreign-key-constraint"],
    "eugene": ["E1"],
    "strong_migrations": ["add_foreign_key"],
}
PRESETS = ("guide", "safety")
FIX = "unsafe"


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.AlterTableStmt):
            table = relation_name(node.relation)
            if not ctx.facts.existing(table, stmt) or not ctx.facts.forward(stmt):
                continue
            for i, cmd in enumerate(node.cmds or ()):
                if not isinstance(cmd, ast.AlterTableCmd):
                    continue
                if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(
                    cmd.def_, ast.Constraint
                ):
                    cons, column = [cmd.def_], None
                elif cmd.subtype == AlterTableType.AT_AddColumn and isinstance(
                    cmd.def_, ast.ColumnDef
                ):
                    cons, column = list(cmd.def_.constraints or ()), str(cmd.def_.colname)
                else:
                    continue
                for con in cons:
                    if (
                        con.contype not in (ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN)
                        or con.skip_validation
                    ):
                        continue
                    fix = _fix(migration, ctx, stmt, i) if column is None else None
                    yield _finding(ctx, stmt, table, con, column, fix)


def _fix(migration: Migration, ctx: Context, stmt: Statement, index: int) -> Fix | None:
    """NOT VALID on the ADD CONSTRAINT, and its VALIDATE in a new migration right after this
    one, whose DOWN puts the constraint back NOT VALID (the state this migration leaves)."""
    from pgpreflight.linter.scaffold import follow_up, slugify

    node = stmt.node
    if stmt.section != "up" or stmt.parent is not None or not isinstance(node, ast.AlterTableStmt):
        return None
    cmds = list(node.cmds or ())
    con = cmds[index].def_
    if node.relation is None or not isinstance(con, ast.Constraint) or not con.conname:
        return None
    tokens = statement_tokens(stmt)
    spans = alter_table_commands(tokens, stmt.node_offset(node.relation), len(cmds))
    table = guards.relation_text(stmt, node.relation)
    if spans is None or table is None:
        return None
    first, after = spans[index]
    if not keywords_at(tokens, first, "ADD_P"):
        return None
    definition = stmt.source.text[tokens[first + 1].start : tokens[after - 1].end]
    name = quote(str(con.conname))
    lock = f"SET lock_timeout = '{fixes.LOCK_TIMEOUT}';\n"
    up = (
        f"-- validate {con.conname}, added NOT VALID by {migration.id}\n{lock}"
        f"ALTER TABLE {table} VALIDATE CONSTRAINT {name};\n"
    )
    down = (
        f"{lock}ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}, ADD {definition} NOT VALID;\n"
    )
    taken = {m.version for m in ctx.history}
    files = follow_up(migration, taken, slugify(f"validate {con.conname}"), up, down)
    if files is None:
        return None
    edits = [fixes.insert(stmt.source, tokens[after - 1].end, " NOT VALID")]
    edits += [fixes.new_file(path, text) for path, text in files.items()]
    names = ", ".join(path.name for path in files)
    return fixes.unsafe(
        f"add NOT VALID, and VALIDATE CONSTRAINT {con.conname} in a new migration ({names}): "
        "rows written before it are checked only when that migration runs",
        *edits,
    )


def _finding(
    ctx: Context,
    stmt: Statement,
    table: str,
    con: ast.Constraint,
    column: str | None,
    fix: Fix | None = None,
) -> Finding:
    t = short(table)
    # PostgreSQL's own name for an unnamed column constraint: `<table>_<column>_fkey` / `_check`
    suffix = "fkey" if con.contype == ConstrType.CONSTR_FOREIGN else "check"
    name = con.conname or (f"{table.split('.')[-1]}_{column}_{suffix}" if column else "<name>")
    inline = f" on new column '{column}'" if column else ""
    if con.contype == ConstrType.CONSTR_FOREIGN:
        ref = short(relation_name(con.pktable))
        both = [t] if ref == t else [t, ref]
        message = (
            f"foreign key {name}{inline} on '{t}' validates every row while holding SHARE ROW "
            "EXCLUSIVE "
            f"on {' and '.join(repr(x) for x in both)}, blocking writes to "
            f"{'both' if len(both) == 2 else 'it'}"
        )
        cols = column or ", ".join(str(getattr(a, "sval", a)) for a in con.fk_attrs or ())
        add = f"FOREIGN KEY ({cols}) REFERENCES {ref} (...) NOT VALID"
        severity = ctx.facts.severity(
            relation_name(con.pktable), ctx.facts.severity(table, ctx.severity)
        )
    else:
        message = (
            f"check constraint {name}{inline} on '{t}' validates every row under ACCESS EXCLUSIVE, "
            "blocking reads and writes"
        )
        add = "CHECK (...) NOT VALID"
        severity = ctx.facts.severity(table, ctx.severity)
    prefix = f"ALTER TABLE {t} ADD COLUMN {column} <type>; " if column else ""
    return ctx.finding(
        stmt,
        message,
        node=con,
        severity=severity,
        hint=f"{prefix}ALTER TABLE {t} ADD CONSTRAINT {name} {add}; then in a later migration "
        "(or after "
        f"COMMIT) ALTER TABLE {t} VALIDATE CONSTRAINT {name};",
        fix=fix,
    )
