"""The structured result of `pgpreflight check`, shared with the report renderers.

Every class is a plain dataclass; `to_dict()` gives JSON-serialisable data (lists, dicts,
strings, numbers, booleans, None). `CHECK_RESULT_VERSION` changes whenever a field is renamed or
removed, so a saved result can be rendered again or refused with a clear message.

Units: durations in milliseconds (`*_ms`), server timings in seconds (`*_s`). Lines are 1-based
lines of the migration file. Lock modes are spelled as in the manual (`ACCESS EXCLUSIVE`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

CHECK_RESULT_VERSION = 1


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class _ToDict:
    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        assert isinstance(out, dict)
        return out


@dataclass
class LockFact(_ToDict):
    """A lock the statement took (not held before it) on a relation or another object."""

    object: str  # schema-qualified name, as it was named before the statement
    kind: str  # table, index, sequence, view, materialized view, toast table, ...
    mode: str  # ACCESS EXCLUSIVE ...
    locktype: str  # "relation" | "object" (pg_locks.locktype)
    blocks: list[str]  # query kinds that wait while it is held
    new_object: bool  # created in this transaction: no other session can see it yet
    held_until: str  # "end of transaction" | "end of statement"
    held_ms: float | None = None  # measured from the statement's start to the lock's release
    table: str | None = None  # for an index or a TOAST table: the table it belongs to
    observed: str = "own backend"  # "own backend" (same transaction) | "polled" (2nd session)


@dataclass
class Rewrite(_ToDict):
    """A pre-existing relation whose storage file changed (pg_class.relfilenode)."""

    object: str
    kind: str  # "table" | "index" | "toast table" | "materialized view"
    table: str | None = None  # owner table for indexes and TOAST


@dataclass
class CatalogChange(_ToDict):
    action: str  # "added" | "dropped" | "changed"
    kind: str  # table, column, constraint, index, trigger, function, sequence, type, ...
    name: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@dataclass
class StatementError(_ToDict):
    sqlstate: str | None
    message: str
    line: int  # line of the file where PostgreSQL points (statement start when it does not)
    column: int | None = None
    detail: str | None = None
    hint: str | None = None


@dataclass
class TableAgreement(_ToDict):
    """Prediction and observation for one pre-existing table the statement touches."""

    table: str
    expected_lock: str | None
    observed_lock: str | None
    expected_rewrite: bool | None  # None: not compared (TRUNCATE gives a new file, no copy)
    observed_rewrite: bool
    work: str | None = None  # brief | scan | index build | rewrite (linter.locks)


@dataclass
class Agreement(_ToDict):
    """What the static core (linter.locks) predicted, and whether the trace agrees. The
    top-level fields repeat the first table of `tables` (the statement's own table)."""

    table: str | None
    expected_lock: str | None
    observed_lock: str | None
    expected_rewrite: bool | None
    observed_rewrite: bool
    verdict: str  # "confirmed" | "contradicted" | "no prediction" | "not observed"
    rules: list[str] = field(default_factory=list)  # static findings on this statement
    note: str | None = None
    # For findings of rules that claim a lock or a rewrite: rule id -> confirmed | contradicted
    rule_verdicts: dict[str, str] = field(default_factory=dict)
    tables: list[TableAgreement] = field(default_factory=list)  # every predicted table


@dataclass
class StatementTrace(_ToDict):
    index: int
    section: str  # "up" | "down" | "up-again"
    path: str
    line: int
    end_line: int
    sql: str  # the statement, shortened to 300 characters
    kind: str  # pglast node name: AlterTableStmt, IndexStmt, ...
    status: str  # "ok" | "error" | "not run" | "skipped"
    # "runner" | "file" | "statement" | "none (cannot run in a transaction)"
    # | "target transaction (rolled back)"
    transaction: str
    duration_ms: float | None = None
    rows: int | None = None
    lock_timeout: str | None = None  # in force when it started ("0" = wait forever)
    statement_timeout: str | None = None
    locks: list[LockFact] = field(default_factory=list)
    rewrites: list[Rewrite] = field(default_factory=list)
    catalog_changes: list[CatalogChange] = field(default_factory=list)
    error: StatementError | None = None
    agreement: Agreement | None = None
    projected_ms: float | None = None  # duration scaled to the target's row counts
    notes: list[str] = field(default_factory=list)


@dataclass
class SectionTrace(_ToDict):
    kind: str  # "up" | "down" | "up-again"
    status: str  # "ok" | "error" | "not run" | "empty"
    transaction_mode: str  # per-file | per-statement | none | file (own BEGIN/COMMIT)
    statements: list[StatementTrace] = field(default_factory=list)
    duration_ms: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass
class SchemaDifference(_ToDict):
    """One object that differs between two snapshots, named, never by OID."""

    kind: str
    name: str
    change: str  # "missing" (in expected, not in actual) | "extra" | "changed"
    expected: dict[str, Any] | None = None
    actual: dict[str, Any] | None = None
    # "real" | "cosmetic": the same schema written another way (linter.check.cosmetic), shown
    # but not failing the round trip; `why` says what differs then
    grade: str = "real"
    why: str | None = None


@dataclass
class RoundTrip(_ToDict):
    """S0 before UP, S1 after UP, S2 after DOWN, S3 after UP again: S2 = S0 and S3 = S1."""

    verdict: str  # "pass" | "fail" | "no down" | "not run"
    down_restores: bool | None = None
    up_again_matches: bool | None = None
    down_differences: list[SchemaDifference] = field(default_factory=list)
    up_again_differences: list[SchemaDifference] = field(default_factory=list)
    pg_dump_diff: str = ""  # unified diff of pg_dump --schema-only, when something differs
    reason: str | None = None


@dataclass
class DataLoss(_ToDict):
    """A DOWN statement that destroys data the UP made room for (found by a probe row)."""

    object: str  # table or table.column
    kind: str  # "table" | "column"
    line: int
    sql: str
    rows_lost: int


@dataclass
class InvalidIndex(_ToDict):
    index: str
    table: str
    line: int | None
    cleanup: str


@dataclass
class MigrationCheck(_ToDict):
    id: str
    version: str
    name: str
    paths: list[str]
    status: str  # "passed" | "failed" | "round-trip failed" | "not run" | "empty" | "not traced"
    up: SectionTrace
    down: SectionTrace | None = None
    up_again: SectionTrace | None = None
    target_up: SectionTrace | None = None  # --execute-on-target: UP on the target, rolled back
    # --execute-on-target: rows this migration wrote there, rolled back (dead tuples remain):
    # {"table", "inserted", "updated", "deleted"}
    target_writes: list[dict[str, Any]] = field(default_factory=list)
    round_trip: RoundTrip = field(default_factory=lambda: RoundTrip("not run"))
    data_loss: list[DataLoss] = field(default_factory=list)
    invalid_indexes: list[InvalidIndex] = field(default_factory=list)
    # --execute-on-target: sequences this migration advanced there (never rolled back)
    sequence_advances: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # A migration whose UP failed because an earlier one did not apply (it needs what that one
    # would have made, or misses the same prerequisite): the root cause's id; the root cause
    # lists these in `dependants` (linter.check.causes)
    caused_by: str | None = None
    dependants: list[str] = field(default_factory=list)


@dataclass
class PostCondition(_ToDict):
    kind: str  # fk-without-index | invalid-index | not-valid-constraint | duplicate-index
    object: str
    message: str
    hint: str


@dataclass
class ServerInfo(_ToDict):
    role: str  # "scratch" | "target"
    version: str  # server_version
    major: int
    source: str | None = None  # where the scratch binaries came from
    start_s: float | None = None
    template_clone_s: float | None = None
    requested: str | None = None  # the pg-version asked for, when it differs or was explicit


@dataclass
class TargetInfo(_ToDict):
    host: str | None
    port: str | None
    dbname: str | None
    user: str | None
    history_table: str | None
    applied: list[str] = field(default_factory=list)
    tables_sampled: dict[str, int] = field(default_factory=dict)  # table -> rows copied
    target_rows: dict[str, int] = field(default_factory=dict)  # table -> reltuples estimate
    table_bytes: dict[str, int] = field(default_factory=dict)  # table -> pg_relation_size
    # table -> column -> pg_stats (null_frac, n_distinct, correlation), for the EXPLAIN step
    column_stats: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # pg_stat_statements entries naming a touched table (None: extension not available)
    stat_statements: list[dict[str, Any]] | None = None
    # nothing in `covers` differed before and after the run (linter.check.unchanged)
    unchanged: bool | None = None
    # {"sequence", "before", "after", "migrations"}: "migrations" caused it (--execute-on-target)
    sequence_advances: list[dict[str, Any]] = field(default_factory=list)
    covers: list[str] = field(default_factory=list)  # what "unchanged" compared
    changes: list[str] = field(default_factory=list)  # what differed, one phrase each
    # --execute-on-target, per table: dead tuples and write counters the rollback left, and the
    # migrations that wrote there (linter.check.target.rolled_back_writes)
    rolled_back_writes: list[dict[str, Any]] = field(default_factory=list)
    # history versions no migration file has; a warning when none matches at all
    history_unmatched: list[str] = field(default_factory=list)
    history_warning: str | None = None


NOT_FAILED = ("passed", "empty", "not traced")
"""Statuses of a migration that do not fail the check ("empty": a file with no statement; "not
traced": an UP in code pgpreflight does not run, such as a Go migration)."""


@dataclass
class CheckResult(_ToDict):
    mode: str  # "scratch" | "target (read-only)" | "target (execute, rolled back)"
    server: ServerInfo | None
    target: TargetInfo | None = None
    baseline: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    data: str | None = None  # --data file, or "sample of the target"
    setup: str | None = None  # --setup file, run by the scratch server's superuser
    transaction_mode: str = "per-file"
    migrations: list[MigrationCheck] = field(default_factory=list)
    postconditions: list[PostCondition] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    version: int = CHECK_RESULT_VERSION
    explain: dict[str, Any] | None = None  # linter.explain.ExplainEvidence.to_dict()
    tests: dict[str, Any] | None = None  # --test-command: linter.evidence.tests.run_command

    @property
    def failed(self) -> bool:
        return any(m.status not in NOT_FAILED for m in self.migrations)
