"""`pgpreflight init`: find the migrations folder and convention of the repository it runs in and
write a commented configuration listing every option, so a newcomer starts from a working file."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.errors import PgPreflightError

if TYPE_CHECKING:
    from pgpreflight.linter.migration import Migration
    from pgpreflight.linter.secrets import Secrets

_AUDIT = ("created_at", "updated_at", "created_by", "updated_by")

_SKIP = {".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "build", ".tox", "vendor"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pyproject",
        action="store_true",
        help="write [tool.pgpreflight] into pyproject.toml even if none exists yet",
    )
    parser.add_argument(
        "--stdout", action="store_true", help="print the configuration instead of writing it"
    )


def detect(root: Path) -> tuple[Path | None, str, list[Migration]]:
    """(migrations folder relative to root, convention, its migrations): the folder with the most."""
    from pgpreflight.linter.discovery import discover

    best: tuple[int, Path | None, str] = (0, None, "auto")
    chosen: list[Migration] = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP and not d.startswith("."))
        if not any(f.endswith(".sql") for f in files) and not any(
            (Path(current) / d / "up.sql").is_file() for d in dirs
        ):
            continue
        directory = Path(current)
        try:
            migrations = [m for m in discover([directory]) if m.version[:1].isdigit()]
        except PgPreflightError:
            continue
        direct = [
            m
            for m in migrations
            if directory in (m.source.path.parent, m.source.path.parent.parent)
        ]
        if len(direct) > best[0]:
            conventions = Counter(m.convention for m in direct)
            best = (len(direct), directory, conventions.most_common(1)[0][0])
            chosen = direct
    _count, found, convention = best
    if found is None:
        return None, "auto", []
    directory = found
    if convention == "plain":
        convention = "updown"
    return directory.relative_to(root), convention, chosen


def choose_preset(migrations: list[Migration]) -> tuple[str, str]:
    """("guide" or "safety", why): the guide's conventions suit a history that already follows
    them (DOWN sections, audit columns); on one that does not, they would fail most migrations
    for choices the team made long ago, and only the safety rules help."""
    from pglast import ast

    if not migrations:
        return "guide", "no migrations yet: start with the guide's conventions"
    with_down = sum(1 for m in migrations if m.down is not None and m.down.statements)
    if with_down * 2 < len(migrations):
        return (
            "safety",
            f"{with_down} of {len(migrations)} migrations have a DOWN section, so the guide's "
            "DOWN-required rule would fail most of the history",
        )
    tables = audited = 0
    for m in migrations:
        for _stmt, node in m.up.of(ast.CreateStmt):
            columns = {str(e.colname) for e in node.tableElts or () if isinstance(e, ast.ColumnDef)}
            tables += 1
            audited += all(c in columns for c in _AUDIT)
    if tables and audited * 2 < tables:
        return (
            "safety",
            f"{audited} of {tables} tables have the audit columns {', '.join(_AUDIT)}, so the "
            "guide's audit rules would fail most of the history",
        )
    return (
        "guide",
        f"{with_down} of {len(migrations)} migrations have a DOWN section and {audited} of "
        f"{tables} tables the audit columns: the history follows the guide",
    )


def render(
    migrations: Path | None, convention: str, table: bool, preset: tuple[str, str] = ("guide", "")
) -> str:
    from pgpreflight.linter.registry import all_rules

    path = migrations.as_posix() if migrations else "migrations"
    prefix = "tool.pgpreflight." if table else ""
    lines = [
        "# pgpreflight configuration (written by `pgpreflight init`). Every option, with its default;",
        "# `pgpreflight rules` lists the rules and `pgpreflight rule ID` explains one.",
    ]
    if table:
        lines.append("[tool.pgpreflight]")
    lines += [
        f'migrations = ["{path}"]  # folders or globs of migrations, relative to this file',
        f'convention = "{convention}"  # auto, updown, dbmate, goose, sql-migrate, golang-migrate, pop, dir-pair, flyway',
        'pg-version = 15  # the PostgreSQL version production runs ("14.2" when the minor matters)',
        *([f"# {preset[1]}"] if preset[1] else []),
        f'preset = "{preset[0]}"  # guide: house conventions and safety; safety: production safety only',
        '# select = ["ALL"]  # only these rules; default: every rule of the preset that is not opt-in',
        '# extend-select = []  # opt-in rules to add, e.g. ["updated-at-without-trigger"]',
        "# ignore = []  # rules to skip",
        '# fail-on = "error"  # lowest severity that makes the exit code 1: error, warning, info',
        "# filename-pattern = '^\\d{12}__[a-z0-9][a-z0-9_]*\\.sql$'  # for the -- UP/-- DOWN convention",
        '# transaction = "per-file"  # "none" when the runner does not wrap each file in a transaction',
        '# runner-lock-timeout = "2s"  # the lock_timeout the runner sets on its connection',
        '# large-tables = ["users", "events_*"]  # tables known to be big: lock findings get stricter',
        '# queries = ["queries"]  # application queries (.sql) whose filters need indexes',
        '# template-language = "en"  # comments in the files `pgpreflight new` writes: en, pt',
        '# secret-env = ["API_TOKEN"]  # variables whose values never appear in any output',
        "",
        "# Database check (pgpreflight check):",
        '# history-table = ""  # applied-migrations table; empty = auto-detect the common runners\' tables',
        '# history-version-column = "version"',
        '# statement-timeout = "30s"',
        '# lock-timeout = "2s"',
        '# idle-in-transaction-timeout = "60s"',
        "# sample-rows = 100000  # rows copied per table from a target database",
        "# explain-runs = 3",
        '# setup = "db/setup.sql"  # roles, schemas, extensions the history assumes; run once on the scratch server',
        "",
        f"# [{prefix}severity]  # per-rule severity overrides",
        '# invalid-migration-filename = "error"',
        "",
        f"# [{prefix}per-file-ignores]",
        '# "*__seed_*.sql" = ["missing-down-section"]',
    ]
    for rule in all_rules().values():
        if rule.options:
            lines.append("")
            lines.append(f"# [{prefix}rules.{rule.id}]  # {rule.summary}")
            for key, value in rule.options.items():
                lines.append(f"# {key} = {_toml(value)}")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + " }"
    return str(value)


def run(args: argparse.Namespace, config: Any, secrets: Secrets | None = None) -> int:
    from pgpreflight.linter.printable import printable  # folder names are user content

    root = Path.cwd()
    migrations, convention, history = detect(root)
    count = len(history)
    preset = choose_preset(history)
    pyproject = root / "pyproject.toml"
    use_table = args.pyproject or pyproject.is_file()
    text = render(migrations, convention, use_table, preset)
    if args.stdout:
        sys.stdout.write(text)
        return 0
    found = (
        f"found {count} migration(s) in {migrations} ({convention}); preset {preset[0]}: "
        f"{preset[1]}"
        if migrations
        else "found no migrations folder; edit 'migrations'"
    )
    if use_table:
        existing = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
        if "[tool.pgpreflight" in existing:
            raise PgPreflightError(
                f"{pyproject}: already has a [tool.pgpreflight] section; not changing it"
            )
        with pyproject.open("a", encoding="utf-8") as fh:
            fh.write(("\n" if existing and not existing.endswith("\n\n") else "") + text)
        sys.stdout.write(
            printable(f"{found}") + f"\nwrote [tool.pgpreflight] to {printable(str(pyproject))}\n"
        )
        return 0
    target = root / "pgpreflight.toml"
    if target.exists():
        raise PgPreflightError(f"{target}: already exists; not overwriting it")
    with target.open("x", encoding="utf-8") as fh:
        fh.write(text)
    sys.stdout.write(f"{printable(found)}\nwrote {printable(str(target))}\n")
    return 0
