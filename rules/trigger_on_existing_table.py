"""CREATE TRIGGER, or ENABLE/DISABLE TRIGGER, on an existing table.

## Why is this bad?
Creating, enabling or disabling a trigger takes SHARE ROW EXCLUSIVE on the table: writes stop
while it waits for running transactions and until the migration's transaction ends, and every
query arriving meanwhile queues behind it. The change itself is instant, so the risk is the wait:
with a `lock_timeout` set earlier in the file it is not reported. `DISABLE TRIGGER ALL` also
switches off
the foreign-key checks of the table, which lets invalid rows in. A table created in the same
migration is not reported.

## Example
```sql
CREATE TRIGGER trg_orders_updated_at BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
```

Use instead:
```sql
SET lock_timeout = '2s';
CREATE TRIGGER trg_orders_updated_at BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
```

## References
- https://www.postgresql.org/docs/current/sql-createtrigger.html
- https://www.postgresql.org/docs/current/explicit-locking.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType
from pgpreflight.linter.context import Context
from pgpreflight.linter.facts import duration_ms
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.locks import subcommand_name
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import relation_name, short

ID = "trigger-on-existing-table"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")

_TRIGGER_CMDS = {
    AlterTableType.AT_EnableTrig,
    AlterTableType.AT_EnableAlwaysTrig,
    AlterTableType.AT_EnableReplicaTrig,
    AlterTableType.AT_EnableTrigAll,
    AlterTableType.AT_EnableTrigUser,
    AlterTableType.AT_DisableTrig,
    AlterTableType.AT_DisableTrigAll,
    AlterTableType.AT_DisableTrigUser,
}


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for stmt in migration.statements():
        node = stmt.node
        if not ctx.facts.forward(stmt):
            continue
        at: ast.Node
        if isinstance(node, ast.CreateTrigStmt):
            table = relation_name(node.relation)
            what, at = f"CREATE TRIGGER {node.trigname}", node
        elif isinstance(node, ast.AlterTableStmt):
            table = relation_name(node.relation)
            cmds = [
                c
                for c in node.cmds or ()
                if isinstance(c, ast.AlterTableCmd) and c.subtype in _TRIGGER_CMDS
            ]
            if not cmds:
                continue
            at = cmds[0]
            what = subcommand_name(cmds[0]) + (f" {cmds[0].name}" if cmds[0].name else "")
            if cmds[0].subtype == AlterTableType.AT_DisableTrigAll:
                what = "DISABLE TRIGGER ALL (foreign-key checks included)"
        else:
            continue
        if not ctx.facts.existing(table, stmt):
            continue
        timeout = duration_ms(ctx.facts.of(stmt).lock_timeout)
        if timeout is not None and timeout > 0 and "ALL" not in what:
            continue
        yield ctx.finding(
            stmt,
            f"running {what} takes SHARE ROW EXCLUSIVE on existing table '{short(table)}', "
            "blocking writes while it waits and until the transaction ends",
            node=at,
            severity=ctx.facts.severity(table, ctx.severity),
            hint="SET lock_timeout = '2s' before it, keep the transaction short, and retry on "
            "timeout",
        )
