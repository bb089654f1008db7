"""One `pgpreflight check` run: pick the pending migrations, build the baseline once, trace
each pending migration on a clone of the state before it, then check the final schema.

Scratch mode needs nothing but PostgreSQL binaries. Target mode (see `target`) reads the
target's history and schema read-only and replays them here; only `--execute-on-target` touches
the target, inside a transaction that is always rolled back.

Migrations are untrusted code, so on the scratch server everything that runs code of the project
-- the baseline replay, the `--data` file, the traced UP/DOWN/UP, the EXPLAIN step (which applies
the pending migrations and synthesises rows: on a scratch server of its own, in a thread of its
own while the scenarios are traced; in target mode, after them, on a clone of the baseline, or on
a server of its own when the pending migrations change roles, databases, tablespaces or the
server's settings) and `--test-command` -- connects as the sandbox's
non-superuser migration role (`linter.check.sandbox`, `linter.pgserver`). The harness keeps the
superuser for what must be exact or privileged: CREATE/DROP DATABASE, pg_dump/pg_restore, and
the final catalog snapshot, on a session whose search_path is pinned to pg_catalog.
`--test-command` gets an environment without the caller's PG*, PGPREFLIGHT_* and DATABASE_URL-like
variables (`linter.evidence.tests.command_env`): by default it reaches the scratch database, as
the migration role, and nothing else.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgpreflight.linter.check import catalog
from pgpreflight.linter.check.causes import link_failures
from pgpreflight.linter.check.history import create_runner_table
from pgpreflight.linter.check.postconditions import postconditions
from pgpreflight.linter.check.result import CheckResult, MigrationCheck, SectionTrace, ServerInfo
from pgpreflight.linter.check.roundtrip import Scenario, run_scenario
from pgpreflight.linter.check.sandbox import (
    SUPERUSER_WARNING,
    Sandbox,
    behalf_note,
    denied_note,
    hand_over,
    on_behalf,
    run_on_behalf,
)
from pgpreflight.linter.check.trace import (
    TraceOptions,
    cannot_run_in_transaction,
    skeleton,
    statement_error,
)
from pgpreflight.linter.errors import InputError, PgPreflightError
from pgpreflight.linter.migration import Migration, Section, Statement, split_groups, version_key

LOG = logging.getLogger(__name__)


@dataclass
class CheckOptions:
    transaction_mode: str = "per-file"
    since: str | None = None
    changed: Callable[[Migration], bool] | None = None  # --changed-since predicate
    data_file: Path | None = None
    # --setup: SQL run once by the scratch server's superuser before the baseline (roles,
    # schemas, extensions the history assumes); never on a target
    setup_file: Path | None = None
    pg_bin: Path | None = None
    pg_major: int | None = None
    pg_requested: str | None = None  # pg-version as the user gave it (CLI or config), else None
    allow_version_mismatch: bool = False
    watchdog_s: float = 600.0
    dump_diff: bool = True
    findings: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    rule_claims: dict[str, tuple[str | None, bool | None]] = field(default_factory=dict)
    progress: Callable[[str], None] | None = None
    db_prefix: str = "pgpf"  # names of the databases created on the server
    # The EXPLAIN step (linter.explain): called as explain(conn_factory, pending, result) on a
    # scratch clone of the baseline and its data; returns the evidence dict for result.explain.
    explain: Callable[[Callable[[], Any], list[Migration], CheckResult], dict[str, Any]] | None = (
        None
    )
    # The EXPLAIN step beside the traces, on a server of its own (`_ExplainBeside`): True,
    # False, or None to decide by the history (`explain_beside_pays`).
    explain_beside: bool | None = None
    # --test-command: the integration tests, run with DATABASE_URL on the migrated database.
    test_command: str | None = None
    # the scratch server's sandbox: migration role, allow-listed extensions (linter.check.sandbox)
    sandbox: Sandbox = field(default_factory=Sandbox)


def select_pending(migrations: Sequence[Migration], options: CheckOptions) -> int:
    """Index of the first pending migration in scratch mode (len(migrations) when none is):
    from `--since VERSION`, else the first one changed since `--changed-since REF`, else all.
    Everything before it is the baseline; everything from it on is traced in order."""
    if options.since is not None:
        for i, m in enumerate(migrations):
            if m.version_key >= version_key(options.since, m.convention):
                return i
        return len(migrations)
    if options.changed is not None:
        for i, m in enumerate(migrations):
            if options.changed(m):
                return i
        return len(migrations)
    return 0


def apply_section(
    conn: Any,
    migration: Migration,
    section: Section,
    mode: str,
    major: int,
    sandbox: Sandbox | None = None,
    admin_conninfo: str | None = None,
    started: list[Statement] | None = None,
) -> list[str]:
    """Run a section without tracing (the baseline), the way the runner would; a failure
    raises psycopg.Error after rolling back. With `admin_conninfo`, allow-listed extensions of
    `sandbox` are created by the superuser (linter.check.sandbox); returns notes saying so.
    Each statement is appended to `started` as it starts: after a failure, its last one is the
    statement PostgreSQL refused."""
    notes: list[str] = []
    import psycopg

    statements = section.statements
    # A wrapping runner sends BEGIN and COMMIT around the file even when the file has its own
    # (its `COMMIT; BEGIN;` leaves a transaction the runner's COMMIT commits).
    wrap = (
        mode in ("per-file", "auto")
        and migration.in_transaction
        and not any(cannot_run_in_transaction(s.node, major) for s in statements)
    )
    idle = psycopg.pq.TransactionStatus.IDLE
    try:
        if wrap:
            conn.execute("BEGIN")
        for stmt in statements:
            if started is not None:
                started.append(stmt)
            behalf = on_behalf(conn, stmt.node, sandbox) if admin_conninfo else None
            if behalf is not None and admin_conninfo is not None:
                run_on_behalf(admin_conninfo, stmt.text, conn)
                notes.append(f"line {stmt.line}: {behalf_note(behalf)}")
            else:
                conn.execute(stmt.text)
        if conn.info.transaction_status != idle:
            # the runner commits; without a runner's transaction, its session ends: rolled back
            conn.execute("COMMIT" if wrap else "ROLLBACK")
            if not wrap:
                notes.append("the transaction the file opens is never committed: rolled back")
    except BaseException:
        if conn.info.transaction_status != idle:
            conn.execute("ROLLBACK")
        raise
    return notes


def run_sql_file(conn: Any, path: Path, what: str) -> None:
    """Run a file of SQL (`--setup`, `--data`) statement by statement on `conn`; a failure stops
    the check (exit 2) naming the file, line and column of the statement PostgreSQL refused."""
    import psycopg
    from pglast import parser
    from pgpreflight.linter.parsing import skip_noise
    from pgpreflight.linter.positions import LineIndex

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise InputError(f"{path}: cannot read {what}: {reason or exc}") from exc
    try:
        spans = [(s.start or 0, s.stop) for s in parser.split(text, only_slices=True)]
    except parser.ParseError:  # as one text: PostgreSQL then points at the error itself
        spans = [(0, len(text))]
    lines = LineIndex(text)
    for start, stop in spans:
        start = skip_noise(text, start)
        try:
            conn.execute(text[start:stop])
        except psycopg.Error as exc:
            position = exc.diag.statement_position
            offset = start + int(position) - 1 if position and position.isdigit() else start
            line, column = lines.position(offset)
            first = (exc.diag.message_primary or str(exc)).splitlines()[0]
            raise PgPreflightError(
                f"{path}:{line}:{column}: {what} failed: {first}", exit_code=2
            ) from exc


def _say(options: CheckOptions, message: str) -> None:
    if options.progress is not None:
        options.progress(message)


def check_on_server(
    server: Any,
    migrations: Sequence[Migration],
    first_pending: int,
    options: CheckOptions,
    result: CheckResult,
    prepare_base: Callable[[Any, str], None] | None = None,
) -> CheckResult:
    """Baseline, data, then every pending migration on `server` (a running ScratchServer).

    `prepare_base(server, dbname)` replaces the baseline replay (target mode loads the
    target's schema and sample instead)."""
    import psycopg

    baseline, pending = list(migrations[:first_pending]), list(migrations[first_pending:])
    if options.sandbox.superuser:
        result.notes.append(SUPERUSER_WARNING)
    result.baseline = [m.id for m in baseline]
    result.pending = [m.id for m in pending]
    result.transaction_mode = options.transaction_mode
    major = server.major_version
    base_db = f"{options.db_prefix}_base"
    created = [base_db]
    doing = ["creating the baseline database"]  # what the run was at, for a server death
    beside: _ExplainBeside | None = None  # the EXPLAIN step, while the scenarios are traced
    try:
        t0 = time.perf_counter()
        server.create_database(base_db, template="template0")
        if result.server is not None:
            result.server.template_clone_s = round(time.perf_counter() - t0, 4)
        doing[0] = "loading the baseline"
        if prepare_base is not None:
            prepare_base(server, base_db)
        else:
            _replay_baseline(server, base_db, migrations, baseline, options, result, major)
        template = base_db
        wanted = options.explain_beside
        if wanted is None:
            wanted = explain_beside_pays(len(baseline), len(pending))
        if (
            wanted
            and options.explain is not None
            and pending
            and prepare_base is None
            and getattr(server, "binaries", None) is not None
            and not cluster_global_statements(pending)
        ):
            beside = _ExplainBeside(server, baseline, pending, options, result)
        trace_options = TraceOptions(
            transaction_mode=options.transaction_mode,
            watchdog_s=options.watchdog_s,
            server_major=major,
            findings=options.findings,
            rule_claims=options.rule_claims,
            sandbox=options.sandbox,
        )
        model = schema_model(baseline)
        history = list(migrations)
        before: catalog.Snapshot | None = None  # the template's, once a scenario read it
        before_state: Any = None  # and its trace state (linter.check.trace)
        groups = split_groups(history)
        for n, m in enumerate(pending, 1):
            _say(options, f"trace {m.id}")
            doing[0] = f"tracing migration {m.id}"
            prefix = f"{options.db_prefix}_m{n}"
            created.extend([f"{prefix}_a", f"{prefix}_b"])
            sc = Scenario(
                server,
                template,
                prefix,
                trace_options,
                options.dump_diff,
                model,
                before,
                split=id(m) in groups,
                before_state=before_state,
            )
            check, next_template = run_scenario(sc, m)
            result.migrations.append(check)
            if next_template is not None:
                if next_template != template:
                    if template != base_db:
                        # the state before this migration: no later scenario clones it again
                        server.drop_database(template)
                    template, before, before_state = next_template, sc.after, sc.after_state
                advance_model(model, m)
            elif n < len(pending):
                check.notes.append("the next migrations run on the schema before this one")
        link_failures(result, migrations, setup_hint=prepare_base is None)
        doing[0] = "checking the final schema"
        with psycopg.connect(server.admin_conninfo(template), autocommit=True) as conn:
            result.postconditions = postconditions(conn, catalog.schema_snapshot(conn))
        if options.test_command:
            doing[0] = "running the test command"
            _run_tests(server, template, options, result)
        if beside is not None:
            doing[0] = "the EXPLAIN step"
            beside.finish()
        elif options.explain is not None and pending:
            # After the traces, so nothing the EXPLAIN step applies is there when they run.
            doing[0] = "the EXPLAIN step"
            global_lines = cluster_global_statements(pending)
            if global_lines and hasattr(server, "binaries"):
                _explain_on_own_server(
                    server, baseline, pending, options, result, prepare_base, global_lines
                )
            else:
                created.append(f"{options.db_prefix}_explain")
                _run_explain_step(
                    server, base_db, f"{options.db_prefix}_explain", pending, options, result
                )
    except (psycopg.Error, PgPreflightError) as exc:
        # The first error wins: when the server itself died, that is what went wrong (not the
        # connection error it caused), and the cleanup below must not replace it either.
        death = _death(server, exc)
        if death is not None:
            raise PgPreflightError(f"{death} while {doing[0]}", exit_code=2) from exc
        raise
    finally:
        if beside is not None:
            beside.abandon()  # after an error: its database goes below, ending its session
        _drop_databases(server, created, failing=sys.exc_info()[0] is not None)
    return result


BESIDE_MIN_PENDING = 10
BESIDE_MAX_BASELINE_PER_PENDING = 4


def explain_beside_pays(baseline: int, pending: int) -> bool:
    """Whether the EXPLAIN step is worth a server of its own beside the traces: that costs a
    server start (about a second) and a replay of the baseline there, which the traces of
    `BESIDE_MIN_PENDING` pending migrations or more hide (tracing one costs about ten times
    replaying one: two clones, three traced sections); a `--since` run with a few pending
    migrations after a long history clones the baseline after the traces, as before."""
    return pending >= BESIDE_MIN_PENDING and baseline <= BESIDE_MAX_BASELINE_PER_PENDING * pending


class _ExplainBeside:
    """The EXPLAIN step in a thread of its own while the scenarios are traced, on a scratch
    server of its own (`_explain_on_own_server` without its note): it needs nothing the traces
    produce, and they are bound by round trips, so on a machine with a second core it costs the
    check little wall time (concourse: 26 s of EXPLAIN, synthesis mostly). A server of its own,
    not a clone on the traced one: the two servers share no OID counter (the traces' TOAST
    tables keep their names), no lock table (concourse's pipelines fill it up, a trigger
    creating a table per synthesised row) and no checkpoints. `finish` waits for it and records
    its evidence, or its failure as a note, as the step after the traces did."""

    def __init__(
        self,
        server: Any,
        baseline: list[Migration],
        pending: list[Migration],
        options: CheckOptions,
        result: CheckResult,
    ) -> None:
        import dataclasses
        import threading

        self.server, self.pending, self.options, self.result = server, pending, options, result
        # what the step records, kept apart until `finish`; the EXPLAIN callback reads the
        # baseline's data source from it
        self.out = CheckResult(mode=result.mode, server=None, data=result.data)
        self.error: BaseException | None = None
        quiet = dataclasses.replace(options, progress=None)  # the traces own the status line
        _say(options, "explain new indexes (beside the traces, on a server of its own)")

        def work() -> None:
            import psycopg

            try:
                _explain_on_own_server(
                    server, baseline, pending, quiet, self.out, None, [], note=False
                )
            except (psycopg.Error, PgPreflightError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                self.out.notes.append(f"EXPLAIN step failed: {first}")
            except BaseException as exc:  # a bug: raised again in the main thread
                self.error = exc

        self.thread = threading.Thread(target=work, name="pgpreflight-explain", daemon=True)
        self.thread.start()

    def finish(self) -> None:
        """Record the step's evidence; when it failed there (its server did not start, as
        initdb sometimes fails on a crowded machine), run it after the traces on a clone of
        the baseline, as without a second server."""
        self.thread.join()
        if self.error is not None:
            raise self.error
        failed = [n for n in self.out.notes if n.startswith("EXPLAIN step failed")]
        if self.out.explain is None and failed:
            LOG.debug("EXPLAIN beside the traces: %s; again after them", failed[0])
            prefix = self.options.db_prefix
            _run_explain_step(
                self.server,
                f"{prefix}_base",
                f"{prefix}_explain",
                self.pending,
                self.options,
                self.result,
            )
            return
        self.result.explain = self.out.explain
        self.result.notes.extend(self.out.notes)

    def abandon(self) -> None:
        """After an error in the traces: its server is stopped when it is done (or with the
        process); wait for it only briefly."""
        if self.thread.is_alive():
            self.thread.join(timeout=1.0)


def _death(server: Any, exc: BaseException) -> str | None:
    """What happened to the server, if it died or crashed. A lost connection is the first sign;
    the postmaster logs the crash a moment later, so that case waits for the log (briefly)."""
    if not hasattr(server, "death_report"):
        return None
    import psycopg

    cause = exc.__cause__ if isinstance(exc, PgPreflightError) else exc
    lost = isinstance(cause, psycopg.OperationalError) or "connection" in str(exc)
    deadline = time.monotonic() + (3.0 if lost else 0.0)
    while True:
        death: str | None = server.death_report()
        if death is not None or time.monotonic() >= deadline:
            return death
        time.sleep(0.1)


def _drop_databases(server: Any, names: list[str], *, failing: bool) -> None:
    """Drop the run's databases; while another error is on its way out, a failure here is
    logged below it, never raised instead of it."""
    left: list[str] = []
    for name in _existing(server, names):
        try:
            server.drop_database(name)
        except PgPreflightError as exc:
            if not failing:
                raise
            left.append(name)
            LOG.debug("cleanup after the error: %s", exc.message)
    if left:
        LOG.warning(
            "cleanup after the error: %d scratch database(s) not dropped (%s); they go with the "
            "scratch server",
            len(left),
            ", ".join(left),
        )


def _existing(server: Any, names: list[str]) -> list[str]:
    """Those of `names` the server still has (most were dropped on the way), or all of them
    when it cannot say."""
    import psycopg

    try:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_catalog.pg_database WHERE datname = ANY(%s)", (names,)
            ).fetchall()
    except (psycopg.Error, PgPreflightError):
        return names
    found = {str(r[0]) for r in rows}
    return [n for n in names if n in found]


def _libpq_params(server: Any, dbname: str, user: str) -> dict[str, str]:
    """host, port, user, dbname of the migration role's connection to `dbname`."""
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(server.migration_conninfo(dbname, user))
    return {k: str(info[k]) for k in ("host", "port", "user", "dbname") if k in info}


def _database_url(params: dict[str, str]) -> str:
    """A postgresql:// URL for the socket-only scratch server, the form test suites expect."""
    from urllib.parse import quote

    host = quote(params.get("host", ""), safe="")
    user = quote(params.get("user", "postgres"), safe="")
    dbname = quote(params.get("dbname", ""), safe="")
    return f"postgresql://{user}@/{dbname}?host={host}&port={params.get('port', '5432')}"


def _run_tests(server: Any, dbname: str, options: CheckOptions, result: CheckResult) -> None:
    """The guide's checklist item 2: integration tests against the migrated scratch database,
    as the migration role, with DATABASE_URL and PGHOST/PGPORT/PGUSER/PGDATABASE naming it and
    none of the caller's database credentials (linter.evidence.tests.command_env)."""
    from pgpreflight.linter.evidence.tests import run_command

    assert options.test_command is not None
    _say(options, f"integration tests: {options.test_command}")
    params = _libpq_params(server, dbname, options.sandbox.user)
    libpq = {f"PG{k.upper()}" if k != "dbname" else "PGDATABASE": v for k, v in params.items()}
    result.tests = run_command(options.test_command, _database_url(params), libpq=libpq)


def _run_explain_step(
    server: Any,
    base_db: str,
    name: str,
    pending: list[Migration],
    options: CheckOptions,
    result: CheckResult,
) -> None:
    """EXPLAIN evidence (linter.explain) on its own clone of the baseline: it applies the pending
    migrations and synthesises rows there, so the traced scenarios start from the real baseline.
    A failure is a note, never a failed check. It runs as the migration role; allow-listed
    untrusted extensions the pending migrations create are created first, by the superuser."""
    import psycopg

    assert options.explain is not None
    _say(options, "explain new indexes")
    server.create_database(name, template=base_db)
    info = server.migration_conninfo(name, options.sandbox.user)
    try:
        _extensions_first(server.admin_conninfo(name), info, pending, options.sandbox)
        result.explain = options.explain(
            lambda: psycopg.connect(info, autocommit=True, application_name="pgpreflight"),
            pending,
            result,
        )
    except (psycopg.Error, PgPreflightError) as exc:
        result.notes.append(f"EXPLAIN step failed: {str(exc).strip().splitlines()[0]}")
    finally:
        server.drop_database(name)


def cluster_global_statements(pending: Sequence[Migration]) -> list[str]:
    """`path:line` of the pending UP statements that change the whole cluster (roles,
    databases, tablespaces, ALTER SYSTEM): what a database clone does not isolate."""
    from pglast import ast
    from pglast.enums import ObjectType

    shared = (
        ast.CreateRoleStmt,
        ast.AlterRoleStmt,
        ast.AlterRoleSetStmt,
        ast.DropRoleStmt,
        ast.GrantRoleStmt,
        ast.CreatedbStmt,
        ast.DropdbStmt,
        ast.AlterDatabaseStmt,
        ast.AlterDatabaseSetStmt,
        ast.AlterSystemStmt,
        ast.CreateTableSpaceStmt,
        ast.DropTableSpaceStmt,
        ast.AlterTableSpaceOptionsStmt,
    )
    shared_objects = (
        ObjectType.OBJECT_ROLE,
        ObjectType.OBJECT_DATABASE,
        ObjectType.OBJECT_TABLESPACE,
    )
    out: list[str] = []
    for m in pending:
        for stmt in m.up.statements:
            node = stmt.node
            if isinstance(node, shared) or (
                isinstance(node, (ast.RenameStmt, ast.CommentStmt))
                and getattr(node, "renameType", getattr(node, "objtype", None)) in shared_objects
            ):
                out.append(f"{stmt.source.display}:{stmt.line}")
    return out


def _explain_on_own_server(
    server: Any,
    baseline: list[Migration],
    pending: list[Migration],
    options: CheckOptions,
    result: CheckResult,
    prepare_base: Callable[[Any, str], None] | None,
    global_lines: list[str],
    *,
    note: bool = True,
) -> None:
    """The EXPLAIN step on a server of its own, started from the same binaries: the pending
    migrations change cluster-wide objects (roles, tablespaces...) that would otherwise stay
    on the traced server, or it runs beside the traces (`_ExplainBeside`, `note=False`). The
    baseline (and data) is loaded there again."""
    from pgpreflight.linter.pgserver import ScratchServer

    _say(options, "explain: starting a server of its own")
    said = (
        "EXPLAIN step ran on a server of its own: the pending migrations change cluster-wide "
        f"objects ({', '.join(global_lines[:3])}{', ...' if len(global_lines) > 3 else ''})"
    )
    base_db = f"{options.db_prefix}_base"
    try:
        with ScratchServer(server.binaries.bindir) as own:
            own.create_database(base_db, template="template0")
            if prepare_base is not None:
                prepare_base(own, base_db)
            else:
                scratch = CheckResult(mode=result.mode, server=None)
                _replay_baseline(
                    own,
                    base_db,
                    [*baseline, *pending],
                    baseline,
                    options,
                    scratch,
                    own.major_version,
                )
            _run_explain_step(
                own, base_db, f"{options.db_prefix}_explain", pending, options, result
            )
    except PgPreflightError as exc:
        result.notes.append(f"EXPLAIN step failed: {exc.message}")
        return
    if note:
        result.notes.append(said)


def _extensions_first(
    admin_conninfo: str, conninfo: str, pending: list[Migration], sandbox: Sandbox
) -> None:
    """The EXPLAIN step applies migrations statement by statement on its own; give it the
    allow-listed untrusted extensions up front (their CREATE EXTENSION then fails there and is
    skipped with a note)."""
    import psycopg
    from pglast import ast

    if sandbox.superuser or not sandbox.extensions:
        return
    with psycopg.connect(conninfo, autocommit=True, application_name="pgpreflight") as conn:
        for m in pending:
            for stmt in m.up.statements:
                if isinstance(stmt.node, ast.CreateExtensionStmt) and on_behalf(
                    conn, stmt.node, sandbox
                ):
                    try:
                        run_on_behalf(admin_conninfo, stmt.text, conn)
                    except psycopg.Error:  # e.g. its schema comes from the migration itself:
                        LOG.debug("EXPLAIN step: %s not created first", stmt.text, exc_info=True)


def schema_model(migrations: Sequence[Migration]) -> Any:
    """The static schema model after `migrations` (what linter.locks predicts on), or None."""
    try:
        from pgpreflight.linter.schema import SchemaModel

        model = SchemaModel()
    except Exception:  # the static model is optional for the check
        LOG.debug("no schema model", exc_info=True)
        return None
    for m in migrations:
        advance_model(model, m)
    return model


def advance_model(model: Any, migration: Migration) -> None:
    if model is None:
        return
    from pgpreflight.linter.replay import apply_up

    try:
        apply_up(model, migration)  # the model never raises for a statement it cannot follow
    except Exception:  # keep predicting with what the model understood
        LOG.debug("schema model could not apply %s", migration.id, exc_info=True)


def _replay_baseline(
    server: Any,
    base_db: str,
    history: Sequence[Migration],
    baseline: list[Migration],
    options: CheckOptions,
    result: CheckResult,
    major: int,
) -> None:
    """The --setup file (as the superuser), the runner's history table, the migrations before
    the pending ones and the --data file (as the migration role)."""
    import psycopg

    if options.setup_file is not None:
        _run_setup(server, base_db, options, result)
    base_info = server.migration_conninfo(base_db, options.sandbox.user)
    admin = server.admin_conninfo(base_db)
    with psycopg.connect(base_info, autocommit=True, application_name="pgpreflight") as conn:
        note = create_runner_table(conn, history)
        if note is not None:
            result.notes.append(note)
        for m in baseline:
            _say(options, f"baseline {m.id}")
            started: list[Statement] = []
            try:
                mode = options.transaction_mode
                notes = apply_section(conn, m, m.up, mode, major, options.sandbox, admin, started)
                result.notes.extend(f"baseline {m.id} {note}" for note in notes)
            except psycopg.Error as exc:
                failed = MigrationCheck(
                    m.id,
                    m.version,
                    m.name,
                    [s.display for s in m.sources],
                    "failed",
                    SectionTrace("up", "error", options.transaction_mode),
                )
                if started:  # the statement refused, with its error, as a trace would show it
                    tx = "runner" if mode in ("per-file", "auto") else "statement"
                    refused = skeleton(started[-1], len(started), "up", "error", tx)
                    refused.error = statement_error(exc, started[-1])
                    failed.up.statements.append(refused)
                first = (exc.diag.message_primary or str(exc)).splitlines()[0]
                failed.notes.append(
                    f"baseline migration failed: {exc.sqlstate or ''} {first}".strip()
                )
                last = started[-1].node if started else None
                denied = denied_note(exc.sqlstate, options.sandbox, last)
                if denied is not None:
                    failed.notes.insert(0, denied)
                result.migrations.append(failed)
        if options.data_file is not None:
            _say(options, f"data {options.data_file}")
            run_sql_file(conn, options.data_file, "data file")
            conn.execute("ANALYZE")
            result.data = str(options.data_file)


def _run_setup(server: Any, base_db: str, options: CheckOptions, result: CheckResult) -> None:
    """The --setup file, run once on the baseline database by the scratch server's superuser:
    it makes what the history assumes exists (roles, schemas, extensions), which often needs a
    superuser; what it creates in the database is then handed to the migration role, as a
    production migration user owns what it migrates. Roles are the cluster's, so every clone
    sees them."""
    import psycopg

    assert options.setup_file is not None
    _say(options, f"setup {options.setup_file}")
    with psycopg.connect(
        server.conninfo(base_db), autocommit=True, application_name="pgpreflight"
    ) as conn:
        run_sql_file(conn, options.setup_file, "setup file")
    if not options.sandbox.superuser:
        with psycopg.connect(
            server.admin_conninfo(base_db), autocommit=True, application_name="pgpreflight"
        ) as conn:
            for failed in hand_over(conn, options.sandbox.user):
                result.notes.append(f"setup: not handed to the migration role: {failed}")
    result.setup = str(options.setup_file)


def version_note(options: CheckOptions, major: int, version: str) -> str | None:
    """Say so when the scratch server is not the PostgreSQL the project targets."""
    if options.pg_major is None or options.pg_major == major:
        return None
    asked = options.pg_requested or f"{options.pg_major} (the default)"
    return (
        f"pg-version {asked} requested, but the scratch server is PostgreSQL {version}: "
        "locks, rewrites and errors are those of the server that ran"
    )


def run_scratch(migrations: Sequence[Migration], options: CheckOptions) -> CheckResult:
    """Scratch mode: a private server, started once, removed at the end."""
    from pgpreflight.linter.pgserver import ScratchServer

    first = select_pending(migrations, options)
    started = time.perf_counter()
    require = options.pg_requested is not None and not options.allow_version_mismatch
    with ScratchServer(options.pg_bin, major=options.pg_major, require_major=require) as server:
        start_s = time.perf_counter() - started
        import psycopg

        with psycopg.connect(server.dsn) as conn:
            version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        info = ServerInfo(
            role="scratch",
            version=version,
            major=server.major_version,
            source=server.binaries.source if server.binaries else None,
            start_s=round(start_s, 3),
            requested=options.pg_requested,
        )
        result = CheckResult(mode="scratch", server=info)
        note = version_note(options, server.major_version, version)
        if note is not None:
            result.notes.append(note)
        return check_on_server(server, migrations, first, options, result)
