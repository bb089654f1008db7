"""A UUID generator is called without the extension that provides it.

`uuid_generate_v1/v1mc/v3/v4/v5()` come from `uuid-ossp`; `gen_random_uuid()` is built in since
PostgreSQL 13 and needs `pgcrypto` below that (see the `pg-version` setting).

## Why is this bad?
The migration fails on deploy with `function uuid_generate_v4() does not exist`, or worse, passes
on a developer's database where someone once installed the extension by hand and fails on a fresh
staging or production database. Creating the extension in an earlier migration (or earlier in
the same one) makes the history replayable from scratch.

## Example
```sql
CREATE TABLE devices (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    name text NOT NULL
);
```

Use instead:
```sql
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

CREATE TABLE devices (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),
    name text NOT NULL
);
```

## Options
- `installed`: extensions known to exist on every target although no migration creates them
  (installed by the DBA or in the template database), e.g. `["pgcrypto"]`.

## References
- https://www.postgresql.org/docs/current/uuid-ossp.html
- https://www.postgresql.org/docs/current/functions-uuid.html (gen_random_uuid, PostgreSQL 13)
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.schema.names import nodes_of

ID = "uuid-default-needs-extension"
SEVERITY = "error"
OPTIONS: dict[str, object] = {"installed": []}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")

_UUID_OSSP = {
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v3",
    "uuid_generate_v4",
    "uuid_generate_v5",
    "uuid_nil",
    "uuid_ns_dns",
    "uuid_ns_url",
    "uuid_ns_oid",
    "uuid_ns_x500",
}


def _available(name: str, stmt: Statement, ctx: Context) -> bool:
    """Installed before this history, by an earlier migration, or earlier in this one."""
    if name in ctx.options["installed"]:
        return True
    assert ctx.schema_before is not None and ctx.schema_after is not None
    if name in ctx.schema_before.extensions:
        return True
    created = ctx.schema_after.extensions.get(name)
    where = created.location if created is not None else None
    return (
        isinstance(where, Statement) and where.source is stmt.source and where.offset < stmt.offset
    )


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for stmt in migration.up.statements:
        if isinstance(stmt.node, (ast.CreateFunctionStmt, ast.DoStmt)):
            continue  # bodies are strings; they run later, when the extension may exist
        text = stmt.text.lower()
        if "uuid_" not in text and "gen_random_uuid" not in text:
            continue  # no call can name one of these functions: skip walking the tree
        for call in nodes_of(stmt.node, ast.FuncCall):
            function = call.funcname[-1].sval if call.funcname else ""
            if function in _UUID_OSSP:
                extension = "uuid-ossp"
                hint = (
                    'create it first: CREATE EXTENSION IF NOT EXISTS "uuid-ossp"; or use '
                    "gen_random_uuid() (built in since PostgreSQL 13)"
                )
            elif function == "gen_random_uuid" and ctx.pg_version < (13,):
                extension = "pgcrypto"
                hint = (
                    f"create it first: CREATE EXTENSION IF NOT EXISTS pgcrypto (the target is "
                    f"PostgreSQL {ctx.pg_version}; gen_random_uuid() is built in from 13)"
                )
            else:
                continue
            if _available(extension, stmt, ctx):
                continue
            yield ctx.finding(
                stmt,
                f"{function}() needs extension {extension}, which no earlier statement creates",
                node=call,
                hint=hint,
            )
