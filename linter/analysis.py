"""The one analysis of a lint run: what the engine computes once and every rule reads.

Discovery parses each file once (sections parse on first use), the replay (linter/replay.py)
gives the schema model before and after every migration, facts (linter/facts.py) say what each
statement does to transactions, locks and new tables, and provenance (linter/provenance.py) the
model just before each statement. All of it hangs off one `Analysis`, handed to every rule's
`Context`, to `check` (the final model, on the result) and through it to EXPLAIN: nothing is
replayed twice, and nothing is kept in a module-level cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.facts import MigrationFacts
from pgpreflight.linter.migration import Migration, split_groups

if TYPE_CHECKING:
    from pgpreflight.linter.changes import ChangeSet
    from pgpreflight.linter.replay import Replay
    from pgpreflight.linter.schema import SchemaModel


@dataclass
class Analysis:
    migrations: list[Migration]
    replay: Replay | None = None
    """None where no rule needs a model (the suppression findings)."""
    facts: list[MigrationFacts] = field(default_factory=list)
    """Per migration; computed for the reported ones (and their split groups) only."""
    enabled: frozenset[str] = frozenset()
    """The ids of the rules that run: a rule that defers to another asks here, not the config."""
    changes: ChangeSet | None = None
    """Set in changed-only runs (--changed-since)."""
    statement_models: dict[Any, Any] = field(default_factory=dict)
    """Sections replayed statement by statement, built on demand by `provenance.section_replay`
    (the model before each statement, and after the section): (id of the base model, id of the
    section) -> SectionReplay. Starts with the UPs the history's replay walked that way already
    (`Replay.sections`)."""

    groups: dict[int, list[Migration]] | None = None
    """`migration.split_groups(migrations)`, by id() of the migration; found here when not given."""

    def __post_init__(self) -> None:
        if self.replay is not None:
            self.statement_models.update(self.replay.sections)
        if self.groups is None:
            self.groups = split_groups(self.migrations)
        self._positions = {id(m): i for i, m in enumerate(self.migrations)}

    def split_group(self, migration: Migration) -> list[Migration]:
        """`migration.split_group(migration, self.migrations)`, looked up."""
        assert self.groups is not None
        return self.groups.get(id(migration), [])

    def before(self, i: int) -> SchemaModel | None:
        """The model before migration i's UP (None before a cached replay's resume point)."""
        if self.replay is None or i >= len(self.replay.snapshots):
            return None
        return self.replay.snapshots[i]

    def final(self) -> SchemaModel | None:
        """The model after the last migration's UP. Ask only when there is something to look
        up in it: the first question replays the history after the reported migrations."""
        return self.replay.final() if self.replay is not None else None

    def index(self, migration: Migration) -> int | None:
        return self._positions.get(id(migration))
