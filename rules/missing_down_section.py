"""Migration has no DOWN section.

## Why is this bad?
When a deploy goes wrong, the DOWN section is the rollback plan (item 5 of the guide's pre-deploy
checklist). Without one, rolling back means writing reverting SQL by hand during an incident,
under pressure, against production.

## Example
```sql
-- UP
CREATE TABLE tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
```

Use instead:
```sql
-- UP
CREATE TABLE tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);

-- DOWN
DROP TABLE IF EXISTS tags;
```

## Fix
Writes a DOWN from the UP where the inverse of every UP statement is certain, as a new section or
the pair's down file. The inverse of a statement is certain when it creates something DOWN can drop
by name: tables, columns, indexes, named constraints, extensions, sequences, schemas, enum types,
views, triggers and functions are dropped (`IF EXISTS`) in reverse order; what a new table carries
goes with it; `SET lock_timeout` comes first, and a comment marks the DOWN for review. It is
checked on the schema model (UP then DOWN gives back the schema before UP) and, in the tests,
round-tripped on a scratch PostgreSQL. Safe; unsafe when UP creates something only if missing (`IF
NOT EXISTS`), which the DOWN then drops even if it was there before (an extension so dropped is
reported by down-does-not-revert: other objects may use it). No fix when a statement has no certain
inverse (data changes, ALTER COLUMN, DO blocks, CREATE OR REPLACE), nor for a file without markers
in a history that has none: its runner may run the whole file, DOWN included.
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.inverse import down_fix
from pgpreflight.linter.migration import Migration

ID = "missing-down-section"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)
FIX = "safe; unsafe when UP creates objects only if missing"
FIX_ADDS = ("down-does-not-revert",)

_HOW = {
    "golang-migrate": "add a '{stem}.down.sql' file beside it that reverts every UP statement",
    "dir-pair": "add a 'down.sql' file in the same folder that reverts every UP statement",
    "flyway": "add an undo file 'U{version}__{name}.sql' that reverts every UP statement",
    "goose": "add a '-- +goose Down' section that reverts every UP statement, in reverse order",
    "sql-migrate": "add a '-- +migrate Down' section that reverts every UP statement, in reverse order",
    "dbmate": "add a '-- migrate:down' section that reverts every UP statement, in reverse order",
}


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    if migration.down is not None or not migration.up.statements:
        return
    stem = migration.source.path.name.rsplit(".up.sql", 1)[0]
    hint = _HOW.get(
        migration.convention,
        "add a '-- DOWN' section that reverts every UP statement, in reverse order",
    ).format(stem=stem, version=migration.version, name=migration.name)
    yield ctx.finding(
        migration,
        f"migration {migration.id} has no DOWN section, so it cannot be rolled back",
        hint=hint,
        fix=down_fix(migration, ctx.schema_before, ctx.schema_after, ctx.history),
    )
