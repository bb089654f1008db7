"""`pgpreflight new "adicionar tabela oficinas"`: a new migration file in the project's convention,
with UP and DOWN sections and the audit columns, as the guide's `premigrate` script makes them.

A description that names a table (`criar tabela X`, `adicionar tabela X`, `create table X`) gets
a CREATE TABLE skeleton; anything else gets the sections, `SET lock_timeout` and reminders. Either
lints with no finding under the default rules in a project that has nothing else (a newcomer's
first `init` + `new` + `lint` must be green), and its version is one no migration has yet: two
`new` in one minute used to write one version twice, which `duplicate-version` then reported.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.conventions import CONVENTIONS
from pgpreflight.linter.errors import InputError, PgPreflightError

if TYPE_CHECKING:
    from pgpreflight.linter.migration import Migration
    from pgpreflight.linter.secrets import Secrets

_TABLE = re.compile(r"^(?:criar|adicionar|create|add)_(?:tabela|table)_(?P<table>[a-z0-9_]+)$")
_MARKERS = {
    "updown": ("-- UP", "-- DOWN"),
    "plain": ("-- UP", "-- DOWN"),
    "dbmate": ("-- migrate:up", "-- migrate:down"),
    "goose": ("-- +goose Up", "-- +goose Down"),
    "sql-migrate": ("-- +migrate Up", "-- +migrate Down"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "description", help='what the migration does, e.g. "adicionar tabela oficinas"'
    )
    parser.add_argument(
        "--dir",
        type=Path,
        help="migrations folder (default: the first 'migrations' entry of the configuration)",
    )
    parser.add_argument(
        "--convention",
        choices=[c for c in CONVENTIONS if c != "auto"],
        help="file convention (default: the one the folder already uses, else the guide's)",
    )
    parser.add_argument("--config", type=Path, help="configuration file")


MAX_SLUG = 60
"""Longest name part of a new file: the description is prose, the file name only needs to be
recognisable (file systems stop at 255 bytes, and the CI annotations show the path in full)."""


@dataclass(frozen=True)
class Template:
    """What the project's configuration says about the file `new` writes: the language of its
    comments (`template-language`), and the author columns' type and referenced table (the
    `audit-column-type` rule's `user-type` and `users-table`), so the file passes that rule."""

    language: str = "en"
    user_type: str = "uuid"
    users_table: str = ""

    @classmethod
    def from_config(cls, config: Any) -> Template:
        options = config.rule_options("audit-column-type", {"user-type": "uuid", "users-table": ""})
        return cls(
            language=str(config.get("template-language")),
            user_type=str(options["user-type"]),
            users_table=str(options["users-table"]),
        )


_TEXT = {
    "en": {
        "columns": "-- columns: NOT NULL, CHECK and DEFAULT in the database, not in the application",
        "up": "-- Write the change here. New tables carry created_at, updated_at, created_by, "
        "updated_by;\n-- indexes on existing tables use CREATE INDEX CONCURRENTLY, in a file run "
        "outside a transaction.",
        "down": "-- Revert every UP statement, in reverse order, with IF EXISTS.",
    },
    "pt": {
        "columns": "-- colunas: NOT NULL, CHECK e DEFAULT no banco, não na aplicação",
        "up": "-- Escreva a mudança aqui. Tabelas novas levam created_at, updated_at, created_by, "
        "updated_by;\n-- índices em tabelas existentes usam CREATE INDEX CONCURRENTLY, num arquivo "
        "executado fora de transação.",
        "down": "-- Desfaça cada comando do UP, em ordem inversa, com IF EXISTS.",
    },
}


def slugify(text: str) -> str:
    """Lower-case ASCII snake case: accents folded (`migração` -> `migracao`), at most
    `MAX_SLUG` characters, cut at a word boundary when there is one."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", folded.lower()).strip("_")
    if not slug:
        raise InputError(f"description {text!r} has no letters or digits to name the file with")
    if len(slug) > MAX_SLUG:
        cut = slug[: MAX_SLUG + 1]
        slug = cut.rsplit("_", 1)[0] if "_" in cut[MAX_SLUG // 2 :] else cut[:MAX_SLUG]
        slug = slug.strip("_")
    return slug


def _detect_convention(directory: Path) -> str:
    from pgpreflight.linter.discovery import discover

    if not directory.is_dir() or not any(directory.rglob("*.sql")):
        return "updown"
    migrations = discover([directory])
    return migrations[-1].convention if migrations else "updown"


def _versions(directory: Path) -> list[str]:
    from pgpreflight.linter.discovery import discover

    return [m.version for m in discover([directory])] if directory.is_dir() else []


def _sequence_width(versions: list[str]) -> tuple[int, int] | None:
    """(next number, width) when existing versions are sequence numbers (000001_...), else None."""
    if versions and all(v.isdigit() and len(v) < 12 for v in versions):
        return max(int(v) for v in versions) + 1, len(versions[-1])
    return None


def free_stamp(now: datetime, fmt: str, step: timedelta, taken: list[str]) -> str:
    """The timestamp version for `now`, moved to the first free `step` (minute or second) after
    every existing version of the same format: a second `new` in the same minute must not
    produce a duplicate version, nor one that sorts before a migration already written."""
    same: list[datetime] = []
    for version in taken:
        try:
            same.append(datetime.strptime(version, fmt))
        except ValueError:
            continue
    stamp = now.replace(microsecond=0)
    if step >= timedelta(minutes=1):
        stamp = stamp.replace(second=0)
    if same and max(same) >= stamp:
        stamp = max(same) + step
    return stamp.strftime(fmt)


def _body(slug: str, description: str, template: Template) -> tuple[str, str]:
    text = _TEXT.get(template.language, _TEXT["en"])
    # One comment line: a description with line breaks must not turn its second line into SQL.
    description = " ".join(description.split())
    lock = "SET lock_timeout = '2s';\n"
    m = _TABLE.match(slug)
    if m:
        table = m.group("table")
        ref = f" REFERENCES {template.users_table} (id)" if template.users_table else ""
        indexes = (
            f"\nCREATE INDEX IF NOT EXISTS idx_{table}_created_by ON {table} (created_by);\n"
            f"CREATE INDEX IF NOT EXISTS idx_{table}_updated_by ON {table} (updated_by);\n"
            if ref
            else ""
        )
        up = (
            f"-- {description}\n{lock}\n"
            f"CREATE TABLE IF NOT EXISTS {table} (\n"
            "    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),\n"
            f"    {text['columns']}\n"
            "    created_at timestamptz NOT NULL DEFAULT now(),\n"
            "    updated_at timestamptz NOT NULL DEFAULT now(),\n"
            f"    created_by {template.user_type} NOT NULL{ref},\n"
            f"    updated_by {template.user_type} NOT NULL{ref}\n"
            ");\n"
            f"{indexes}"
        )
        down = f"{lock}DROP TABLE IF EXISTS {table};\n"
        return up, down
    return f"-- {description}\n{lock}\n{text['up']}\n", f"{lock}{text['down']}\n"


def plan(
    description: str,
    directory: Path,
    convention: str,
    now: datetime,
    template: Template | None = None,
) -> dict[Path, str]:
    """The files to create and their contents, under a version no existing migration has."""
    slug = slugify(description)
    up, down = _body(slug, description, template or Template())
    versions = _versions(directory)
    minute, second = timedelta(minutes=1), timedelta(seconds=1)
    if convention in ("updown", "plain"):
        version = free_stamp(now, "%Y%m%d%H%M", minute, versions)
    elif convention in _MARKERS:
        version = free_stamp(now, "%Y%m%d%H%M%S", second, versions)
    elif convention in ("golang-migrate", "pop"):
        seq = _sequence_width(versions)
        version = (
            f"{seq[0]:0{seq[1]}d}" if seq else free_stamp(now, "%Y%m%d%H%M%S", second, versions)
        )
    elif convention == "dir-pair":
        version = free_stamp(now, "%Y-%m-%d-%H%M%S", second, versions)
    elif convention == "flyway":
        majors = [int(v.split(".")[0]) for v in versions if v.split(".")[0].isdigit()]
        version = str(max(majors) + 1 if majors else 1)
    else:
        raise InputError(f"unknown convention '{convention}'")
    return layout(convention, directory, version, slug, up, down)


def layout(
    convention: str, directory: Path, version: str, slug: str, up: str, down: str
) -> dict[Path, str]:
    """The files of one migration of `convention` in `directory`: one file with UP and DOWN
    markers, or the up and down files of a pair."""
    if convention in ("updown", "plain"):
        up_marker, down_marker = _MARKERS["updown"]
        return {directory / f"{version}__{slug}.sql": f"{up_marker}\n{up}\n{down_marker}\n{down}"}
    if convention in _MARKERS:
        up_marker, down_marker = _MARKERS[convention]
        return {directory / f"{version}_{slug}.sql": f"{up_marker}\n{up}\n{down_marker}\n{down}"}
    if convention in ("golang-migrate", "pop"):
        return {
            directory / f"{version}_{slug}.up.sql": up,
            directory / f"{version}_{slug}.down.sql": down,
        }
    if convention == "dir-pair":
        folder = directory / f"{version}_{slug}"
        return {folder / "up.sql": up, folder / "down.sql": down}
    if convention == "flyway":
        return {
            directory / f"V{version}__{slug}.sql": up,
            directory / f"U{version}__{slug}.sql": down,
        }
    raise InputError(f"unknown convention '{convention}'")


_STAMPS = (
    ("%Y%m%d%H%M%S", timedelta(seconds=1)),
    ("%Y%m%d%H%M", timedelta(minutes=1)),
    ("%Y-%m-%d-%H%M%S", timedelta(seconds=1)),
)


def version_after(version: str, convention: str, taken: set[str]) -> str | None:
    """The first version after `version` that no migration has, in its own format: the next
    free minute or second of a timestamp, the next free number of a sequence, and for Flyway
    a dotted minor (`3` -> `3.1`), which sorts between 3 and 4. None for a version of no
    format known here."""
    if convention == "flyway":
        minor = 1
        while f"{version}.{minor}" in taken:
            minor += 1
        return f"{version}.{minor}"
    for fmt, step in _STAMPS:
        try:
            stamp = datetime.strptime(version, fmt)
        except ValueError:
            continue
        if stamp.strftime(fmt) != version:
            continue
        stamp += step
        while stamp.strftime(fmt) in taken:
            stamp += step
        return stamp.strftime(fmt)
    if version.isdigit():
        number = int(version) + 1
        while f"{number:0{len(version)}d}" in taken:
            number += 1
        return f"{number:0{len(version)}d}"
    return None


def follow_up(
    migration: Migration, taken: set[str], slug: str, up: str, down: str
) -> dict[Path, str] | None:
    """A new migration right after `migration`, in its convention and folder (a fix that
    moves a statement to a later migration: VALIDATE CONSTRAINT); None when its version has
    no next one pgpreflight can name."""
    version = version_after(migration.version, migration.convention, taken)
    if version is None or migration.repeatable:
        return None
    folder = migration.source.path.parent
    if migration.convention == "dir-pair":
        folder = folder.parent
    return layout(migration.convention, folder, version, slug, up, down)


def run(args: argparse.Namespace, config: Any, secrets: Secrets | None = None) -> int:
    directory: Path | None = args.dir
    if directory is None:
        paths = config.migration_paths()
        if not paths:
            raise InputError(
                "no migrations folder: pass --dir, or set 'migrations' in pgpreflight.toml (see 'pgpreflight init')"
            )
        directory = paths[0]
    convention = args.convention or str(config.get("convention"))
    if convention == "auto":
        convention = _detect_convention(directory)
    files = plan(
        args.description, directory, convention, datetime.now(), Template.from_config(config)
    )
    existing = [p for p in files if p.exists()]
    if existing:
        raise PgPreflightError(f"{existing[0]}: already exists; not overwriting it")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as fh:  # "x": never overwrite, even in a race
            fh.write(text)
        from pgpreflight.linter.printable import printable  # the name is the user's words

        sys.stdout.write(f"created {printable(str(path))}\n")
    return 0
