"""Migration file is empty or holds only comments.

## Why is this bad?
An empty migration is recorded as applied and does nothing: usually a file created by a
scaffolding command and committed before it was written, or a change that was lost in a merge.

## Example
```sql
-- UP
-- TODO: add the oficinas table
-- DOWN
```

Use instead:
```sql
-- UP
CREATE TABLE oficinas (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), nome text NOT NULL);
-- DOWN
DROP TABLE IF EXISTS oficinas;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "empty-migration"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    if any(p.kind in ("binary", "encoding") for p in migration.problems):
        return
    if migration.up.has_code:
        return
    empty = any(p.kind == "empty" for p in migration.problems)
    what = "is empty" if empty else "has no statement in its UP section, only comments"
    yield ctx.finding(
        migration, f"migration {migration.id} {what}", hint="write the migration or delete the file"
    )
