"""What a rule is handed besides the migration: its options, the history, the schema model before
and after, and facts the engine computed once. Also the one way to build a `Finding`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.analysis import Analysis
from pgpreflight.linter.config import Config, PgVersion
from pgpreflight.linter.facts import MigrationFacts
from pgpreflight.linter.findings import Finding, Fix
from pgpreflight.linter.migration import Migration, Section, SourceFile, Statement
from pgpreflight.linter.registry import Rule

if TYPE_CHECKING:
    from pgpreflight.linter.changes import ChangeSet
    from pgpreflight.linter.schema import SchemaModel


@dataclass
class Context:
    """One rule's view of the run: its options and severity, the run's one `Analysis`, and for
    a rule checking one migration that migration, its facts and the models around it."""

    rule: Rule
    config: Config
    options: dict[str, Any]
    severity: str
    analysis: Analysis
    migration: Migration | None = None
    facts: MigrationFacts = field(default_factory=MigrationFacts)
    schema_before: SchemaModel | None = None  # the model before this migration's UP
    schema_after: SchemaModel | None = None  # ... after its UP (do not mutate: copy first)

    @property
    def history(self) -> list[Migration]:
        return self.analysis.migrations

    @property
    def snapshots(self) -> Sequence[SchemaModel | None]:
        """The model before each migration of `history`, and after the last one (None before
        the point a cached replay resumed from: see linter/replay.py)."""
        return self.analysis.replay.snapshots if self.analysis.replay is not None else ()

    @property
    def schema_final(self) -> SchemaModel | None:
        """The model after the last migration's UP, replayed when first asked (see
        `Analysis.final`): ask only when there is something to look up in it."""
        return self.analysis.final()

    @property
    def changes(self) -> ChangeSet | None:
        return self.analysis.changes

    @property
    def statement_models(self) -> dict[Any, Any]:
        return self.analysis.statement_models

    def enabled(self, rule_id: str) -> bool:
        """Whether rule `rule_id` runs in this run (as selected by the configuration, presets,
        opt-in and command line together)."""
        return rule_id in self.analysis.enabled

    @property
    def pg_version(self) -> PgVersion:
        return self.config.pg_version

    def schema_before_migration(self, migration: Migration) -> SchemaModel | None:
        """The model before `migration`'s UP, for rules that judge several migrations as one."""
        i = self.analysis.index(migration)
        return None if i is None else self.analysis.before(i)

    def schema_after_migration(self, migration: Migration) -> SchemaModel | None:
        """The model after `migration`'s UP."""
        i = self.analysis.index(migration)
        return None if i is None else self.analysis.before(i + 1)

    def table_is_new(self, table: str, stmt: Statement) -> bool:
        """Created earlier in `stmt`'s section (see `MigrationFacts.created_here`): lock rules do
        not apply to an empty new table."""
        return self.facts.created_here(table, stmt)

    def finding(
        self,
        at: Statement | Section | Migration | SourceFile,
        message: str,
        *,
        node: Any = None,
        offset: int | None = None,
        end_offset: int | None = None,
        hint: str | None = None,
        fix: Fix | None = None,
        severity: str | None = None,
    ) -> Finding:
        section: str | None = None
        fingerprint: str | None = None
        migration = self.migration
        if isinstance(at, Statement):
            source = at.source
            start = at.node_offset(node) if node is not None else at.offset
            end = at.end_offset
            section = at.section
            fingerprint = at.fingerprint
        elif isinstance(at, Section):
            source = at.source
            start = at.marker_offset if at.marker_offset is not None else at.start
            end = start
            section = at.kind
        elif isinstance(at, Migration):
            migration = at
            source = at.source
            start = end = 0
        else:
            source = at
            start = end = 0
        if offset is not None:
            start = offset
            end = max(start, end_offset if end_offset is not None else start)
        end = max(end, start)
        line, column = source.lines.position(start)
        end_line, end_column = source.lines.position(end)
        return Finding(
            rule=self.rule.id,
            severity=severity or self.severity,
            message=_valid_text(message),
            path=source.display,
            line=line,
            column=column,
            end_line=end_line,
            end_column=end_column,
            migration=migration.id if migration else None,
            section=section,
            hint=_valid_text(hint) if hint is not None else None,
            fix=fix,
            fingerprint=fingerprint,
        )


def _valid_text(text: str) -> str:
    """A message quoting a file name that is not valid UTF-8 (Python keeps its odd bytes as lone
    surrogates) shows them as `\\xe9` escapes: every output format needs valid text."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
