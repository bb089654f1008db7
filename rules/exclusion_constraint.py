"""EXCLUDE constraint added to an existing table.

## Why is this bad?
`ADD CONSTRAINT ... EXCLUDE` builds its index and checks every pair of conflicting rows while
holding ACCESS EXCLUSIVE: reads and writes stop for the whole build. Unlike UNIQUE, there is no
`USING INDEX` form and no concurrent build for an exclusion constraint. Declare it when the
table is created, or build a new table with it and switch over.

## Example
```sql
ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap
    EXCLUDE USING gist (room_id WITH =, during WITH &&);
```

Use instead:
```sql
CREATE TABLE bookings (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id bigint NOT NULL,
    during tstzrange NOT NULL,
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&)
);
```

## References
- https://www.postgresql.org/docs/current/sql-altertable.html
- https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-EXCLUSION
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import relation_name, short

ID = "exclusion-constraint"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "eugene": ["E8"],
    "strong_migrations": ["add_exclusion_constraint"],
}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.AlterTableStmt):
            table = relation_name(node.relation)
            if not ctx.facts.existing(table, stmt) or not ctx.facts.forward(stmt):
                continue
            for cmd in node.cmds or ():
                if (
                    isinstance(cmd, ast.AlterTableCmd)
                    and cmd.subtype == AlterTableType.AT_AddConstraint
                    and isinstance(cmd.def_, ast.Constraint)
                    and cmd.def_.contype == ConstrType.CONSTR_EXCLUSION
                ):
                    yield ctx.finding(
                        stmt,
                        f"adding EXCLUDE constraint {cmd.def_.conname or ''} to "
                        f"'{short(table)}' builds its index under "
                        "ACCESS EXCLUSIVE, blocking reads and writes; it has no concurrent form",
                        node=cmd.def_,
                        severity=ctx.facts.severity(table, ctx.severity),
                        hint="declare it in CREATE TABLE, or create a new table with the "
                        "constraint, copy the "
                        "rows in batches and switch over",
                    )
