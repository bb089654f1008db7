"""The history replayed once: the schema model and the sessions' timeouts before each migration.

Every rule, provenance and the report read the schema as it stood before and after a migration;
this pass computes those snapshots once per run and the engine hands them down.

A one-file run (pre-commit) starts from a saved state instead of replaying the whole history:
`chain_keys` names each prefix of the history by the content of its migrations, and the lint
cache (linter/cache.py) keeps the state after a prefix under that name. The history before the
first reported migration is then never parsed (sections parse on first use). The state saved is
everything the replay carries from one migration to the next (the model and the session defaults
of `ALTER ROLE/DATABASE ... SET`), so a replay resumed from it gives the same snapshots as one
from the start (tested: findings are identical with and without the cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pglast import ast, enums
from pgpreflight.linter.facts import TIMEOUTS, set_value
from pgpreflight.linter.migration import Migration, Statement, split_group
from pgpreflight.linter.provenance import SectionReplay
from pgpreflight.linter.schema.model import CODE_MIGRATION

if TYPE_CHECKING:
    from pgpreflight.linter.schema import SchemaModel

Defaults = dict[str, str | None]


@dataclass(frozen=True)
class StatementRef:
    """Where a statement of already-replayed history is: what a model object's `location` keeps
    of it once the state is saved (its file, line and offsets for messages; whether it made an
    index, for `facts`), without its parse tree."""

    path: str
    line: int
    offset: int
    end_offset: int
    creates_index: bool = False
    index_name: str | None = None

    @classmethod
    def of(cls, statement: Statement) -> StatementRef:
        return cls(
            statement.source.display,
            statement.line,
            statement.offset,
            statement.end_offset,
            statement.creates_index,
            statement.index_name,
        )


@dataclass
class ReplayState:
    """What the replay carries from one migration to the next."""

    model: SchemaModel
    defaults: Defaults


@dataclass
class Replay:
    """`snapshots[i]`: the model before migration i, `snapshots[-1]` after the last one;
    `defaults[i]`: the timeouts migration i's sessions start with, `defaults[-1]` those after the
    last. Entries before `start` are None when the replay resumed from a saved state there.

    A replay may stop early (`replay(..., stop=)`): the lists then end with the state before
    migration `stop`, and `final()` replays the rest when something first asks for the model
    after the last migration. Linting one migration in the middle of a long history (an
    editor's keystroke) then replays only up to it, unless a rule needs the final model."""

    snapshots: list[SchemaModel | None]
    defaults: list[Defaults | None]
    start: int
    migrations: Sequence[Migration] = ()
    runner: Defaults = field(default_factory=dict)
    model: SchemaModel | None = None
    """The live model, before migration `len(snapshots) - 1`; it becomes the last snapshot."""
    current: Defaults = field(default_factory=dict)
    sections: dict[tuple[int, int], SectionReplay] = field(default_factory=dict)
    """The UP of each reported migration as `provenance.section_replay` would replay it (the
    model before each statement), under its key: the replay walks those statements anyway, and
    replaying every UP a rule asks about a second time was a twentieth of a cold lint. Only
    where the two replays are alike (`_replayed_alike`)."""

    @property
    def finished(self) -> bool:
        return len(self.snapshots) == len(self.migrations) + 1

    def state(self, i: int) -> ReplayState | None:
        """The state before migration i (`len(history)`: after the last), if known."""
        if i >= len(self.snapshots):
            return None
        model, defaults = self.snapshots[i], self.defaults[i]
        if model is None or defaults is None:
            return None
        return ReplayState(model, dict(defaults))

    def advance(self, stop: int) -> None:
        """Replay up to migration `stop` (excluded)."""
        assert self.model is not None
        while len(self.snapshots) <= min(stop, len(self.migrations)):
            base = self.snapshots[-1]
            migration = self.migrations[len(self.snapshots) - 1]
            kept = migration.reported and base is not None and _replayed_alike(migration)
            before: dict[int, SchemaModel] | None = {} if kept else None
            _apply(migration, self.model, self.current, self.runner, before)
            if len(self.snapshots) == len(self.migrations):  # after the last: the live model
                after = self.model
                self.defaults.append(self.current)
            else:
                after = self.model.copy()
                self.defaults.append(dict(self.current))
            self.snapshots.append(after)
            if before is not None and base is not None:
                key = SectionReplay.key_of(base, migration.up)
                self.sections[key] = SectionReplay(base, before, after)

    def final(self) -> SchemaModel | None:
        """The model after the last migration, replaying what is left first."""
        self.advance(len(self.migrations))
        return self.snapshots[-1]


class StateStore(Protocol):
    """Where the states after history prefixes are kept between runs: the lint cache on disk
    (linter/cache.py) for one-file CLI runs, memory for the language server (linter/lsp)."""

    def seed(self, config_values: dict[str, Any], config_path: Path | None) -> str:
        """What every key of `chain_keys` starts from: whatever else a state depends on."""
        ...

    def load_state(self, keys: Sequence[str]) -> tuple[int, ReplayState] | None:
        """The state after the longest prefix of `keys` it holds, as (i, state); the caller
        may change the state's model."""
        ...

    def store_state(self, key: str, state: ReplayState) -> None:
        """Keep `state` under `key`; nobody changes it after."""
        ...


def replay(
    migrations: Sequence[Migration],
    runner: Defaults,
    *,
    start: int = 0,
    state: ReplayState | None = None,
    stop: int | None = None,
) -> Replay:
    """Replay `migrations[start:stop]` on `state` (or an empty model and the runner's settings);
    the rest when `Replay.final()` is asked.

    `ALTER ROLE ... SET` or `ALTER DATABASE ... SET lock_timeout` in a migration applies to the
    sessions opened after it, so to the migrations that follow (a later RESET there takes it away
    again); `runner` is what the runner itself sets (config `runner-lock-timeout`)."""
    if state is None:
        from pgpreflight.linter.schema import SchemaModel

        state = ReplayState(SchemaModel(), dict(runner))
        start = 0
    model, current = state.model, dict(state.defaults)
    last = start == len(migrations)
    history = Replay(
        [*([None] * start), model if last else model.copy()],
        [*([None] * start), current if last else dict(current)],
        start,
        migrations,
        runner,
        model,
        current,
    )
    history.advance(len(migrations) if stop is None else stop)
    return history


def _apply(
    migration: Migration,
    model: SchemaModel,
    current: Defaults,
    runner: Defaults,
    before: dict[int, SchemaModel] | None = None,
) -> None:
    """One migration's UP on the model (copied into `before` ahead of each statement, when
    given), and its sessions' settings on `current`."""
    apply_up(model, migration, before)
    for _stmt, node in migration.up.of(ast.AlterRoleSetStmt, ast.AlterDatabaseSetStmt):
        setting = getattr(node, "setstmt", None)
        if not isinstance(setting, ast.VariableSetStmt) or setting.name not in TIMEOUTS:
            continue
        if setting.kind == enums.VariableSetKind.VAR_SET_VALUE:
            current[setting.name] = set_value(setting)
        else:
            current[setting.name] = runner.get(setting.name)


def _replayed_alike(migration: Migration) -> bool:
    """`provenance.section_replay` of this UP would go through the same states as `apply_up`:
    it knows nothing of code migrations, and replays a DO block's statements once more after
    the block (which applied them already)."""
    up = migration.up
    return not up.opaque and not any(stmt.nested for stmt in up.statements)


def apply_up(
    model: SchemaModel, migration: Migration, before: dict[int, SchemaModel] | None = None
) -> None:
    """Replay one migration's UP on `model`; an UP written in Go (`Section.opaque`) is a gap
    in the model: the changes it makes are unknown. With `before`, a copy of the model just
    before each statement is kept there, by id of the statement."""
    if migration.up.opaque:
        model.apply_unknown(
            CODE_MIGRATION,
            "a migration written in Go: the schema changes it makes are unknown",
            location=StatementRef(migration.up.source.display, 1, 0, 0),
        )
    for stmt in migration.up.statements:
        if before is not None:
            before[id(stmt)] = model.copy()
        # the statement as location lets rules report where a model object came from
        model.apply(stmt.node, location=stmt)


def resume_point(migrations: Sequence[Migration]) -> int:
    """Where a replay may resume from saved state: before the first reported migration, or
    before the first file of its split group (whose DOWN rules compare the whole group)."""
    for i, migration in enumerate(migrations):
        if migration.reported:
            group = split_group(migration, list(migrations))
            return min((migrations.index(m) for m in group), default=i)
    return len(migrations)


def chain_keys(migrations: Sequence[Migration], seed: str) -> list[str]:
    """`keys[i]` names the history `migrations[:i]` by content (and `seed`: pgpreflight's code,
    pglast's version, the configuration): equal keys mean an equal replay state."""
    import hashlib  # only a run with a state store names prefixes: --no-cache runs skip OpenSSL

    h = hashlib.sha256(seed.encode())
    keys = [h.hexdigest()[:40]]
    for migration in migrations:
        h.update(f"\0{migration.id}\0{migration.convention}\0".encode())
        for section in migration.sections():
            h.update(
                f"{section.kind}:{section.source.display}:{section.start}:{section.end}\0".encode()
            )
            h.update(section.source.digest)
        keys.append(h.copy().hexdigest()[:40])
    return keys
