"""UPDATE (or ON CONFLICT DO UPDATE) assigns the same column twice: the statement fails.

## Why is this bad?
PostgreSQL refuses `SET a = 1, a = 2` with `multiple assignments to same column "a"`, so the
migration stops at this statement, often after the schema changes before it ran (and without a
transaction, left applied). It is nearly always an editing slip (a copied line, a column listed
in both a row assignment `(a, b) = (...)` and a single one) that a reviewer reads past. Fields
of a composite column (`SET addr.city = ..., addr.zip = ...`) are different targets and fine.

Opt-in (`extend-select`): PostgreSQL reports it on the first run in any environment, so the
rule mainly saves a CI round trip.

## Example
```sql
UPDATE users SET status = 'active', email_verified = true, status = 'verified' WHERE id = 1;
```

Use instead:
```sql
UPDATE users SET email_verified = true, status = 'verified' WHERE id = 1;
```

## Differences from squawk
Also checks INSERT ... ON CONFLICT DO UPDATE SET; assignments to different fields or subscripts of
one column are allowed, as PostgreSQL allows them.

## References
- https://www.postgresql.org/docs/current/sql-update.html
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.schema.names import deparse

ID = "duplicate-column-assignment"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
OPT_IN = True
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["ban-duplicate-column-assignments"]}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.UpdateStmt, ast.InsertStmt):
            if isinstance(node, ast.UpdateStmt):
                targets = node.targetList
            else:
                conflict = getattr(node, "onConflictClause", None)
                targets = getattr(conflict, "targetList", None)
            seen: set[str] = set()
            for target in targets or ():
                if not isinstance(target, ast.ResTarget) or not target.name:
                    continue
                key = str(target.name) + _indirection(target.indirection)
                if key in seen:
                    yield ctx.finding(
                        stmt,
                        f"column {key} is assigned twice in one SET: PostgreSQL refuses the "
                        "statement",
                        node=target,
                        hint=f"keep one assignment to {key}",
                    )
                seen.add(key)


def _indirection(parts: Any) -> str:
    """`.field` or `[i]` suffixes: assignments to different parts of one column differ."""
    out = ""
    for part in parts or ():
        if isinstance(part, ast.String):
            out += "." + str(part.sval)
        else:
            try:
                out += deparse(part)
            except Exception:  # a subscript the deparser cannot print: keep it distinct
                out += f"[{id(part)}]"
    return out
