"""VALIDATE CONSTRAINT in the same transaction as the ADD CONSTRAINT ... NOT VALID.

## Why is this bad?
`NOT VALID` exists so that the full-table check runs later under SHARE UPDATE EXCLUSIVE, which
blocks nobody. But locks are held until the transaction ends: validating in the same transaction
scans the table while the ADD CONSTRAINT's lock (ACCESS EXCLUSIVE for a CHECK, SHARE ROW
EXCLUSIVE on both tables for a foreign key) is still held, which is exactly the outage NOT VALID
was meant to avoid. Validate in a later migration, or after a COMMIT in a file the runner does
not wrap.

## Example
```sql
ALTER TABLE orders ADD CONSTRAINT ck_orders_total CHECK (total >= 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_total;
```

Use instead:
```sql
-- file: 202401011200__ck_orders_total.sql
ALTER TABLE orders ADD CONSTRAINT ck_orders_total CHECK (total >= 0) NOT VALID;
-- file: 202401011300__validate_ck_orders_total.sql
ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_total;
```

## Differences from squawk
Reports VALIDATE only when it runs in the same transaction as the NOT VALID constraint it validates
(then the NOT VALID bought nothing); squawk's constraint-missing-not-valid reports it in the same
file.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import relation_name, short

ID = "validate-in-same-transaction"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["constraint-missing-not-valid"],
    "strong_migrations": ["validate_foreign_key"],
}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        added: dict[tuple[str, str], tuple[Statement, ast.Constraint]] = {}
        for stmt, node in section.of(ast.AlterTableStmt):
            table = relation_name(node.relation)
            for cmd in node.cmds or ():
                if not isinstance(cmd, ast.AlterTableCmd):
                    continue
                if (
                    cmd.subtype == AlterTableType.AT_AddConstraint
                    and isinstance(cmd.def_, ast.Constraint)
                    and cmd.def_.skip_validation
                    and cmd.def_.conname
                ):
                    added[(table, str(cmd.def_.conname))] = (stmt, cmd.def_)
                elif cmd.subtype == AlterTableType.AT_ValidateConstraint:
                    earlier = added.get((table, str(cmd.name)))
                    if earlier is None or not ctx.facts.existing(table, stmt):
                        continue
                    if (
                        not ctx.facts.same_transaction(earlier[0], stmt)
                        or not ctx.facts.of(stmt).in_transaction
                    ):
                        continue
                    con = earlier[1]
                    if con.contype == ConstrType.CONSTR_FOREIGN:
                        ref = short(relation_name(con.pktable))
                        held = (
                            f"SHARE ROW EXCLUSIVE on '{short(table)}' and '{ref}' (writes blocked)"
                        )
                    else:
                        held = f"ACCESS EXCLUSIVE on '{short(table)}' (reads and writes blocked)"
                    yield ctx.finding(
                        stmt,
                        f"validating {cmd.name} in the transaction that added it NOT VALID "
                        "scans the table while "
                        f"{held} is still held",
                        node=cmd,
                        severity=ctx.facts.severity(table, ctx.severity),
                        hint=f"move 'ALTER TABLE {short(table)} VALIDATE CONSTRAINT "
                        f"{cmd.name};' to a later "
                        "migration (or after COMMIT in a file the runner does not wrap)",
                    )
