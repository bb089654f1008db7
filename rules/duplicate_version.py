"""Two migrations share one version.

## Why is this bad?
Runners record applied versions in their history table. With two files on one version, one of
them is silently skipped on every environment where the other ran first, or the runner refuses
to start; which one wins depends on file-system order.

## Example
```sql
-- file: 202401011200__create_tags.sql
-- UP
CREATE TABLE tags (id bigint PRIMARY KEY);
-- DOWN
DROP TABLE tags;
-- file: 202401011200__create_labels.sql
-- UP
CREATE TABLE labels (id bigint PRIMARY KEY);
-- DOWN
DROP TABLE labels;
```

Use instead:
```sql
-- file: 202401011200__create_tags.sql
-- UP
CREATE TABLE tags (id bigint PRIMARY KEY);
-- DOWN
DROP TABLE tags;
-- file: 202401011201__create_labels.sql
-- UP
CREATE TABLE labels (id bigint PRIMARY KEY);
-- DOWN
DROP TABLE labels;
```
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "duplicate-version"
SEVERITY = "error"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")


def check_history(migrations: list[Migration], ctx: Context) -> Iterator[Finding]:
    # Grouped by what the runner records (`Migration.recorded_as`): the version for most, the
    # whole file name for sql-migrate, the description for Flyway's repeatable scripts.
    by_key: dict[object, list[Migration]] = {}
    for m in migrations:
        by_key.setdefault(m.recorded_as, []).append(m)
    for group in by_key.values():
        if len(group) < 2:
            continue
        for m in group:
            others = ", ".join(o.source.display for o in group if o is not m)
            what = f"repeatable migration {m.id}" if m.repeatable else f"version {m.version}"
            yield ctx.finding(
                m,
                f"{what} is also used by {others}",
                hint="give one of them a new, later version (rename the file)",
            )
