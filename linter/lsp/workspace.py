"""The projects an editor's documents belong to: one per configuration file, found by walking up
from the document as the CLI finds it from the working folder, and made again when that file
changes. A document the configuration does not count as a migration gets no diagnostics, as
`pgpreflight lint FILE` skips it; without a configuration naming migration folders, a file is
linted alone with the other file of its pair, as `pgpreflight lint FILE` lints it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pgpreflight.linter.config import find_config, load_config
from pgpreflight.linter.lsp.project import DocumentLint, Project

Stamp = tuple[int, int] | None


def _stamp(path: Path | None) -> Stamp:
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@dataclass
class Workspace:
    """Projects by configuration file, each with the stamp of the file it was read from."""

    projects: dict[Path, tuple[Stamp, Project]] = field(default_factory=dict)

    def project(self, path: Path) -> Project | None:
        """The project of the configuration nearest to `path`, read again if it changed; None
        without a configuration. Raises ConfigError for a configuration that does not load."""
        config_path = find_config(path.parent)
        if config_path is None:
            return None
        stamp = _stamp(config_path)
        held = self.projects.get(config_path)
        if held is None or held[0] != stamp:
            held = (stamp, Project(load_config(config_path)))
            self.projects[config_path] = held
        return held[1]

    def lint(self, path: Path, texts: Mapping[Path, str]) -> DocumentLint | None:
        """Lint the open document `path` (its text in `texts`, keyed by resolved path, with the
        editor's other open documents); None when it is no migration of its project."""
        project = self.project(path)
        if project is not None and project.holds(path):
            return project.lint(path, texts)
        if project is not None and project.config.migration_paths():
            return None
        return _alone(path, texts, project)

    def closed(self, path: Path, texts: Mapping[Path, str]) -> None:
        """`path` was closed: what is on disk stands for it again."""
        for _, project in self.projects.values():
            if project.holds(path):
                project.closed(path, texts)


def _alone(path: Path, texts: Mapping[Path, str], project: Project | None) -> DocumentLint:
    """A file outside any migration history, linted as `pgpreflight lint FILE` lints it."""
    from pgpreflight.linter.stdin import lint_stdin

    started = time.perf_counter()
    config = project.config if project is not None else load_config(None, start=path.parent)
    text = texts.get(path.resolve())
    if text is None:
        text = path.read_text(encoding="utf-8", errors="replace")
    return DocumentLint.of(lint_stdin(text, str(path), config), started)
