"""Migration added with a version older than one already merged.

## Why is this bad?
Most runners apply only versions newer than the last one recorded (goose and golang-migrate by
default, dbmate and Flyway refuse or skip out-of-order ones unless told otherwise). A migration
whose version sorts before one that is already on the main branch is skipped on every database
that ran the newer one, or applied in a different order than in development. Checked in
changed-only runs (`--changed-since REF`), where pgpreflight knows which migrations are new.

## Example
```sql
-- file: 202401011200__create_tags.sql
-- UP
CREATE TABLE tags (id bigint PRIMARY KEY);
-- DOWN
DROP TABLE tags;
```

Use instead:
```sql
-- file: 202402011200__create_tags.sql
-- UP
CREATE TABLE tags (id bigint PRIMARY KEY);
-- DOWN
DROP TABLE tags;
```

In the bad example, `202401151000__create_users.sql` is already on the main branch and the new
file takes an older timestamp (the branch was started before it was merged).
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "out-of-order-migration"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")
# The examples run as a changed-only run against a main branch holding this migration.
EXAMPLE_CONFIG = {"_merged": ["202401151000__create_users.sql"]}


def check_history(migrations: list[Migration], ctx: Context) -> Iterator[Finding]:
    changes = ctx.changes
    if changes is None:
        return
    merged = [m for m in migrations if not changes.is_new(m)]
    if not merged:
        return
    newest = max(merged, key=lambda m: m.version_key)
    for m in migrations:
        if changes.is_new(m) and m.version_key < newest.version_key:
            yield ctx.finding(
                m,
                f"new migration {m.version} sorts before {newest.version} ({newest.source.display}), "
                f"which is already on {changes.ref}: runners skip it or apply it out of order",
                hint=f"give it a version after {newest.version} (rename the file with a current timestamp)",
            )
