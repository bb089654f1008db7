"""What a changed-only run knows: which migrations are new or modified since a ref."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pgpreflight.linter.migration import Migration


@dataclass
class ChangeSet:
    ref: str
    changed: set[Path] = field(default_factory=set)  # resolved paths added or modified since ref
    at_ref: set[Path] = field(default_factory=set)  # resolved paths that existed at ref

    def is_changed(self, migration: Migration) -> bool:
        return any(s.path.resolve() in self.changed for s in migration.sources)

    def is_new(self, migration: Migration) -> bool:
        return all(s.path.resolve() not in self.at_ref for s in migration.sources)


def from_git(ref: str, cwd: Path) -> ChangeSet:
    from pgpreflight.linter import git

    return ChangeSet(ref, git.changed_files(ref, cwd), git.files_at(ref, cwd))
