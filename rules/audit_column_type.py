"""Audit column with the wrong type, nullability, default or reference.

`created_at` / `updated_at` must be `timestamptz NOT NULL DEFAULT now()` (or `CURRENT_TIMESTAMP`);
`created_by` / `updated_by` must be of the configured type (`uuid`) and, when the `users-table`
option is set, reference that table. Judged at the end of the migration.

## Why is this bad?
Audit columns are only useful if every row has them right. A `timestamp` without time zone mixes
the zones of whoever wrote the row; a nullable or default-less `created_at` stays NULL whenever a
code path forgets it (a seed, a bulk import), which is exactly the row an investigation is about;
an author column of another type than the users' key, or without a foreign key, ends up holding
ids of users that never existed.

## Example
```sql
CREATE TABLE notes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    body text NOT NULL,
    created_at timestamp,
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by text,
    updated_by uuid
);
```

Use instead:
```sql
CREATE TABLE notes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    updated_by uuid
);
```

## Options
- `timestamp-columns`: columns that must be `timestamptz NOT NULL DEFAULT now()`.
- `user-columns`: columns that name the author.
- `user-type`: the type of the author columns (the users' key type), default `uuid`.
- `users-table`: when set (`users`, `auth.users`), author columns must reference it.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short
from pgpreflight.linter.schema import FOREIGN_KEY, qualify

ID = "audit-column-type"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {
    "timestamp-columns": ["created_at", "updated_at"],
    "user-columns": ["created_by", "updated_by"],
    "user-type": "uuid",
    "users-table": "",
}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)

_NOW = {"now()", "pg_catalog.now()", "CURRENT_TIMESTAMP", "transaction_timestamp()"}


@cache
def _type_text(configured: str) -> str:
    """The configured type as format_type() prints it (`int8` -> `bigint`)."""
    from pglast import ast, parse_sql
    from pgpreflight.linter.schema.names import format_type

    try:
        select = parse_sql(f"SELECT NULL::{configured}")[0].stmt
    except Exception:
        return configured.strip().lower()
    target = (
        select.targetList[0].val
        if isinstance(select, ast.SelectStmt) and select.targetList
        else None
    )
    if isinstance(target, ast.TypeCast) and target.typeName is not None:
        return format_type(target.typeName)
    return configured


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    assert ctx.schema_after is not None
    stamps = {str(c) for c in ctx.options["timestamp-columns"]}
    authors = {str(c) for c in ctx.options["user-columns"]}
    user_type = _type_text(str(ctx.options["user-type"]))
    users = str(ctx.options["users-table"])
    users_key = (users if "." in users else qualify(None, users)) if users else ""
    for fact in ctx.facts.added_columns():
        if fact.name not in stamps and fact.name not in authors:
            continue
        table = ctx.schema_after.table(fact.table)
        column = table.columns.get(fact.name) if table is not None else None
        if table is None or column is None:
            continue
        problems: list[str] = []
        if fact.name in stamps:
            expected = f"{fact.name} timestamptz NOT NULL DEFAULT now()"
            if column.type != "timestamp with time zone":
                problems.append(f"is {column.type}")
            if not column.not_null:
                problems.append("allows NULL")
            if column.default is None:
                problems.append("has no DEFAULT")
            elif str(column.default) not in _NOW:
                problems.append(f"defaults to {column.default}")
        else:
            expected = f"{fact.name} {user_type}" + (
                f" REFERENCES {short(users_key)}" if users else ""
            )
            if column.type != user_type:
                problems.append(f"is {column.type}, not {user_type}")
            if users and not any(
                c.kind == FOREIGN_KEY and c.columns == (fact.name,) and c.ref_table == users_key
                for c in table.constraints.values()
            ):
                problems.append(f"does not reference {short(users_key)}")
        if not problems:
            continue
        yield ctx.finding(
            fact.stmt,
            f"audit column {short(fact.table)}.{fact.name} {', '.join(problems)}",
            node=fact.node,
            hint=f"declare it {expected}",
        )
