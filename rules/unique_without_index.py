"""UNIQUE or PRIMARY KEY added to an existing table without USING INDEX.

## Why is this bad?
`ADD CONSTRAINT ... UNIQUE (...)` or `PRIMARY KEY (...)` builds its index while holding ACCESS
EXCLUSIVE on the table: reads and writes stop for the whole build. Build the unique index first
with `CREATE UNIQUE INDEX CONCURRENTLY` (no blocking), then attach it with `ADD CONSTRAINT ...
UNIQUE USING INDEX` or `PRIMARY KEY USING INDEX`, a brief catalog change. For a primary key the
columns must already be NOT NULL (see `set-not-null-without-check`).

## Example
```sql
ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE (email);
```

Use instead:
```sql
-- file: 202401011200__uq_users_email_index.sql
-- +goose NO TRANSACTION
-- +goose Up
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS uq_users_email ON users (email);
-- file: 202401011300__uq_users_email.sql
-- +goose Up
ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE USING INDEX uq_users_email;
```

## Differences from squawk
Tables created earlier in the same section are exempt; ADD ... USING INDEX of an index built
concurrently is the fix.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.notransaction import outside_transaction_hint

ID = "unique-without-index"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["disallowed-unique-constraint", "adding-serial-primary-key-field"],
    "eugene": ["E7"],
}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.AlterTableStmt):
            table = relation_name(node.relation)
            if not ctx.facts.existing(table, stmt) or not ctx.facts.forward(stmt):
                continue
            t = short(table)
            for cmd in node.cmds or ():
                if not isinstance(cmd, ast.AlterTableCmd):
                    continue
                if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(
                    cmd.def_, ast.Constraint
                ):
                    cons = [cmd.def_]
                    cols = ", ".join(str(getattr(k, "sval", k)) for k in cmd.def_.keys or ())
                elif cmd.subtype == AlterTableType.AT_AddColumn and isinstance(
                    cmd.def_, ast.ColumnDef
                ):
                    cons, cols = list(cmd.def_.constraints or ()), str(cmd.def_.colname)
                else:
                    continue
                for con in cons:
                    if (
                        con.contype not in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY)
                        or con.indexname
                    ):
                        continue
                    kind = "PRIMARY KEY" if con.contype == ConstrType.CONSTR_PRIMARY else "UNIQUE"
                    name = con.conname or f"{table.split('.')[-1]}_{cols.replace(', ', '_')}_key"
                    yield ctx.finding(
                        stmt,
                        f"adding {kind} {name} to '{t}' builds its index under ACCESS "
                        "EXCLUSIVE, blocking reads and "
                        "writes until the build ends",
                        node=con,
                        severity=ctx.facts.severity(table, ctx.severity),
                        hint=outside_transaction_hint(
                            migration,
                            ctx.facts,
                            f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {t} ({cols}); then "
                            f"ALTER TABLE {t} ADD CONSTRAINT {name} {kind} USING INDEX {name};",
                        ),
                    )
