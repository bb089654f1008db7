"""DOWN section holds no statement.

## Why is this bad?
An empty DOWN looks like a rollback plan but reverts nothing: rolling back "succeeds" and leaves
the UP's tables, columns and indexes in place, so the application's previous version meets a
schema it does not expect. A DOWN that holds only comments counts as empty. A migration split
into one file per statement (ory's kratos) is rolled back as a whole: an empty DOWN file of it is
reported only when every DOWN file of the migration is empty.

## Example
```sql
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
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, split_group

ID = "empty-down-section"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    down = migration.down
    if down is None or down.has_code or not migration.up.statements:
        return
    group = split_group(migration, ctx.history)
    if any(m.down is not None and m.down.has_code for m in group):
        return  # another file of the split migration reverts it (see split_group)
    yield ctx.finding(
        down,
        f"DOWN section of {migration.id} is empty: rolling back reverts nothing",
        hint="write the statements that undo the UP, in reverse order (DROP ... IF EXISTS)",
    )
