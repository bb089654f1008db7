"""What runners read from migration file names, and which `.up.sql`/`.down.sql` files they pair.

Pairing follows the runner, not the look of the names:
- golang-migrate (and sqlx) pair an up and a down file by version alone, so
  `1_add_jobs.up.sql` and `1_add_job.down.sql` (a typo) are one migration, not two;
- pop (gobuffalo, ory's popx) adds a dialect and an `.autocommit` flag before `.up.sql`:
  `X.postgres.up.sql` replaces the generic `X.up.sql` on PostgreSQL and still pairs with a
  generic `X.down.sql`; `.cockroach.`, `.mysql.` and `.sqlite3.` files belong to other databases
  and are no PostgreSQL migrations; `.autocommit.` files run without a transaction;
- a project's own runner may prefix the version with a `V` and end it with a dot, as authelia's
  `V0001.Initial_Schema.up.sql`: the version is the number (0001), the name what follows;
- concourse's runner (golang-migrate's naming) also runs migrations written in Go,
  `1561558376_add_type.up.go` beside `1561558376_add_type.down.sql`: such a file is the half of
  its pair the linter cannot read (`code`), never a missing one. pop runs no Go files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_VERSIONED = (
    re.compile(r"^(?P<version>\d[\d\-.]*\d|\d)_+(?P<name>.*)$"),
    re.compile(r"^(?P<version>\d+)-+(?P<name>.*)$"),
    re.compile(r"^[Vv](?P<version>\d+)\.(?P<name>[^.]*)$"),
)
PAIR_FILE = re.compile(r"^(?P<base>.+)\.(?P<dir>up|down)\.sql$", re.I)
CODE_PAIR_FILE = re.compile(r"^(?P<base>.+)\.(?P<dir>up|down)\.go$", re.I)
# pop's CanonicalDialect: every spelling it accepts, by the name it stands for.
_DIALECTS = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "pg": "postgres",
    "cockroach": "cockroach",
    "cockroachdb": "cockroach",
    "crdb": "cockroach",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite3",
    "sqlite3": "sqlite3",
}


def split_version(stem: str) -> tuple[str, str]:
    """(version, name) of a file or folder name: `202401011200__add_x` → ("202401011200", "add_x")."""
    for pattern in _VERSIONED:
        m = pattern.match(stem)
        if m:
            return m.group("version"), m.group("name")
    return stem, ""


@dataclass(frozen=True)
class PairFile:
    """One `.up.sql` or `.down.sql` file, its name read as golang-migrate and pop read it."""

    path: Path
    base: str  # the name without `.up.sql`/`.down.sql`
    version: str
    name: str
    direction: str  # "up" | "down"
    dialect: str  # pop's canonical dialect; "" for a file every database runs
    autocommit: bool
    code: bool = False  # a Go migration (`.up.go`): run by the runner, unreadable here

    @property
    def pop_marked(self) -> bool:
        return bool(self.dialect) or self.autocommit


def is_code_file(path: Path) -> bool:
    """A migration half written in Go (see CODE_PAIR_FILE), not SQL."""
    return CODE_PAIR_FILE.match(path.name) is not None


def parse_pair_file(path: Path) -> PairFile | None:
    m = PAIR_FILE.match(path.name) or CODE_PAIR_FILE.match(path.name)
    if m is None:
        return None
    base, direction = m.group("base"), m.group("dir").lower()
    version, rest = split_version(base)
    name, *suffixes = rest.split(".")
    dialect, autocommit = "", False
    if suffixes and suffixes[-1].lower() == "autocommit":
        autocommit = True
        suffixes.pop()
    if len(suffixes) == 1 and suffixes[0].lower() in _DIALECTS:
        dialect = _DIALECTS[suffixes[0].lower()]
    elif suffixes or (autocommit and not name):
        # Dots that are not pop's: part of the name, as golang-migrate reads it.
        name, dialect, autocommit = rest, "", False
    code = is_code_file(path)
    return PairFile(path, base, version, name, direction, dialect, autocommit, code)


@dataclass(frozen=True)
class PairGroup:
    """The files of one migration: at most one up and one down."""

    version: str
    name: str
    convention: str  # "golang-migrate" | "pop"
    up: Path | None
    down: Path | None
    autocommit: bool = False


def pair_groups(paths: Iterable[Path], convention: str = "auto") -> list[PairGroup]:
    """Migrations made of `.up.sql`/`.down.sql` files, folder by folder.

    A folder is pop's when one of its files carries a dialect or `.autocommit` (or `convention`
    is "pop"). Within a folder files pair by version; when one version has two up (or two down)
    files, each name becomes a migration of its own so that duplicate-version reports them.
    """
    folders: dict[Path, list[PairFile]] = {}
    for path in paths:
        parsed = parse_pair_file(path)
        if parsed is not None:
            folders.setdefault(path.parent, []).append(parsed)
    groups: list[PairGroup] = []
    for files in folders.values():
        pop = convention == "pop" or (convention == "auto" and any(f.pop_marked for f in files))
        if pop:
            files = [f for f in files if not f.code]
        by_version: dict[object, list[PairFile]] = {}
        for f in files:
            key: object = int(f.version) if f.version.isdigit() else ("base", f.base)
            by_version.setdefault(key, []).append(f)
        for members in by_version.values():
            groups.extend(_version_groups(members, "pop" if pop else "golang-migrate"))
    return groups


def _version_groups(members: list[PairFile], convention: str) -> list[PairGroup]:
    if convention == "pop":
        members = _for_postgres(members)
    ups = [f for f in members if f.direction == "up"]
    downs = [f for f in members if f.direction == "down"]
    if len(ups) <= 1 and len(downs) <= 1:
        if not members:
            return []  # only other databases' files
        first = ups[0] if ups else downs[0]
        return [
            PairGroup(
                first.version,
                first.name,
                convention,
                ups[0].path if ups else None,
                downs[0].path if downs else None,
                first.autocommit,
            )
        ]
    by_base: dict[str, dict[str, PairFile]] = {}
    for f in members:
        by_base.setdefault(f.base, {})[f.direction] = f
    groups = []
    for parts in by_base.values():
        first = parts.get("up") or parts["down"]
        up, down = parts.get("up"), parts.get("down")
        groups.append(
            PairGroup(
                first.version,
                first.name,
                convention,
                up.path if up else None,
                down.path if down else None,
                first.autocommit,
            )
        )
    return groups


def _for_postgres(members: list[PairFile]) -> list[PairFile]:
    """The files pop runs on PostgreSQL: per direction the `.postgres` ones, else the generic."""
    chosen: list[PairFile] = []
    for direction in ("up", "down"):
        mine = [f for f in members if f.direction == direction]
        specific = [f for f in mine if f.dialect == "postgres"]
        chosen.extend(specific or [f for f in mine if not f.dialect])
    return chosen
