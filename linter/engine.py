"""The lint pipeline: files -> migrations -> parsed statements -> schema model -> findings.

Everything several rules need is computed here once (facts, the schema model before and after
each migration) and handed over on `ctx`.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgpreflight.linter import suppressions as sup
from pgpreflight.linter.analysis import Analysis
from pgpreflight.linter.config import Config
from pgpreflight.linter.context import Context
from pgpreflight.linter.discovery import Overlay, discover
from pgpreflight.linter.facts import MigrationFacts, compute_facts
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, SourceFile, Statement, split_groups
from pgpreflight.linter.parallel import in_workers
from pgpreflight.linter.registry import Rule, all_rules
from pgpreflight.linter.replay import Replay, StateStore, chain_keys, replay, resume_point
from pgpreflight.linter.result import RunResult

if TYPE_CHECKING:
    from pgpreflight.linter.changes import ChangeSet
    from pgpreflight.linter.schema import SchemaModel

LOG = logging.getLogger(__name__)

SUPPRESSION_RULES = ("malformed-suppression", "suppression-without-reason", "unused-suppression")


def enabled_rules(config: Config) -> list[Rule]:
    return [r for r in all_rules().values() if config.is_enabled(r.id, r.opt_in, r.presets)]


def lint(
    paths: Sequence[Path],
    config: Config,
    *,
    only: Iterable[Path] | None = None,
    history: Sequence[Path] = (),
    changes: ChangeSet | None = None,
    progress: Callable[..., None] | None = None,
    cache: StateStore | None = None,
    jobs: int = 1,
    overlay: Overlay | None = None,
) -> RunResult:
    """Lint the migrations under `paths`.

    `history` adds folders read only for the schema model; with `only`, findings are reported just
    for those files (pre-commit passes the changed files, the model still needs the rest), and
    `cache` lets the replay resume from the state saved after the history before them. `jobs`
    processes check the migrations (linter/parallel.py). `overlay` texts stand in for files
    (`lint --fix` between its passes).
    """
    # Millions of parse-tree nodes live for the whole run; with the collector on, every full
    # collection walks them again, which makes a long history superlinear. A lint run creates
    # no garbage cycles worth collecting, so the collector pauses until it ends.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if progress:
            progress("reading migrations…")
        migrations = discover(
            [*history, *paths], str(config.get("convention")), config.max_file_bytes, overlay
        )
        return _lint(migrations, config, only, changes, progress, cache, jobs)
    finally:
        if collecting:
            gc.enable()


def lint_discovered(
    migrations: list[Migration],
    config: Config,
    *,
    only: Iterable[Path] | None = None,
    changes: ChangeSet | None = None,
    progress: Callable[..., None] | None = None,
    cache: StateStore | None = None,
) -> RunResult:
    """Lint migrations discovery already read: `pgpreflight lint -` and the language server
    hand it texts in place of files; the server keeps the replay states in memory (`cache`)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _lint(migrations, config, only, changes, progress, cache)
    finally:
        if collecting:
            gc.enable()


def _lint(
    migrations: list[Migration],
    config: Config,
    only: Iterable[Path] | None,
    changes: ChangeSet | None,
    progress: Callable[..., None] | None,
    cache: StateStore | None = None,
    jobs: int = 1,
) -> RunResult:
    if progress:
        progress(f"linting {len(migrations)} migrations…", True)
    if only is not None:
        wanted = {_file_key(p) for p in only}
        for m in migrations:
            m.reported = any(_file_key(s.path) in wanted for s in m.sources)
    if changes is not None:
        for m in migrations:
            m.reported = m.reported and changes.is_changed(m)
    rules = enabled_rules(config)
    findings, final = run_rules(migrations, rules, config, changes, cache, jobs)
    sources = {s.display: s for m in migrations for s in m.sources}
    for finding in findings:  # findings in application query files: keep their text for reports
        if finding.path not in sources and Path(finding.path).is_file():
            path = Path(finding.path)
            sources[finding.path] = SourceFile(
                path, finding.path, path.read_text(encoding="utf-8", errors="replace")
            )
    return RunResult(findings, migrations, rules, config, sources, final=final)


def _file_key(path: Path) -> object:
    """What makes two spellings of one path equal: the file's device and inode (one stat, where
    resolve() stats every folder on the way, 0.1 s over a history of 700 files), or for a file
    that is not on disk (an editor's unsaved migration) its absolute path."""
    try:
        st = os.stat(path)
    except OSError:
        return os.path.abspath(path)
    return (st.st_dev, st.st_ino)


def _nested_facts(migration: Migration, facts: MigrationFacts) -> None:
    """Statements inside a DO block share its facts, inside a transaction: a DO block is atomic."""
    from dataclasses import replace

    for section in migration.sections():
        for stmt in section.statements:
            for inner in stmt.nested:
                if id(stmt) in facts.statements:
                    facts.statements[id(inner)] = replace(facts.of(stmt), in_transaction=True)


def run_rules(
    migrations: list[Migration],
    rules: list[Rule],
    config: Config,
    changes: ChangeSet | None = None,
    cache: StateStore | None = None,
    jobs: int = 1,
) -> tuple[list[Finding], Callable[[], SchemaModel | None]]:
    """The findings, and what gives the schema model after the last migration (the replay's,
    replayed to the end when first asked)."""
    groups = split_groups(migrations)
    position = {id(m): i for i, m in enumerate(migrations)}
    needed = _needing_facts(migrations, groups, position)
    history, save = _replay(migrations, config, cache, stop=max(needed, default=-1) + 1)
    snapshots = history.snapshots
    transaction_mode = str(config.get("transaction"))
    facts: list[MigrationFacts] = [MigrationFacts() for _ in migrations]

    def fill_facts(i: int) -> None:
        if i >= history.start:  # before it, a cached replay kept no model: nothing is reported
            facts[i] = compute_facts(
                migrations[i],
                transaction_mode,
                schema=snapshots[i],
                pg_version=config.pg_version,
                large_tables=config.get("large-tables"),
                defaults=history.defaults[i],
            )
            _nested_facts(migrations[i], facts[i])

    # The facts of a split migration's files are shared by its group, so they are found here;
    # every other migration's, where its rules run (in a worker with --jobs: computing facts
    # parses the DOWN sections, which the replay never reads).
    for i in needed:
        if id(migrations[i]) in groups:
            fill_facts(i)
    _share_split_groups(facts, groups, position)
    analysis = Analysis(
        migrations, history, facts, frozenset(r.id for r in rules), changes=changes, groups=groups
    )
    bases: list[dict[str, Any]] = [
        dict(
            rule=rule,
            config=config,
            options=config.rule_options(rule.id, rule.options),
            severity=config.severity_for(rule.id, rule.severity),
            analysis=analysis,
        )
        for rule in rules
    ]
    raw: list[Finding] = []
    for rule, base in zip(rules, bases, strict=True):
        if rule.check_history is not None:
            raw.extend(rule.check_history(migrations, Context(**base)))

    def check(indices: Sequence[int]) -> list[Finding]:
        """Every rule's `check` on the migrations at `indices`."""
        out: list[Finding] = []
        for i in indices:
            if id(migrations[i]) not in groups:
                fill_facts(i)
        for rule, base in zip(rules, bases, strict=True):
            if rule.check is None:
                continue
            for i in indices:
                ctx = Context(
                    **base,
                    migration=migrations[i],
                    facts=facts[i],
                    schema_before=snapshots[i],
                    schema_after=snapshots[i + 1],
                )
                out.extend(rule.check(migrations[i], ctx))
        return out

    reported = [i for i, m in enumerate(migrations) if m.reported]
    raw.extend(in_workers(check, reported, _workers(jobs, migrations, reported)))
    reported_paths = {s.display for m in migrations if m.reported for s in m.sources}
    # Only history read for the model is filtered out; findings in files that are not
    # migrations (application query files, see linter/queries) are kept.
    migration_paths = {s.display for m in migrations for s in m.sources}
    raw = [f for f in raw if f.path in reported_paths or f.path not in migration_paths]
    raw = [f for f in raw if not config.ignored_for_file(f.path, f.rule)]
    findings = _apply_suppressions(migrations, raw, rules, config)
    save()
    return sorted(set(findings), key=Finding.sort_key), history.final


# Below this many UP statements to check, starting workers costs more than it saves. On the
# public histories of benchmarks/README.md (2 cores, --jobs 2 taking turns with --jobs 1), two
# processes took 8-19% off the wall time from 534 UP statements (kratos, crates.io, concourse,
# hatchet) and broke even at 206 and 407 (authelia, harbor).
PARALLEL_STATEMENTS = 500


def _workers(jobs: int, migrations: list[Migration], reported: list[int]) -> int:
    """How many processes check the migrations: `jobs`, or with 0 (automatic) one per core
    (at most 4) once the reported migrations hold enough statements to pay for them. UP
    sections only are counted: the replay has parsed them, and the DOWNs are left for the
    workers to parse."""
    if jobs:
        return jobs
    statements = sum(len(migrations[i].up.statements) for i in reported)
    return min(os.cpu_count() or 1, 4) if statements >= PARALLEL_STATEMENTS else 1


def _replay(
    migrations: list[Migration], config: Config, cache: StateStore | None, stop: int
) -> tuple[Replay, Callable[[], None]]:
    """The history replayed once for the whole run, up to migration `stop` (the rest only if
    a rule asks for the final model), resumed from the lint cache's state before the first
    reported migration when there is one; and what saves the states for the next run, called
    once the rules are done (the state after the last migration is known only if replayed)."""
    runner = {"lock_timeout": str(config.get("runner-lock-timeout")) or None}
    if cache is None:
        return replay(migrations, runner, stop=stop), lambda: None
    keys = chain_keys(migrations, cache.seed(config.values, config.path))
    point = resume_point(migrations)
    found = cache.load_state(keys[: point + 1])
    start, state = found if found is not None else (0, None)
    history = replay(migrations, runner, start=start, state=state, stop=stop)

    def save() -> None:
        for i in {point, len(migrations)} - {start}:
            saved = history.state(i)
            if saved is not None:
                cache.store_state(keys[i], saved)

    return history, save


def _needing_facts(
    migrations: list[Migration], groups: dict[int, list[Migration]], position: dict[int, int]
) -> list[int]:
    """The migrations whose facts and models a rule reads: the reported ones and the rest of
    their split groups (`_share_split_groups`). Facts of the history after a migration being
    edited would only be thrown away, and its models are replayed only if a rule asks."""
    needed: set[int] = set()
    for i, migration in enumerate(migrations):
        if migration.reported:
            needed.add(i)
            needed.update(position[id(m)] for m in groups.get(id(migration), ()))
    return sorted(needed)


def _share_split_groups(
    facts: list[MigrationFacts], groups: dict[int, list[Migration]], position: dict[int, int]
) -> None:
    """A migration split into one file per statement (`split_group`) is rolled back as a whole:
    a DOWN file that undoes the UP of another file of its group reverts its own migration."""
    for group in {id(g): g for g in groups.values()}.values():  # its members share one list
        touched: set[tuple[str, ...]] = set()
        for member in group:
            touched |= facts[position[id(member)]].up_touched
        for member in group:
            facts[position[id(member)]].up_touched |= touched


def _squawk_map() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for rule in all_rules().values():
        for sq in rule.equivalents.get("squawk", ()):
            out.setdefault(sq, set()).add(rule.id)
    return out


def _apply_suppressions(
    migrations: list[Migration], findings: list[Finding], rules: list[Rule], config: Config
) -> list[Finding]:
    """Drop the findings a suppression covers, then report the suppressions that are malformed,
    give no reason, name unknown rules or silence nothing."""
    squawk = _squawk_map()
    # Grouped by file once: a history of thousands of files must not compare every statement,
    # or every finding, with every suppression.
    sources: dict[int, SourceFile] = {}
    by_source: dict[int, list[Statement]] = {}
    for m in migrations:
        if m.reported:
            for source in m.sources:
                sources[id(source)] = source
            if any(sup.has_directives(source) for source in m.sources):
                for stmt in m.statements():
                    by_source.setdefault(id(stmt.source), []).append(stmt)
    migration_paths = {source.display for source in sources.values()}
    for path in sorted({f.path for f in findings} - migration_paths):
        # Findings in application query files: their suppressions are read the same way, with
        # the queries parsed so that a comment above a query covers all of its lines.
        query_file = _query_source(path)
        if query_file is not None:
            sources[id(query_file)] = query_file
            by_source[id(query_file)] = _parsed_statements(query_file)
    suppressions = [
        found
        for key, source in sources.items()
        for found in sup.collect(source, by_source.get(key, []))
    ]
    by_path: dict[str, list[sup.Suppression]] = {}
    for found in suppressions:
        by_path.setdefault(found.source.display, []).append(found)

    def ours(s: sup.Suppression) -> set[str]:
        if s.squawk:
            return set().union(*(squawk.get(r, set()) for r in s.rules))
        return set(s.rules)

    kept: list[Finding] = []
    for finding in findings:
        covering = [
            s
            for s in by_path.get(finding.path, ())
            if s.malformed is None and s.covers(finding, ours(s))
        ]
        for s in covering:
            s.used.add(finding.rule)
        if not covering:
            kept.append(finding)
    enabled = {r.id for r in rules}
    extra = [
        f
        for s in suppressions
        for f in _suppression_findings(s, ours(s), squawk, enabled, config, migrations)
    ]
    # Suppression findings are final: they cannot be suppressed inline (ruff does the same).
    return kept + extra


def _query_source(path: str) -> SourceFile | None:
    file = Path(path)
    try:
        return SourceFile(file, path, file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def _parsed_statements(source: SourceFile) -> list[Statement]:
    from pgpreflight.linter.migration import Section
    from pgpreflight.linter.parsing import parse_section

    section = Section("query", source, 0, len(source.text))
    parse_section(section)
    return section.statements


def _suppression_findings(
    s: sup.Suppression,
    ours: set[str],
    squawk: dict[str, set[str]],
    enabled: set[str],
    config: Config,
    migrations: list[Migration],
) -> Iterator[Finding]:
    known = all_rules()

    def make(rule_id: str, message: str, hint: str) -> Iterator[Finding]:
        if rule_id not in enabled or config.ignored_for_file(s.source.display, rule_id):
            return
        rule = known[rule_id]
        ctx = Context(
            rule=rule,
            config=config,
            options=rule.options,
            severity=config.severity_for(rule_id, rule.severity),
            analysis=Analysis(migrations, enabled=frozenset(enabled)),
        )
        yield ctx.finding(s.source, message, offset=s.offset, hint=hint)

    if s.malformed:
        yield from make(
            "malformed-suppression",
            f"malformed suppression comment: {s.malformed}",
            "write '-- pgpreflight: ignore[rule-id] why it is safe here'",
        )
        return
    if not s.squawk and not s.reason:
        yield from make(
            "suppression-without-reason",
            f"suppression of {', '.join(s.rules)} gives no reason",
            "say after the brackets why the rule does not apply here, for the next reviewer",
        )
    for rule_id in s.rules:
        if rule_id not in (squawk if s.squawk else known):
            yield from make(
                "unused-suppression",
                f"suppression names unknown rule '{rule_id}'",
                "check the rule id with 'pgpreflight rules'",
            )
    if s.block:
        # diesel-guard's block is also meant for diesel-guard's own checks: one that silences
        # none of ours is not stale
        return
    if s.squawk:
        # A squawk id can be broader than the rules it maps to: stale only when none of them
        # silenced anything.
        for squawk_id in s.rules:
            mapped = squawk.get(squawk_id, set()) & enabled
            if mapped and not mapped & s.used:
                yield from make(
                    "unused-suppression",
                    f"squawk-ignore of {squawk_id} silences nothing",
                    "remove it, or move it onto the statement it is meant for",
                )
        return
    for rule_id in sorted(r for r in ours if r in enabled and r not in s.used):
        yield from make(
            "unused-suppression",
            f"suppression of {rule_id} silences nothing",
            "remove it, or move it onto the statement it is meant for",
        )
