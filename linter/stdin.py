"""`pgpreflight lint -`: SQL from standard input, as ruff and sqlfluff read it in editors.

`--stdin-filename PATH` says which file the text stands for: its name gives the version and the
convention (`000002_x.up.sql`, `V3__x.sql`, `DIR/up.sql`), its place the configuration and
`per-file-ignores`, and reports show it. When PATH lies in the project's migration folders, the
rest of the history is read for the schema model, with the text in place of the file on disk;
elsewhere the file is linted with the files on disk that complete its migration (the other half
of a pair), as `pgpreflight lint PATH` would. Discovery takes the text for PATH (`discover`'s
`texts`), as it takes an editor's unsaved buffer: PATH need not exist.
"""

from __future__ import annotations

import re
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
        return [folder / n for n in ("up.sql", "down.sql") if n != name.lower()]
    if m := re.match(r"^(?P<base>.+)\.(?P<dir>up|down)\.sql$", name, re.I):
        other = "down" if m.group("dir").lower() == "up" else "up"
        return [folder / f"{m.group('base')}.{other}.sql"]
    if m := re.match(r"^([VU])(.+)$", name):
        return [folder / f"{'U' if m.group(1) == 'V' else 'V'}{m.group(2)}"]
    return []


def in_history(config: Any, path: Path) -> bool:
    """Whether `path` lies in one of the project's migration folders (or is one of its files)."""
    target = path.resolve()
    return any(
        f.exists() and (f.resolve() == target or f.resolve() in target.parents)
        for f in config.migration_paths()
    )


def lint_stdin(
    text: str,
    filename: str | None,
    config: Any,
    *,
    changes: Any = None,
    progress: Any = None,
) -> RunResult:
    """Lint `text` as the migration file `filename` (relative to the working folder)."""
    from pgpreflight.linter.discovery import discover
    from pgpreflight.linter.engine import lint_discovered

    logical = Path(filename) if filename else Path(STDIN_NAME)
    if filename and in_history(config, logical):
        paths = [f for f in config.migration_paths() if f.exists()]
    else:
        partners = _partners(logical) if filename else []
        paths = [logical, *(p for p in partners if p.is_file())]
    migrations = discover(
        paths, str(config.get("convention")), config.max_file_bytes, texts={logical: text}
    )
    if not filename:
        for migration in migrations:
            for source in migration.sources:
                source.display = "-"
    result = lint_discovered(migrations, config, only=[logical], changes=changes, progress=progress)
    if not filename:  # no file name to judge
        result.findings = [f for f in result.findings if f.rule != "invalid-migration-filename"]
    return result
