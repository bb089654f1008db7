"""A real target database: read it without changing it, replay it on the scratch server.

Read-only mode (the default) never runs DDL or writes on the target. Every session we open is
`default_transaction_read_only = on`, `application_name = pgpreflight`, with statement_timeout,
lock_timeout and idle_in_transaction_session_timeout set, and is a guarded session
(linter.check.session): settings read back after connecting, one statement per call over the
extended protocol, a watchdog. "Unchanged" after the run covers rows too (linter.check.unchanged). We read the migration history, the
schema (pg_dump --schema-only, run with --lock-wait-timeout), row counts and sizes, and a
bounded sample of the tables the pending migrations touch; all of it is loaded into the scratch
server, where the migrations are traced.

`--execute-on-target` additionally applies the pending UP sections on the target inside one
transaction that is always rolled back. Statements that cannot run in a transaction and the
data-loss probe never run there. What a rollback does not undo is reported, each with the
migration that caused it: sequence advances (sequences are not transactional; their values are
read from the read-only session between migrations), and the dead tuples and statistics that
rolled-back writes leave behind (the rows each migration wrote, from the transaction's own
`pg_stat_xact_user_tables`; the dead tuples per table, from `pg_stat_user_tables` before and
after, which autovacuum reads too).

A history table whose versions match none of the migration files (another tool's version
format, another project's database) would make every migration pending: the run goes on, but
says so loudly (`history_warning`).

Passwords never leave this module: messages name host and database only, and client programs
get the password through PGPASSWORD, not on their command line.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pglast import ast
from pgpreflight.linter.check import catalog, unchanged
from pgpreflight.linter.check.result import CheckResult, ServerInfo, TargetInfo
from pgpreflight.linter.check.runner import CheckOptions, check_on_server, schema_model
from pgpreflight.linter.check.sandbox import hand_over
from pgpreflight.linter.check.session import (
    GuardedConnection,
    GuardedCursor,
    Limits,
    verify,
)
from pgpreflight.linter.check.trace import SectionTracer, TraceOptions
from pgpreflight.linter.config import parse_duration
from pgpreflight.linter.errors import PgPreflightError
from pgpreflight.linter.migration import Migration, version_key
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.schema.names import nodes_of

LOG = logging.getLogger(__name__)

HISTORY_TABLES: tuple[tuple[str, str], ...] = (
    # (table, runner) in detection order; schema_migrations is shared by dbmate and golang-migrate
    ("schema_migrations", "dbmate/golang-migrate"),
    ("goose_db_version", "goose"),
    ("flyway_schema_history", "flyway"),
    ("_sqlx_migrations", "sqlx"),
    ("__diesel_schema_migrations", "diesel"),
)


def _pg_duration(value: str) -> str:
    return f"{int(parse_duration(value) * 1000)}ms"


@dataclass
class TargetOptions:
    dsn: str
    execute: bool = False
    history_table: str = ""
    version_column: str = "version"
    statement_timeout: str = "30s"
    lock_timeout: str = "2s"
    idle_timeout: str = "60s"
    sample_rows: int = 100_000

    @classmethod
    def from_config(cls, dsn: str, config: Any, execute: bool) -> TargetOptions:
        return cls(
            dsn=dsn,
            execute=execute,
            history_table=str(config.get("history-table")),
            version_column=str(config.get("history-version-column")),
            statement_timeout=str(config.get("statement-timeout")),
            lock_timeout=str(config.get("lock-timeout")),
            idle_timeout=str(config.get("idle-in-transaction-timeout")),
            sample_rows=int(config.get("sample-rows")),
        )

    def session_options(self, read_only: bool) -> str:
        parts = [
            f"-c statement_timeout={_pg_duration(self.statement_timeout)}",
            f"-c lock_timeout={_pg_duration(self.lock_timeout)}",
            f"-c idle_in_transaction_session_timeout={_pg_duration(self.idle_timeout)}",
        ]
        # our scanner splits statements the way a server with standard_conforming_strings on
        # does: make the server agree, whatever the role or database sets
        parts.append("-c standard_conforming_strings=on")
        if read_only:
            parts.append("-c default_transaction_read_only=on")
        return " ".join(parts)


@dataclass(frozen=True)
class Where:
    """Host, port, database and user of the target, for messages (never the password)."""

    host: str | None
    port: str | None
    dbname: str | None
    user: str | None

    def __str__(self) -> str:
        return f"host={self.host or 'default'} dbname={self.dbname or 'default'}"


def describe(dsn: str) -> Where:
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(dsn)
    except Exception as exc:  # psycopg.ProgrammingError: a malformed DSN
        # libpq quotes the offending fragment, which may be the password: never echo it.
        detail = re.sub(r'"[^"]*"', '"…"', _first_line(exc))
        raise PgPreflightError(f"invalid target DSN: {detail}", exit_code=2) from None
    env = os.environ
    return Where(
        host=str(params.get("host") or env.get("PGHOST") or "") or None,
        port=str(params.get("port") or env.get("PGPORT") or "") or None,
        dbname=str(params.get("dbname") or env.get("PGDATABASE") or "") or None,
        user=str(params.get("user") or env.get("PGUSER") or "") or None,
    )


def _password(dsn: str) -> str | None:
    from psycopg.conninfo import conninfo_to_dict

    try:
        value = conninfo_to_dict(dsn).get("password")
    except Exception:
        return None
    return str(value) if value else None


def _scrub(message: str, dsn: str) -> str:
    """Remove the password (and any URL userinfo) from a message, whatever its origin."""
    secret = _password(dsn) or os.environ.get("PGPASSWORD")
    if secret:
        message = message.replace(secret, "***")
    message = re.sub(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@", r"\1***@", message)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", message)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
}
"""TCP keepalives: a target that vanishes (network down, host frozen) is noticed in ~25 s."""


def limits(opts: TargetOptions, *, read_only: bool) -> Limits:
    return Limits(
        statement_timeout_ms=int(parse_duration(opts.statement_timeout) * 1000),
        lock_timeout_ms=int(parse_duration(opts.lock_timeout) * 1000),
        idle_timeout_ms=int(parse_duration(opts.idle_timeout) * 1000),
        read_only=read_only,
    )


def connect(dsn: str, opts: TargetOptions, *, read_only: bool = True) -> Any:
    """A guarded session on the target (linter.check.session): tagged, time-limited on both
    ends, one statement per call, and checked after connecting to be what we asked for
    (read-only unless `read_only=False`, every timeout set). One-line PgPreflightError on
    failure."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    where = describe(dsn)
    params = conninfo_to_dict(dsn)
    extra = str(params.get("options") or "")
    wanted = limits(opts, read_only=read_only)
    client_limits = {k: v for k, v in KEEPALIVES.items() if not params.get(k)}
    if not params.get("tcp_user_timeout"):
        client_limits["tcp_user_timeout"] = str(int(wanted.watchdog_s * 1000))
    conninfo = make_conninfo(
        dsn,
        application_name="pgpreflight",
        options=(extra + " " + opts.session_options(read_only)).strip(),
        connect_timeout=str(params.get("connect_timeout") or 10),
        **client_limits,
    )
    try:
        conn = GuardedConnection.connect(
            conninfo, autocommit=True, cursor_factory=GuardedCursor, prepare_threshold=None
        )
    except psycopg.Error as exc:
        raise PgPreflightError(
            f"cannot connect to the target ({where}): {_scrub(_first_line(exc), dsn)}", exit_code=2
        ) from None
    try:
        conn.limits = wanted
        verify(conn, wanted, str(where))
    except psycopg.Error as exc:
        conn.close()
        raise target_error(exc, dsn, "reading the session settings") from None
    except BaseException:
        conn.close()
        raise
    return conn


def target_error(exc: BaseException, dsn: str, doing: str) -> PgPreflightError:
    """A failure while reading the target: one line, host and database named, exit code 2."""
    import psycopg

    where = describe(dsn)
    detail = _scrub(_first_line(exc), dsn)
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        detail = f"lock timeout: {detail}"
    elif isinstance(exc, psycopg.errors.QueryCanceled):
        detail = f"statement timeout: {detail}"
    return PgPreflightError(f"target ({where}): {doing}: {detail}", exit_code=2)


# -- history ---------------------------------------------------------------------------------


def _regclass(conn: Any, name: str) -> str | None:
    row = conn.execute("SELECT to_regclass(%s)::text", (name,)).fetchone()
    return str(row[0]) if row and row[0] else None


def _columns(conn: Any, table: str) -> set[str]:
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT "
        "attisdropped",
        (table,),
    ).fetchall()
    return {str(r[0]) for r in rows}


def read_history(conn: Any, opts: TargetOptions) -> tuple[str | None, set[str], str | None]:
    """(history table, applied versions, golang-migrate's single current version or None)."""
    from psycopg import sql

    candidates = (
        [(opts.history_table, "configured")] if opts.history_table else list(HISTORY_TABLES)
    )
    for name, _runner in candidates:
        table = _regclass(conn, name)
        if table is None:
            if opts.history_table:
                raise PgPreflightError(
                    f"history table {name!r} not found on the target", exit_code=2
                )
            continue
        cols = _columns(conn, table)
        ident = sql.SQL(table)  # to_regclass output is already quoted as needed
        column = opts.version_column if opts.version_column in cols else None
        if name == "goose_db_version" and "version_id" in cols:
            q = sql.SQL(
                "SELECT version_id::text FROM (SELECT DISTINCT ON (version_id) version_id, "
                "is_applied "
                "FROM {} ORDER BY version_id, id DESC) s WHERE is_applied"
            ).format(ident)
            return table, {str(r[0]) for r in conn.execute(q)}, None
        if name in ("flyway_schema_history", "_sqlx_migrations") and "success" in cols:
            q = sql.SQL(
                "SELECT version::text FROM {} WHERE success AND version IS NOT NULL"
            ).format(ident)
            return table, {str(r[0]) for r in conn.execute(q)}, None
        if column is None:
            raise PgPreflightError(
                f"history table {table} has no column {opts.version_column!r} "
                "(set history-version-column)",
                exit_code=2,
            )
        q = sql.SQL("SELECT {}::text FROM {}").format(sql.Identifier(column), ident)
        versions = {str(r[0]) for r in conn.execute(q)}
        if (
            "dirty" in cols and len(versions) <= 1
        ):  # golang-migrate keeps one row: the current version
            return table, versions, next(iter(versions), None)
        return table, versions, None
    return None, set(), None


def _same_version(a: str, b: str) -> bool:
    return (
        a == b
        or version_key(a) == version_key(b)
        or (a.isdigit() and b.isdigit() and int(a) == int(b))
    )


def unmatched_versions(migrations: Sequence[Migration], applied: set[str]) -> list[str]:
    """The history's versions that no migration file has (in version order), compared as
    `first_pending` compares them: diesel's `20190101000000` is the folder
    `2019-01-01-000000_x`."""
    exact = {m.version for m in migrations}
    keys = {version_key(m.version) for m in migrations}
    return sorted(
        (v for v in applied if v not in exact and version_key(v) not in keys), key=version_key
    )


def history_warning(table: str, applied: set[str], unmatched: list[str]) -> str | None:
    """The warning for a history that matches no migration file at all (None otherwise)."""
    if not applied or len(unmatched) < len(applied):
        return None
    shown = ", ".join(repr(v) for v in unmatched[:3]) + (" ..." if len(unmatched) > 3 else "")
    return (
        f"none of the {len(applied)} versions in {table} matches a migration file ({shown}): "
        "every migration is treated as pending and replayed over a schema that may already "
        "hold it; check the migrations folder, history-table and history-version-column"
    )


def first_pending(migrations: Sequence[Migration], applied: set[str], current: str | None) -> int:
    """Pending = not in the history; everything before the first pending one is the baseline.
    (A migration missing from the middle of the history is out of order: it and everything
    after it are traced.)"""
    for i, m in enumerate(migrations):
        if current is not None:
            if m.version_key > version_key(current, m.convention):
                return i
            continue
        if not any(_same_version(m.version, v) for v in applied):
            return i
    return len(migrations)


# -- what the pending migrations touch --------------------------------------------------------


def touched_tables(migrations: Sequence[Migration]) -> list[str]:
    """Tables named anywhere in the pending migrations (display names: `public.` dropped)."""
    names: list[str] = []
    for m in migrations:
        for stmt in m.statements():
            for node in nodes_of(stmt.node, ast.RangeVar):
                name = short(relation_name(node))
                if name not in names:
                    names.append(name)
    return names


# -- copying schema and sample -----------------------------------------------------------------


def _client_env(dsn: str, opts: TargetOptions) -> dict[str, str]:
    """The environment of pg_dump: the password from the DSN only (the CLI folded PGPASSWORD
    into it), never a secret-bearing variable of this process."""
    from pgpreflight.linter.secrets import DSN_ENV, PASSWORD_ENV

    env = {k: v for k, v in os.environ.items() if k not in (PASSWORD_ENV, *DSN_ENV)}
    password = _password(dsn)
    if password:
        env["PGPASSWORD"] = password
    env["PGAPPNAME"] = "pgpreflight"
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    env["PGOPTIONS"] = opts.session_options(read_only=True)
    return env


def _dsn_without_password(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(dsn)
    params.pop("password", None)
    return make_conninfo("", **{k: str(v) for k, v in params.items()})


def copy_schema(server: Any, dsn: str, opts: TargetOptions, dbname: str) -> None:
    """pg_dump --schema-only of the target (read-only, repeatable-read snapshot, waiting at most
    lock_timeout for each table lock) restored into the scratch database."""
    where = describe(dsn)
    with tempfile.TemporaryDirectory(prefix="pgpreflight-dump-") as tmp:
        dump = Path(tmp) / "schema.dump"
        argv = [
            str(server.program("pg_dump")),
            "--schema-only",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--lock-wait-timeout={_pg_duration(opts.lock_timeout)}",
            "--file",
            str(dump),
            "--dbname",
            _dsn_without_password(dsn),
        ]
        try:
            proc = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                env=_client_env(dsn, opts),
                timeout=max(parse_duration(opts.statement_timeout) * 10, 60),
            )
        except subprocess.TimeoutExpired:
            raise PgPreflightError(
                f"target ({where}): pg_dump --schema-only timed out", exit_code=2
            ) from None
        if proc.returncode != 0:
            detail = _scrub(_last_error(proc.stderr), dsn)
            if (
                "lock" in detail and "timeout" in detail.lower()
            ) or "could not obtain lock" in detail:
                detail = f"lock timeout: {detail}"
            raise PgPreflightError(
                f"target ({where}): reading the schema failed: {detail}", exit_code=2
            )
        restore = subprocess.run(
            [
                str(server.program("pg_restore")),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--dbname",
                server.conninfo(dbname),
                str(dump),
            ],
            capture_output=True,
            text=True,
            env=server.client_env(),
            timeout=600,
        )
        if restore.returncode != 0:
            raise PgPreflightError(
                "cannot load the target's schema into the scratch server: "
                f"{_last_error(restore.stderr)}",
                exit_code=2,
            )


def _last_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if "error" in line.lower():
            return line.removeprefix("pg_dump: error: ").removeprefix("pg_restore: error: ")
    return lines[-1] if lines else "failed"


def table_stats(conn: Any, tables: Sequence[str]) -> dict[str, tuple[int, int]]:
    """table -> (reltuples estimate, pg_relation_size) for the tables that exist."""
    out: dict[str, tuple[int, int]] = {}
    for name in tables:
        row = conn.execute(
            "SELECT c.reltuples::bigint, pg_relation_size(c.oid) FROM pg_class c "
            "WHERE c.oid = to_regclass(%s) AND c.relkind IN ('r', 'p', 'm')",
            (name,),
        ).fetchone()
        if row is not None:
            out[name] = (max(int(row[0]), 0), int(row[1]))
    return out


def copy_sample(src: Any, dst: Any, table: str, limit: int, estimate: int) -> int:
    """COPY a bounded sample of `table` from the target into the scratch database."""
    from psycopg import sql

    if limit <= 0:
        return 0
    regclass = _regclass(src, table)
    if regclass is None:
        return 0
    cols = [
        str(r[0])
        for r in src.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
            (regclass,),
        ).fetchall()
    ]
    if not cols:
        return 0
    col_list = sql.SQL(", ").join(sql.Identifier(c) for c in cols)
    rel = sql.SQL(regclass)
    if estimate > limit:
        percent = min(100.0, 100.0 * limit * 3 / estimate)  # SYSTEM samples whole pages
        source = sql.SQL("SELECT {} FROM {} TABLESAMPLE SYSTEM ({}) LIMIT {}").format(
            col_list, rel, sql.Literal(round(percent, 6)), sql.Literal(limit)
        )
    else:
        source = sql.SQL("SELECT {} FROM {} LIMIT {}").format(col_list, rel, sql.Literal(limit))
    copied = 0
    with src.cursor() as rc, dst.cursor() as wc:
        with (
            rc.copy(sql.SQL("COPY ({}) TO STDOUT").format(source)) as out,
            wc.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(rel, col_list)) as inp,
        ):
            for data in out:
                inp.write(data)
        copied = max(int(wc.rowcount), 0)
    return copied


def copy_sequences(src: Any, dst: Any, dsn: str) -> None:
    """pg_dump --schema-only leaves sequences at their start: give the copy the target's
    current values, or the first INSERT of a migration collides with a sampled row."""
    import psycopg
    from psycopg import sql

    try:
        values = catalog.sequence_values(src)
    except psycopg.Error as exc:
        raise target_error(exc, dsn, "reading sequence values") from None
    for name, value in values.items():
        if value is None:
            continue
        regclass = _regclass(dst, name)
        if regclass is not None:
            dst.execute(
                sql.SQL("SELECT setval({}, {})").format(sql.Literal(regclass), sql.Literal(value))
            )


def column_stats(conn: Any, tables: Sequence[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """pg_stats of the touched tables (what the planner knows on the target)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name in tables:
        rows = conn.execute(
            "SELECT s.attname, s.null_frac, s.n_distinct, s.correlation FROM pg_stats s "
            "JOIN pg_class c ON c.relname = s.tablename "
            "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname "
            "WHERE c.oid = to_regclass(%s)",
            (name,),
        ).fetchall()
        if rows:
            out[name] = {
                str(a): {"null_frac": nf, "n_distinct": nd, "correlation": cr}
                for a, nf, nd, cr in rows
            }
    return out


def stat_statements(
    conn: Any, tables: Sequence[str], limit: int = 50
) -> list[dict[str, Any]] | None:
    """The target's most expensive statements that name a touched table, from
    pg_stat_statements when the extension is installed in that database (else None)."""
    if _regclass(conn, "pg_stat_statements") is None or not tables:
        return None
    from pgpreflight.linter.check.session import TAG
    from pgpreflight.linter.explain.workload import is_application_query

    patterns = [f"%{t.rsplit('.', 1)[-1]}%" for t in tables]
    rows = conn.execute(
        "SELECT query, calls, mean_exec_time, rows FROM pg_stat_statements "
        "WHERE query ILIKE ANY(%s) AND query NOT LIKE %s "
        "ORDER BY total_exec_time DESC LIMIT %s",
        (patterns, TAG.strip() + "%", limit * 4),
    ).fetchall()
    return [
        {"query": q, "calls": int(c), "mean_ms": round(float(m), 3), "rows": int(r)}
        for q, c, m, r in rows
        if is_application_query(str(q))  # not ours, not COPY/EXPLAIN/LOCK (pg_dump's)
    ][:limit]


# -- fingerprint (did anything change on the target?) ------------------------------------------


def fingerprint(conn: Any) -> dict[str, Any]:
    """Schema model, per-table row estimates and sequence values: what a run must not change."""
    snap = catalog.schema_snapshot(conn)
    return {
        "schema": {f"{k[0]} {k[1]}": v for k, v in sorted(snap.items())},
        "sequences": catalog.sequence_values(conn),
    }


def sequence_advances(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, value in sorted(after.items()):
        old = before.get(name)
        if value != old:
            out.append({"sequence": name, "before": old, "after": value})
    return out


# -- what rolled-back writes leave behind ------------------------------------------------------

ACTIVITY_FLUSH_S = 3.0
"""How long to wait for the executing session's table statistics to reach the shared counters
after it closed (PostgreSQL 15+ flushes them when the backend exits; older servers send them to
the statistics collector, about half a second late)."""


def table_activity(conn: Any) -> dict[str, tuple[int, int, int, int, int]]:
    """table -> (n_dead_tup, n_tup_ins, n_tup_upd, n_tup_del, n_mod_since_analyze), fresh."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    rows = conn.execute(
        "SELECT schemaname, relname, n_dead_tup, n_tup_ins, n_tup_upd, n_tup_del, "
        "n_mod_since_analyze FROM pg_stat_user_tables"
    ).fetchall()
    return {
        catalog.qualify(str(r[0]), str(r[1])): (
            int(r[2]),
            int(r[3]),
            int(r[4]),
            int(r[5]),
            int(r[6]),
        )
        for r in rows
    }


def transaction_writes(conn: Any) -> dict[str, tuple[int, int, int]]:
    """table -> (inserted, updated, deleted) so far in the session's open transaction."""
    rows = conn.execute(
        "SELECT schemaname, relname, n_tup_ins, n_tup_upd, n_tup_del "
        "FROM pg_stat_xact_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
    ).fetchall()
    return {catalog.qualify(str(r[0]), str(r[1])): (int(r[2]), int(r[3]), int(r[4])) for r in rows}


def _writes_between(
    before: dict[str, tuple[int, int, int]], after: dict[str, tuple[int, int, int]]
) -> list[dict[str, Any]]:
    out = []
    for table, counts in sorted(after.items()):
        old = before.get(table, (0, 0, 0))
        inserted, updated, deleted = (n - o for n, o in zip(counts, old, strict=True))
        if inserted or updated or deleted:
            out.append(
                {"table": table, "inserted": inserted, "updated": updated, "deleted": deleted}
            )
    return out


def rolled_back_writes(
    before: dict[str, tuple[int, int, int, int, int]],
    after: dict[str, tuple[int, int, int, int, int]],
    by_migration: dict[str, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Per table, what the rolled-back writes left: dead tuples (every inserted row and every
    new row version of an UPDATE), the write counters autovacuum and autoanalyze compare with
    their thresholds, and the migrations that wrote there."""
    wrote: dict[str, list[str]] = {}
    expected: dict[str, int] = {}
    for migration, writes in by_migration.items():
        for w in writes:
            wrote.setdefault(w["table"], []).append(migration)
            expected[w["table"]] = expected.get(w["table"], 0) + w["inserted"] + w["updated"]
    out = []
    for table in sorted(set(after) | set(wrote)):
        new = after.get(table)
        old = before.get(table)
        if new is None or old is None:
            continue  # created and dropped again by the rollback
        dead, inserted, updated, deleted, modified = (n - o for n, o in zip(new, old, strict=True))
        if not (dead or inserted or updated or deleted or modified or table in wrote):
            continue
        out.append(
            {
                "table": table,
                "dead_tuples": dead,
                "expected_dead_tuples": expected.get(table, 0),
                "inserted": inserted,
                "updated": updated,
                "deleted": deleted,
                "modified_since_analyze": modified,
                "migrations": wrote.get(table, []),
            }
        )
    return out


def _wait_for_activity(
    conn: Any, before: dict[str, tuple[int, int, int, int, int]], expected: dict[str, int]
) -> dict[str, tuple[int, int, int, int, int]]:
    """The table statistics once the executing session's counts have arrived (or after
    ACTIVITY_FLUSH_S)."""
    deadline = time.monotonic() + ACTIVITY_FLUSH_S
    while True:
        after = table_activity(conn)
        arrived = all(
            after.get(t, before.get(t, (0,) * 5))[0] - before.get(t, (0,) * 5)[0] >= n
            for t, n in expected.items()
            if t in before
        )
        if arrived or time.monotonic() > deadline:
            return after
        time.sleep(0.1)


def _change_phrases(writes: list[dict[str, Any]]) -> list[str]:
    out = []
    for w in writes:
        dead = w["dead_tuples"]
        note = ""
        if dead < w["expected_dead_tuples"]:
            dead, note = w["expected_dead_tuples"], "; statistics not flushed yet, expected"
        if not dead and not w["modified_since_analyze"]:
            continue
        by = f" by {', '.join(w['migrations'])}" if w["migrations"] else ""
        out.append(
            f"{w['table']}: {dead} dead tuples left by rolled-back writes ({w['inserted']} "
            f"inserted, {w['updated']} updated, {w['deleted']} deleted{note}; VACUUM or "
            f"autovacuum reclaims them){by}"
        )
    return out


# -- the run ---------------------------------------------------------------------------------------


def run_target(
    migrations: Sequence[Migration],
    options: CheckOptions,
    opts: TargetOptions,
    server: Any = None,
) -> CheckResult:
    """Read the target, replay it on a scratch server (`server`, or a new one), trace the
    pending migrations there; with `opts.execute`, also on the target, rolled back."""
    import psycopg

    where = describe(opts.dsn)
    notes_later: list[str] = []
    target = connect(opts.dsn, opts, read_only=True)
    try:
        try:
            table, applied, current = read_history(target, opts)
            first = first_pending(migrations, applied, current)
            unapplied_from = first  # migrations before this one are on the target already
            if table is None and (options.since is not None or options.changed is not None):
                # A database without any migration history (a CI service container, a fresh
                # staging database): the baseline is replayed on the scratch copy, never here.
                from pgpreflight.linter.check.runner import select_pending

                first = select_pending(migrations, options)
                unapplied_from = 0
                if opts.execute and first > 0:
                    raise PgPreflightError(
                        f"--execute-on-target: {where.dbname} on {where.host} has no migration "
                        "history, so the pending migrations' baseline is not there; drop "
                        "--execute-on-target (the baseline is then replayed on a scratch copy)"
                    )
            pending = list(migrations[first:])
            tables = touched_tables(pending)
            stats = table_stats(target, tables)
            before = fingerprint(target)
            rows_before = unchanged.snapshot(target, tables, counters=not opts.execute)
            activity_before = table_activity(target) if opts.execute else {}
            target_version = str(target.execute("SHOW server_version").fetchone()[0])
        except psycopg.Error as exc:
            raise target_error(exc, opts.dsn, "reading the target") from None
        info = TargetInfo(
            host=where.host,
            port=where.port,
            dbname=where.dbname,
            user=where.user,
            history_table=table,
            applied=sorted(applied, key=version_key),
            target_rows={t: s[0] for t, s in stats.items()},
            table_bytes={t: s[1] for t, s in stats.items()},
        )
        if table is not None:
            info.history_unmatched = unmatched_versions(migrations, applied)
            info.history_warning = history_warning(table, applied, info.history_unmatched)
        try:
            info.column_stats = column_stats(target, list(stats))
            info.stat_statements = stat_statements(target, list(stats))
        except psycopg.Error as exc:  # statistics are an aid: a missing privilege is a note
            notes_later.append(f"target statistics not read: {_scrub(_first_line(exc), opts.dsn)}")
        mode = "target (execute, rolled back)" if opts.execute else "target (read-only)"
        result = _replay(
            migrations, first, options, opts, target, server, info, mode, unapplied_from
        )
        result.target = info
        result.notes.extend(notes_later)
        if table is None and unapplied_from < first:
            result.notes.append(
                "no migration history table on the target: the baseline was replayed on the "
                "scratch copy, the migrations changed since the ref are pending"
            )
        elif table is None:
            result.notes.append(
                "no migration history table found on the target: every migration is pending"
            )
        result.notes.append(f"target server: PostgreSQL {target_version}")
        if info.history_unmatched and info.history_warning is None:
            shown = ", ".join(info.history_unmatched[:5])
            more = " ..." if len(info.history_unmatched) > 5 else ""
            result.notes.append(
                f"{len(info.history_unmatched)} version(s) in {table} match no migration file: "
                f"{shown}{more}"
            )
        by_migration: dict[str, list[dict[str, Any]]] = {}
        watch: SequenceWatch | None = None
        if opts.execute:
            by_migration, watch = _execute_on_target(
                pending, options, opts, result, migrations[:first], reader=target
            )
        try:
            after = fingerprint(target)
            rows_after = unchanged.snapshot(target, tables, counters=not opts.execute)
            if opts.execute:
                expected: dict[str, int] = {}
                for writes in by_migration.values():
                    for w in writes:
                        expected[w["table"]] = (
                            expected.get(w["table"], 0) + w["inserted"] + w["updated"]
                        )
                activity_after = _wait_for_activity(target, activity_before, expected)
                info.rolled_back_writes = rolled_back_writes(
                    activity_before, activity_after, by_migration
                )
        except psycopg.Error as exc:
            raise target_error(exc, opts.dsn, "re-reading the target") from None
        info.sequence_advances = sequence_advances(before["sequences"], after["sequences"])
        if watch is not None:
            watch.finish(after["sequences"])
            for advance in info.sequence_advances:
                advance["migrations"] = watch.by_sequence.get(advance["sequence"], [])
            for check in result.migrations:
                check.sequence_advances = watch.by_migration.get(check.id, [])
        info.changes = unchanged.compare(rows_before, rows_after)
        info.changes.extend(_change_phrases(info.rolled_back_writes))
        if before["schema"] != after["schema"]:
            info.changes.insert(0, "schema")
            result.notes.append("the target's schema changed during the run (another session?)")
        info.covers = unchanged.covers(rows_before)
        info.unchanged = not info.changes and not info.sequence_advances
        _project(result, info)
        return result
    finally:
        target.close()


def _replay(
    migrations: Sequence[Migration],
    first: int,
    options: CheckOptions,
    opts: TargetOptions,
    target: Any,
    server: Any,
    info: TargetInfo,
    mode: str,
    unapplied_from: int | None = None,
) -> CheckResult:
    import psycopg

    notes: list[str] = []

    def prepare(srv: Any, dbname: str) -> None:
        """The target's schema and sample, loaded by the superuser before any migration
        code runs there (so no trigger or default a migration defines runs with its rights),
        then handed to the migration role; then the unapplied baseline, as that role."""
        copy_schema(srv, opts.dsn, opts, dbname)
        with psycopg.connect(srv.conninfo(dbname), autocommit=True) as dst:
            dst.execute("SET session_replication_role = replica")
            for tbl in touched_tables(migrations[first:]):
                estimate = info.target_rows.get(tbl)
                if estimate is None:
                    continue
                try:
                    info.tables_sampled[tbl] = copy_sample(
                        target, dst, tbl, opts.sample_rows, estimate
                    )
                except psycopg.Error as exc:
                    raise target_error(exc, opts.dsn, f"sampling {tbl}") from None
            copy_sequences(target, dst, opts.dsn)
            dst.execute("ANALYZE")
            if not options.sandbox.superuser:
                for failed in hand_over(dst, options.sandbox.user):
                    notes.append(f"not handed to the migration role: {failed}")
        if unapplied_from is not None and unapplied_from < first:
            from pgpreflight.linter.check.runner import apply_section

            user = options.sandbox.user
            with psycopg.connect(srv.migration_conninfo(dbname, user), autocommit=True) as conn:
                for m in migrations[unapplied_from:first]:
                    notes.extend(
                        apply_section(
                            conn,
                            m,
                            m.up,
                            options.transaction_mode,
                            srv.major_version,
                            options.sandbox,
                            srv.admin_conninfo(dbname),
                        )
                    )

    if server is not None:
        result = _on(server, migrations, first, options, mode, prepare)
        result.notes.extend(notes)
        return result
    from pgpreflight.linter.pgserver import ScratchServer

    started = time.perf_counter()
    with ScratchServer(options.pg_bin, major=options.pg_major) as own:
        result = _on(own, migrations, first, options, mode, prepare)
        if result.server is not None:
            result.server.start_s = round(time.perf_counter() - started, 3)
        result.notes.extend(notes)
        return result


def _on(
    server: Any,
    migrations: Sequence[Migration],
    first: int,
    options: CheckOptions,
    mode: str,
    prepare: Any,
) -> CheckResult:
    import psycopg

    with psycopg.connect(server.dsn) as conn:
        version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    info = ServerInfo(
        role="scratch",
        version=version,
        major=server.major_version,
        source=server.binaries.source if getattr(server, "binaries", None) else None,
        requested=options.pg_requested,
    )
    result = CheckResult(mode=mode, server=info, data="sample of the target")
    return check_on_server(server, migrations, first, options, result, prepare_base=prepare)


class SequenceWatch:
    """Which pending migration advanced which sequence on the target.

    Values are read from the read-only session between migrations (a sequence is not
    transactional: its advance shows there at once). A sequence the executing transaction holds
    a conflicting lock on (ALTER SEQUENCE, a column type change, DROP) would make that read wait,
    so it is skipped until the lock is gone, with the rollback at the latest; an advance seen
    then is put on every migration since it was last read."""

    def __init__(self, reader: Any, pid: int, notes: list[str], dsn: str) -> None:
        self.reader = reader
        self.pid = pid
        self.notes = notes
        self.dsn = dsn
        self.last: dict[str, Any] = {}
        self.since: dict[str, list[str]] = {}
        self.by_sequence: dict[str, list[str]] = {}
        self.by_migration: dict[str, list[dict[str, Any]]] = {}
        self.broken = reader is None

    def _read(self) -> dict[str, Any]:
        import psycopg

        if self.broken:
            return {}
        try:
            # which sequences can be read without waiting (none of the executing transaction's
            # conflicting locks), then their values: two statements, so that the value of a
            # locked one is never asked for
            free = self.reader.execute(
                "SELECT c.oid::text, n.nspname, c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND NOT pg_is_other_temp_schema(n.oid) AND c.oid NOT IN (SELECT l.relation "
                "FROM pg_locks l WHERE l.pid = %s AND l.relation IS NOT NULL AND l.mode IN "
                "('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'))",
                (self.pid,),
            ).fetchall()
            names = {str(r[0]): catalog.qualify(str(r[1]), str(r[2])) for r in free}
            rows = self.reader.execute(
                "SELECT o::text, CASE WHEN has_sequence_privilege(o, 'SELECT,USAGE') "
                "THEN pg_sequence_last_value(o::regclass) END "
                "FROM unnest(%s::text[]::oid[]) AS o",
                (list(names),),
            ).fetchall()
        except psycopg.Error as exc:  # attribution is an aid: a note, not a stop
            self.broken = True
            self.notes.append(
                "sequence values not read between migrations on the target: "
                f"{_scrub(_first_line(exc), self.dsn)}"
            )
            return {}
        return {names[str(r[0])]: r[1] for r in rows}

    def start(self) -> None:
        self.last = self._read()
        self.since = {name: [] for name in self.last}

    def after(self, migration: str) -> None:
        for names in self.since.values():
            names.append(migration)
        self._compare(self._read())

    def finish(self, final: dict[str, Any]) -> None:
        """Attribute what moved between the last reading and `final` (after the rollback)."""
        if not self.broken:
            self._compare(final)

    def _compare(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name not in self.last:
                continue  # created by a migration: gone with the rollback
            old, during = self.last[name], self.since.get(name, [])
            if value != old and during:
                for migration in during:
                    if migration not in self.by_sequence.setdefault(name, []):
                        self.by_sequence[name].append(migration)
                    self.by_migration.setdefault(migration, []).append(
                        {"sequence": name, "before": old, "after": value}
                    )
            self.last[name] = value
            self.since[name] = []


def _execute_on_target(
    pending: Sequence[Migration],
    options: CheckOptions,
    opts: TargetOptions,
    result: CheckResult,
    migrations_before: Sequence[Migration] = (),
    reader: Any = None,
) -> tuple[dict[str, list[dict[str, Any]]], SequenceWatch]:
    """Apply every pending UP on the target in one transaction, traced, then ROLLBACK.

    Returns what a rollback does not undo, by migration: the rows each one wrote (from the
    transaction's own counters), and the watch that tells which migration advanced which
    sequence (read through `reader`, the read-only session; `finish` it with the values read
    after the rollback)."""
    import psycopg

    conn = connect(opts.dsn, opts, read_only=False)
    by_id = {m.id: m for m in result.migrations}
    writes: dict[str, list[dict[str, Any]]] = {}
    watch = SequenceWatch(reader, int(conn.info.backend_pid), result.notes, opts.dsn)
    try:
        major = int(conn.info.server_version) // 10000
        trace_options = TraceOptions(
            transaction_mode="outer",
            server_major=major,
            findings=options.findings,
            rule_claims=options.rule_claims,
            watchdog_s=parse_duration(opts.statement_timeout) + 5,
            poller_connect=lambda: connect(opts.dsn, opts, read_only=True),
            sandbox=None,  # the target's own role and rules apply there
        )
        tracer = SectionTracer(conn, opts.dsn, trace_options)
        model = schema_model(migrations_before)
        conn.execute("BEGIN")
        failed = False
        watch.start()
        for m in pending:
            check = by_id.get(m.id)
            if failed:
                if check is not None:
                    check.notes.append("not run on the target: an earlier migration failed there")
                continue
            counts = transaction_writes(conn)
            section, _ = tracer.run(m, m.up, "up (target)", model)
            if section.status != "error":
                written = _writes_between(counts, transaction_writes(conn))
                if written:
                    writes[m.id] = written
            elif check is not None:
                check.notes.append(
                    "rows it wrote on the target before the error are not counted per "
                    "migration (the table totals include them)"
                )
            watch.after(m.id)
            if check is not None:
                check.target_up = section
                check.target_writes = writes.get(m.id, [])
                skipped = [s for s in section.statements if s.status == "skipped"]
                if skipped:
                    check.notes.append(
                        f"{len(skipped)} statement(s) not run on the target: they cannot run in a "
                        "transaction"
                    )
            if section.status == "error":
                failed = True
                if check is not None and check.status == "passed":
                    check.status = "failed"
    finally:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        conn.close()
    result.notes.append(
        "--execute-on-target: pending migrations ran on the target in one transaction, rolled back"
    )
    return writes, watch


def _project(result: CheckResult, info: TargetInfo) -> None:
    """Scale scratch durations to the target's row counts: measured x target rows / sample rows."""
    for check in result.migrations:
        for section in (check.up, check.down, check.up_again):
            if section is None:
                continue
            for st in section.statements:
                if st.duration_ms is None or st.status != "ok":
                    continue
                table = st.agreement.table if st.agreement and st.agreement.table else None
                if table is None:
                    table = next(
                        (lk.object for lk in st.locks if lk.kind == "table" and not lk.new_object),
                        None,
                    )
                sampled = info.tables_sampled.get(table or "")
                rows = info.target_rows.get(table or "")
                if sampled and rows and rows > sampled:
                    st.projected_ms = round(st.duration_ms * rows / sampled, 1)
                    st.notes.append(
                        f"projection: {st.duration_ms:.1f} ms on {sampled} sampled rows x "
                        f"{rows}/{sampled}"
                    )
