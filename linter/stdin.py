"""`pgpreflight lint -`: SQL from standard input, as ruff and sqlfluff read it in editors.

`--stdin-filename PATH` says which file the text stands for: its name gives the version and the
convention (`000002_x.up.sql`, `V3__x.sql`, `DIR/up.sql`), its place the configuration and
`per-file-ignores`, and reports show it. When PATH lies in the project's migration folders, the
rest of the history is read for the schema model, with the text in place of the file on disk.

Discovery reads files, so the text is written to a temporary folder together with the files
that complete its migration (the other half of a pair, diesel's metadata.toml) and the sources
are renamed back to PATH before any rule runs.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgpreflight.linter.result import RunResult

STDIN_NAME = "stdin.sql"
"""The name the text gets without --stdin-filename (its findings are shown as `-`)."""


def _partners(path: Path) -> list[Path]:
    """Files on disk that belong to the same migration as `path`."""
    name = path.name
    folder = path.parent
    if name.lower() in ("up.sql", "down.sql"):
        return [folder / n for n in ("up.sql", "down.sql", "metadata.toml") if n != name.lower()]
    if m := re.match(r"^(?P<base>.+)\.(?P<dir>up|down)\.sql$", name, re.I):
        other = "down" if m.group("dir").lower() == "up" else "up"
        return [folder / f"{m.group('base')}.{other}.sql"]
    if m := re.match(r"^([VU])(.+)$", name):
        return [folder / f"{'U' if m.group(1) == 'V' else 'V'}{m.group(2)}"]
    return []


def _history(config: Any, logical: Path, skip: set[Path]) -> list[Path]:
    """The project's migration files, when `logical` is one of its migrations, except `skip`."""
    from pgpreflight.linter.discovery import collect_files

    target = logical.resolve()
    folders = [f for f in config.migration_paths() if f.exists()]
    if not any(f.resolve() == target or f.resolve() in target.parents for f in folders):
        return []
    return [f for f in collect_files(folders) if f.resolve() not in skip]


def lint_stdin(
    text: str,
    filename: str | None,
    config: Any,
    *,
    changes: Any = None,
    progress: Any = None,
) -> RunResult:
    """Lint `text` as the migration file `filename` (relative to the working folder)."""
    from pgpreflight.linter.discovery import discover, display_path
    from pgpreflight.linter.engine import lint_discovered

    logical = Path(filename) if filename else Path(STDIN_NAME)
    with tempfile.TemporaryDirectory(prefix="pgpreflight-stdin-") as tmp:
        # The parent folder's name is kept: diesel/hasura versions are folder names.
        folder = Path(tmp) / (logical.parent.resolve().name or "stdin")
        folder.mkdir()
        placed = folder / logical.name
        placed.write_text(text, encoding="utf-8")
        copied = {placed: logical}
        for partner in _partners(logical) if filename else []:
            if partner.is_file():
                shutil.copyfile(partner, folder / partner.name)
                copied[folder / partner.name] = partner
        skip = {p.resolve() for p in copied.values()}
        history = _history(config, logical, skip) if filename else []
        migrations = discover(
            [*history, folder], str(config.get("convention")), config.max_file_bytes
        )
        for migration in migrations:
            for source in migration.sources:
                if source.path in copied:
                    source.path = copied[source.path]
                    source.display = display_path(source.path) if filename else "-"
        result = lint_discovered(
            migrations, config, only=[logical], changes=changes, progress=progress
        )
    if not filename:  # no file name to judge
        result.findings = [f for f in result.findings if f.rule != "invalid-migration-filename"]
    return result
