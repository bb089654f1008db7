"""Lock timeout set too long (or to 0, which disables it).

## Why is this bad?
While a DDL statement waits for its lock, every query on the table queues behind it. The
`lock_timeout` bounds that wait, so it is the longest outage the migration can cause before it
gives up: at 30 seconds, a busy table can pile up thousands of waiting connections and exhaust
the pool. `lock_timeout = 0` turns the limit off. A couple of seconds with retries is the usual
choice; the limit is the `max` option (default 10s).

## Example
```sql
SET lock_timeout = '1min';
ALTER TABLE orders ADD COLUMN note text;
```

Use instead:
```sql
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN note text;
```

## Options
- `max` (default "10s"): the longest acceptable lock_timeout.

## References
- https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import VariableSetKind
from pgpreflight.linter.context import Context
from pgpreflight.linter.errors import ConfigError
from pgpreflight.linter.facts import duration_ms, set_value
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "lock-timeout-too-long"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {"max": "10s"}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    limit = duration_ms(str(ctx.options["max"]))
    if limit is None:
        raise ConfigError(
            f"rules.{ID}.max: expected a duration such as '10s' or '2000ms', got "
            f"{ctx.options['max']!r}"
        )
    for stmt in migration.statements():
        node = stmt.node
        if not isinstance(node, ast.VariableSetStmt) or node.name != "lock_timeout":
            continue
        if node.kind != VariableSetKind.VAR_SET_VALUE:
            continue
        value = set_value(node)
        ms = duration_ms(value)
        if ms is None:
            continue
        if ms == 0:
            message = (
                "lock_timeout = 0 disables the limit: a blocked DDL statement waits forever, "
                "and queries queue behind it"
            )
        elif ms > limit:
            message = (
                f"lock_timeout = {value} lets a waiting DDL statement queue queries behind it "
                f"for up to {value}"
            )
        else:
            continue
        yield ctx.finding(
            stmt,
            message,
            node=node,
            hint=f"SET lock_timeout = '2s'; (at most {ctx.options['max']}) and retry the "
            "migration on timeout",
        )
