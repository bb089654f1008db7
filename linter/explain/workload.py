"""The target's real workload: `pg_stat_statements` entries that touch the tables the pending
migrations change, ranked by total execution time.

Read on the target in a read-only session (`default_transaction_read_only`, `statement_timeout`
and `lock_timeout` set, `application_name=pgpreflight`); when the extension is not installed or
its view is not readable by our role, there is simply no workload (and a note says why). The
texts come normalised by PostgreSQL (`WHERE id = $1`), which is the form the EXPLAIN step binds
from `pg_stats` like any application query.

pgpreflight's own statements on the target are not the workload, yet pg_stat_statements records
them like any other: every one starts with the `/* pgpreflight */` tag (linter.check.session)
and is left out, and so is every statement that is not a query an application runs (COPY,
EXPLAIN, LOCK, SET, DDL, ... -- pg_dump's too), so a second run never measures the first run's
sampling and EXPLAINs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class Statement:
    query: str
    calls: int
    total_ms: float
    mean_ms: float

    @property
    def label(self) -> str:
        flat = " ".join(self.query.split())
        short = flat if len(flat) <= 60 else flat[:57] + "..."
        return f"pg_stat_statements: {short} ({self.calls:,} calls, {self.total_ms:,.0f} ms total)"


TAG = "/* pgpreflight */"
"""The leading comment of pgpreflight's own statements (linter.check.session.TAG)."""

APPLICATION_VERBS = ("select", "insert", "update", "delete", "merge", "with", "values", "table")

PG_DUMP_SHAPES = ("select last_value, is_called from ",)
"""Queries pg_dump (which we run, and cannot tag) sends that name a user relation."""


def is_application_query(query: str) -> bool:
    """Not one of ours, and a statement an application runs (after any leading comments)."""
    text = query.lstrip()
    if text.startswith(TAG):
        return False
    while text.startswith(("/*", "--")):
        end = text.find("*/") + 2 if text.startswith("/*") else text.find("\n") + 1
        if end <= 1:
            return False
        text = text[end:].lstrip()
    words = text.split(None, 1)
    if " ".join(text.lower().split()).startswith(PG_DUMP_SHAPES):
        return False
    return bool(words) and words[0].lower().rstrip("(") in APPLICATION_VERBS


def _mentions(query: str, tables: list[str]) -> bool:
    lowered = query.lower()
    for table in tables:
        name = table.split(".", 1)[-1].lower()
        if re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", lowered):
            return True
    return False


def top_statements(
    conn: Any, tables: list[str], limit: int = DEFAULT_LIMIT
) -> tuple[list[Statement], str | None]:
    """Top `limit` statements by total time that name one of `tables`; (statements, note)."""
    import psycopg

    try:
        row = conn.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_stat_statements'"
        ).fetchone()
    except psycopg.Error as exc:
        return [], f"cannot read pg_extension: {str(exc).strip().splitlines()[0]}"
    if row is None:
        return [], "pg_stat_statements is not installed on the target"
    schema = str(row[0]).replace('"', '""')
    major = int(conn.info.server_version) // 10000
    total = "total_exec_time" if major >= 13 else "total_time"
    mean = "mean_exec_time" if major >= 13 else "mean_time"
    try:
        rows = conn.execute(
            f'SELECT query, calls, {total}, {mean} FROM "{schema}".pg_stat_statements '
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND query NOT LIKE %s "
            "AND query !~* '^\\s*(explain|analyze|vacuum|set|show|begin|commit|rollback"
            "|create|alter|drop|copy|lock|reset|discard|declare|fetch|close|prepare|deallocate"
            "|execute|grant|revoke|comment|truncate|reindex|cluster|refresh|do|call)\\M' "
            f"ORDER BY {total} DESC LIMIT 500",
            (TAG + "%",),
        ).fetchall()
    except psycopg.Error as exc:
        return [], f"pg_stat_statements is not readable: {str(exc).strip().splitlines()[0]}"
    found = [
        Statement(str(q), int(c), float(t), float(m))
        for q, c, t, m in rows
        if q
        and "<insufficient privilege>" not in q
        and is_application_query(str(q))
        and _mentions(str(q), tables)
    ]
    return found[:limit], None


def read_workload(
    session: Callable[[], Any], tables: list[str], limit: int = DEFAULT_LIMIT
) -> tuple[list[Statement], str | None]:
    """Read the workload in one session on the target (`session()` opens it read-only, tagged
    and time-limited, as every target session is), and close it."""
    import psycopg
    from pgpreflight.linter.errors import PgPreflightError, TargetSessionError

    try:
        with session() as conn:
            return top_statements(conn, tables, limit)
    except TargetSessionError:
        raise  # not read-only, or not answering: the run stops (exit 2), it is no mere note
    except (psycopg.Error, PgPreflightError) as exc:
        return [], f"cannot read the target's workload: {str(exc).strip().splitlines()[0]}"
