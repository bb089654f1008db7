"""SET LOGGED / SET UNLOGGED / SET TABLESPACE / SET ACCESS METHOD on an existing table.

## Why is this bad?
These subcommands copy the whole table (and, for SET LOGGED, write all of it to the WAL) while
holding ACCESS EXCLUSIVE: reads and writes stop until the copy ends, which on a big table is
minutes to hours, plus a second copy's worth of disk. `SET UNLOGGED` also makes the table lose
its rows on a crash and drop out of replicas. Tables created in the same migration are not
reported. Moving a large table between tablespaces or access methods online needs a new table
filled in batches (or logical replication) and a switch-over.

## Example
```sql
ALTER TABLE events SET TABLESPACE archive;
```

Use instead:
```sql
CREATE TABLE events_archive (LIKE events INCLUDING ALL) TABLESPACE archive;
-- copy rows in batches, switch readers and writers, then drop the old table
```

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-TABLESPACE
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import relation_name, short

ID = "table-rewrite-option"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")

_WHAT = {
    AlterTableType.AT_SetLogged: "SET LOGGED",
    AlterTableType.AT_SetUnLogged: "SET UNLOGGED",
    AlterTableType.AT_SetTableSpace: "SET TABLESPACE",
    AlterTableType.AT_SetAccessMethod: "SET ACCESS METHOD",
}


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.AlterTableStmt):
            table = relation_name(node.relation)
            if not ctx.facts.existing(table, stmt) or not ctx.facts.forward(stmt):
                continue
            for cmd in node.cmds or ():
                if not isinstance(cmd, ast.AlterTableCmd) or cmd.subtype not in _WHAT:
                    continue
                extra = (
                    "; an unlogged table is emptied by a crash and not replicated"
                    if cmd.subtype == AlterTableType.AT_SetUnLogged
                    else ""
                )
                yield ctx.finding(
                    stmt,
                    f"running {_WHAT[cmd.subtype]} copies all of '{short(table)}' under ACCESS "
                    "EXCLUSIVE, blocking reads "
                    f"and writes until the copy ends{extra}",
                    node=cmd,
                    severity=ctx.facts.severity(table, ctx.severity),
                    hint="create a new table with the wanted storage, copy rows in batches, "
                    "switch over, "
                    "then drop the old one",
                )
