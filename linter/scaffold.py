"""`pgpreflight new "adicionar tabela oficinas"`: a new migration file in the project's convention,
with UP and DOWN sections and the audit columns, as the guide's `premigrate` script makes them.

A description that names a table (`criar tabela X`, `adicionar tabela X`, `create table X`) gets
a CREATE TABLE skeleton that already passes the guide's rules; anything else gets the sections,
`SET lock_timeout` and reminders.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.errors import InputError, PgPreflightError

if TYPE_CHECKING:
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
        help="file convention (default: the one the folder already uses, else the guide's)",
    )
    parser.add_argument("--config", type=Path, help="configuration file")


def slugify(text: str) -> str:
    """Lower-case ASCII snake case: accents folded (`migração` -> `migracao`)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", folded.lower()).strip("_")
    if not slug:
        raise InputError(f"description {text!r} has no letters or digits to name the file with")
    return slug


def _detect_convention(directory: Path) -> str:
    from pgpreflight.linter.discovery import discover

    if not directory.is_dir() or not any(directory.rglob("*.sql")):
        return "updown"
    migrations = discover([directory])
    return migrations[-1].convention if migrations else "updown"


def _sequence_width(directory: Path) -> tuple[int, int] | None:
    """(next number, width) when existing versions are sequence numbers (000001_...), else None."""
    from pgpreflight.linter.discovery import discover

    versions = [m.version for m in discover([directory])] if directory.is_dir() else []
    if versions and all(v.isdigit() and len(v) < 12 for v in versions):
        return max(int(v) for v in versions) + 1, len(versions[-1])
    return None


def _body(slug: str, description: str) -> tuple[str, str]:
    m = _TABLE.match(slug)
    if m:
        table = m.group("table")
        up = (
            f"-- {description}\n"
            "SET lock_timeout = '2s';\n\n"
            f"CREATE TABLE IF NOT EXISTS {table} (\n"
            "    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),\n"
            "    -- colunas: NOT NULL, CHECK e DEFAULT no banco, não na aplicação\n"
            "    created_at timestamptz NOT NULL DEFAULT now(),\n"
            "    updated_at timestamptz NOT NULL DEFAULT now(),\n"
            "    created_by uuid REFERENCES users (id),\n"
            "    updated_by uuid REFERENCES users (id)\n"
            ");\n\n"
            f"CREATE INDEX IF NOT EXISTS idx_{table}_created_by ON {table} (created_by);\n"
            f"CREATE INDEX IF NOT EXISTS idx_{table}_updated_by ON {table} (updated_by);\n"
        )
        down = f"DROP TABLE IF EXISTS {table};\n"
        return up, down
    up = (
        f"-- {description}\n"
        "SET lock_timeout = '2s';\n\n"
        "-- Write the change here. New tables carry created_at, updated_at, created_by, updated_by;\n"
        "-- indexes on existing tables use CREATE INDEX CONCURRENTLY.\n"
    )
    down = "-- Revert every UP statement, in reverse order, with IF EXISTS.\n"
    return up, down


def plan(description: str, directory: Path, convention: str, now: datetime) -> dict[Path, str]:
    """The files to create and their contents."""
    slug = slugify(description)
    up, down = _body(slug, description)
    stamp12 = now.strftime("%Y%m%d%H%M")
    stamp14 = now.strftime("%Y%m%d%H%M%S")
    if convention in ("updown", "plain"):
        up_marker, down_marker = _MARKERS["updown"]
        return {directory / f"{stamp12}__{slug}.sql": f"{up_marker}\n{up}\n{down_marker}\n{down}"}
    if convention in _MARKERS:
        up_marker, down_marker = _MARKERS[convention]
        return {directory / f"{stamp14}_{slug}.sql": f"{up_marker}\n{up}\n{down_marker}\n{down}"}
    if convention in ("golang-migrate", "pop"):
        seq = _sequence_width(directory)
        version = f"{seq[0]:0{seq[1]}d}" if seq else stamp14
        return {
            directory / f"{version}_{slug}.up.sql": up,
            directory / f"{version}_{slug}.down.sql": down,
        }
    if convention == "dir-pair":
        folder = directory / f"{now.strftime('%Y-%m-%d-%H%M%S')}_{slug}"
        return {folder / "up.sql": up, folder / "down.sql": down}
    if convention == "flyway":
        from pgpreflight.linter.discovery import discover

        majors = (
            [
                int(m.version.split(".")[0])
                for m in discover([directory])
                if m.version.split(".")[0].isdigit()
            ]
            if directory.is_dir()
            else []
        )
        version = str(max(majors) + 1 if majors else 1)
        return {
            directory / f"V{version}__{slug}.sql": up,
            directory / f"U{version}__{slug}.sql": down,
        }
    raise InputError(f"unknown convention '{convention}'")


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
    files = plan(args.description, directory, convention, datetime.now())
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
