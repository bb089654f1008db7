"""One project as the language server holds it: its configuration, its history read from disk
once and kept parsed, the replay states before the migrations being edited, and the lint of one
open document with the editor's texts in place of the files.

A keystroke re-reads one migration (the edited file and the rest of its migration, with the
editor's unsaved texts), resumes the replay from the state before it and runs the rules on it
alone; the history after it is replayed from the parse trees already held. What changed on disk
meanwhile (a `git pull`, a file saved by another program) is found by comparing the files'
sizes and modification times with those seen at the last lint: a changed file is read again, a
file added or removed makes the whole history be read again.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pgpreflight.linter.config import Config
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.lsp.states import MemoryStates
from pgpreflight.linter.migration import Migration, SourceFile
from pgpreflight.linter.result import RunResult

LOG = logging.getLogger(__name__)

Stamp = tuple[int, int]
"""A file's modification time (ns) and size."""


@dataclass(frozen=True)
class DocumentLint:
    """What one lint of a document found, for every file of its migration: the other file of a
    pair is judged with it (DOWN rules read both), so its findings come too. Paths are resolved."""

    sources: dict[Path, SourceFile]
    """The text linted for each file, which positions are counted in."""
    findings: dict[Path, list[Finding]]
    """Every file of the migration, with an empty list when it has no finding."""
    statements: dict[Path, list[tuple[int, int]]]
    """The first and last line of each top-level statement of each file: where a suppression
    comment goes."""
    seconds: float

    @classmethod
    def of(cls, result: RunResult, started: float) -> DocumentLint:
        sources: dict[Path, SourceFile] = {}
        statements: dict[Path, list[tuple[int, int]]] = {}
        for migration in result.migrations:
            if not migration.reported:
                continue
            for source in migration.sources:
                sources[source.path.resolve()] = source
            for section in migration.sections():
                for stmt in section.statements:
                    spans = statements.setdefault(stmt.source.path.resolve(), [])
                    spans.append((stmt.line, stmt.end_line))
        by_display = {source.display: path for path, source in sources.items()}
        findings: dict[Path, list[Finding]] = {path: [] for path in sources}
        for finding in result.findings:
            path = by_display.get(finding.path)
            if path is not None:  # findings in application query files are not shown here
                findings[path].append(finding)
        return cls(sources, findings, statements, time.perf_counter() - started)


def disk_stamps(folders: list[Path]) -> dict[str, Stamp]:
    """Every file under `folders` with its stamp (hidden folders skipped, as discovery skips
    them). Plain strings, not Paths: building a Path per file would cost more than the walk."""
    stamps: dict[str, Stamp] = {}
    pending = [str(f) for f in folders if f.is_dir()]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=True):
                        pending.append(entry.path)
                    else:
                        st = entry.stat()
                        stamps[entry.path] = (st.st_mtime_ns, st.st_size)
        except OSError:
            continue  # a folder removed while walking: the next lint sees it gone
    return stamps


@dataclass
class Project:
    """The history of one configuration's migration folders, kept between lints."""

    config: Config
    states: MemoryStates = field(default_factory=MemoryStates)
    migrations: list[Migration] = field(default_factory=list)
    _where: dict[Path, int] = field(default_factory=dict)
    """Resolved source path -> index in `migrations`."""
    _stamps: dict[str, Stamp] | None = None

    @property
    def folders(self) -> list[Path]:
        return [f for f in self.config.migration_paths() if f.exists()]

    def holds(self, path: Path) -> bool:
        """Whether `path` lies in the project's migration folders (or is one of them)."""
        target = path.resolve()
        return any(f.resolve() == target or f.resolve() in target.parents for f in self.folders)

    def lint(self, path: Path, texts: Mapping[Path, str]) -> DocumentLint | None:
        """Lint the migration of `path` against the rest of the history, every file in `texts`
        (resolved path -> the editor's text) read from there; None when `path` is no migration
        (a file that discovery does not count, a folder's stray script)."""
        from pgpreflight.linter.engine import lint_discovered

        started = time.perf_counter()
        self._catch_up(texts)
        target = path.resolve()
        if target in self._where and target in texts:
            self._read(target, texts)
        elif target in texts and not target.exists():  # a new migration, not saved yet
            self._read_all(texts)
        if target not in self._where:
            return None
        result = lint_discovered(self.migrations, self.config, only=[target], cache=self.states)
        return DocumentLint.of(result, started)

    def closed(self, path: Path, texts: Mapping[Path, str]) -> None:
        """The editor closed `path` without saving: its migration is the one on disk again."""
        if path.resolve() in self._where:
            self._read(path.resolve(), texts)

    def _catch_up(self, texts: Mapping[Path, str]) -> None:
        """Read again what changed on disk since the last lint."""
        stamps = disk_stamps(self.folders)
        old, self._stamps = self._stamps, stamps
        if old is None:
            self._read_all(texts)
            return
        if stamps.keys() != old.keys():  # a migration added, removed or renamed
            self._read_all(texts)
            return
        changed = [Path(p).resolve() for p, stamp in stamps.items() if old[p] != stamp]
        if any(p not in self._where for p in changed):  # a runner's settings (metadata.toml)
            self._read_all(texts)
            return
        for path in changed:
            self._read(path, texts)

    def _read_all(self, texts: Mapping[Path, str]) -> None:
        """Discover the whole history again. A migration read as it was keeps its object, and
        so the parse trees it holds: after a `git pull`, only what changed is parsed again."""
        held = {_identity(m): m for m in self.migrations}
        fresh = discover(
            self.folders,
            str(self.config.get("convention")),
            self.config.max_file_bytes,
            texts=texts,
        )
        self.migrations = [held.get(_identity(m), m) for m in fresh]
        self._where = {
            source.path.resolve(): i
            for i, migration in enumerate(self.migrations)
            for source in migration.sources
        }

    def _read(self, path: Path, texts: Mapping[Path, str]) -> None:
        """Read the migration of `path` again, alone; the whole history when that changes which
        files make up migrations (a new file, the other half of a pair created)."""
        index = self._where.get(path)
        if index is None:
            self._read_all(texts)
            return
        files = [source.path for source in self.migrations[index].sources]
        fresh = discover(
            files, str(self.config.get("convention")), self.config.max_file_bytes, texts=texts
        )
        if len(fresh) != 1 or [s.path for s in fresh[0].sources] != files:
            self._read_all(texts)
            return
        self.migrations[index] = fresh[0]


def _identity(migration: Migration) -> tuple[object, ...]:
    """Everything discovery decides about a migration: equal for two reads of unchanged files."""
    return (
        migration.version,
        migration.name,
        migration.convention,
        migration.in_transaction,
        migration.repeatable,
        migration.identity,
        tuple((s.path, s.display, s.text, s.rendered) for s in migration.sources),
        tuple((p.kind, p.message, p.offset) for p in migration.problems),
    )
