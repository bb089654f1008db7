"""Migration file name breaks the naming convention.

## Why is this bad?
Runners order and record migrations by the version in the file name. A name that does not follow
the team's pattern (the guide's is `YYYYMMDDHHMM__descricao.sql`: a 12-digit timestamp, two
underscores, a lower-case description) is applied in the wrong order, or not recognised at all.
For the guide's convention the timestamp must also be a real date and time.

File pairs and folders must start with their version. A prefix before the version that every
migration of the folder shares (authelia's own runner reads `V0001.Initial_Schema.up.sql`) is the
project's scheme, not a mistake: only a name that breaks the folder's scheme is reported.

## Options
`filename-pattern` (top-level key): the regular expression file names of single-file migrations
must match.

## Example
```sql
-- file: 2024_01_01_create_tags.sql
-- UP
CREATE TABLE tags (id bigint PRIMARY KEY);
-- DOWN
DROP TABLE tags;
```

Use instead:
```sql
-- file: 202401011200__create_tags.sql
-- UP
CREATE TABLE tags (id bigint PRIMARY KEY);
-- DOWN
DROP TABLE tags;
```
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pgpreflight.linter.config import DEFAULT_FILENAME_PATTERN
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

ID = "invalid-migration-filename"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)

_VERSION_FIRST = re.compile(r"^\d")
_PREFIX = re.compile(r"^([^\d]+)\d")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    name = migration.source.path.name
    if migration.convention in ("updown", "plain"):
        pattern = str(ctx.config.get("filename-pattern"))
        if not re.search(pattern, name):
            shown = (
                "YYYYMMDDHHMM__descricao.sql" if pattern == DEFAULT_FILENAME_PATTERN else pattern
            )
            yield ctx.finding(
                migration,
                f"file name '{name}' does not match {shown}",
                hint="rename it, e.g. 'pgpreflight new \"describe the change\"' makes the right name",
            )
            return
        if pattern == DEFAULT_FILENAME_PATTERN:
            try:
                datetime.strptime(name[:12], "%Y%m%d%H%M")
            except ValueError:
                yield ctx.finding(
                    migration,
                    f"file name '{name}' starts with {name[:12]}, which is not a date and time (YYYYMMDDHHMM)",
                    hint="use the time the migration was written, e.g. 202401311530",
                )
    elif migration.convention in (
        "dbmate",
        "goose",
        "sql-migrate",
        "golang-migrate",
        "pop",
        "dir-pair",
    ):
        base = _base(migration)
        if not _VERSION_FIRST.match(base) and not _folder_scheme(base, migration, ctx):
            yield ctx.finding(
                migration,
                f"'{base}' does not start with a version number, so its order is undefined",
                hint="prefix it with a timestamp or a sequence number",
            )


def _base(migration: Migration) -> str:
    """The name that carries the version: the file's, or for `DIR/up.sql` pairs the folder's."""
    path = migration.source.path
    return path.parent.name if migration.convention == "dir-pair" else path.name


def _folder_scheme(base: str, migration: Migration, ctx: Context) -> bool:
    """Whether every migration of the folder puts the same prefix before its version number."""
    prefix = _PREFIX.match(base)
    if prefix is None:
        return False
    return all(
        (p := _PREFIX.match(_base(m))) is not None and p.group(1) == prefix.group(1)
        for m in ctx.history
        if _folder(m) == _folder(migration) and m.convention == migration.convention
    )


def _folder(migration: Migration) -> Path:
    path = migration.source.path
    return path.parent.parent if migration.convention == "dir-pair" else path.parent
