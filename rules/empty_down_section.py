"""DOWN section holds no statement.

## Why is this bad?
An empty DOWN looks like a rollback plan but reverts nothing: rolling back "succeeds" and leaves
the UP's tables, columns and indexes in place, so the application's previous version meets a
schema it does not expect. A DOWN that holds only comments counts as empty. A migration split
into one file per statement (ory's kratos) is rolled back as a whole: an empty DOWN file of it is
reported only when every DOWN file of the migration is empty.

## Example
```sql
-- file: 202401010000__users.sql
-- UP
CREATE TABLE users (id bigint PRIMARY KEY);
-- DOWN
DROP TABLE IF EXISTS users;
-- file: 202401011200__nickname.sql
-- UP
ALTER TABLE users ADD COLUMN nickname text;

-- DOWN
-- nothing to do
```

Use instead:
```sql
-- UP
ALTER TABLE users ADD COLUMN nickname text;

-- DOWN
ALTER TABLE users DROP COLUMN IF EXISTS nickname;
```

## Fix
Writes a DOWN from the UP into the empty section where the inverse of every UP statement is
certain. The inverse of a statement is certain when it creates something DOWN can drop by name:
tables, columns, indexes, named constraints, extensions, sequences, schemas, enum types, views,
triggers and functions are dropped (`IF EXISTS`) in reverse order; what a new table carries goes
with it; `SET lock_timeout` comes first, and a comment marks the DOWN for review. It is checked on
the schema model (UP then DOWN gives back the schema before UP) and, in the tests, round-tripped on
a scratch PostgreSQL. Safe; unsafe when UP creates something only if missing (`IF NOT EXISTS`),
which the DOWN then drops even if it was there before (an extension so dropped is reported by
down-does-not-revert: other objects may use it). No fix when a statement has no certain inverse
(data changes, ALTER COLUMN, DO blocks, CREATE OR REPLACE).
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.inverse import down_fix
from pgpreflight.linter.migration import Migration

ID = "empty-down-section"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)
FIX = "safe; unsafe when UP creates objects only if missing"
FIX_ADDS = ("down-does-not-revert",)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    down = migration.down
    if down is None or down.has_code or not migration.up.statements:
        return
    group = ctx.analysis.split_group(migration)
    if any(m.down is not None and m.down.has_code for m in group):
        return  # another file of the split migration reverts it (see split_group)
    yield ctx.finding(
        down,
        f"DOWN section of {migration.id} is empty: rolling back reverts nothing",
        hint="write the statements that undo the UP, in reverse order (DROP ... IF EXISTS)",
        fix=down_fix(migration, ctx.schema_before, ctx.schema_after, ctx.history, down),
    )
