"""Helpers for the `pgpreflight check` tests: a migration from SQL text, a traced section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from linter.check.result import InvalidIndex, SectionTrace
from linter.check.trace import SectionTracer, TraceOptions
from linter.discovery import discover
from linter.migration import Migration


def migration(
    tmp_path: Path, up: str, down: str | None = None, name: str = "202401011200__m"
) -> Migration:
    """One `-- UP` / `-- DOWN` file written to tmp_path and discovered like any other."""
    text = f"-- UP\n{up.strip()}\n"
    if down is not None:
        text += f"\n-- DOWN\n{down.strip()}\n"
    folder = tmp_path / "migrations"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.sql").write_text(text, encoding="utf-8")
    found = [m for m in discover([folder]) if m.id == name]
    assert len(found) == 1
    return found[0]


def trace_up(dsn: str, m: Migration, **options: Any) -> tuple[SectionTrace, list[InvalidIndex]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        major = int(conn.info.server_version) // 10000
        tracer = SectionTracer(conn, dsn, TraceOptions(server_major=major, **options))
        return tracer.run(m, m.up, "up")


def setup(dsn: str, sql: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def table_locks(st: Any, table: str) -> set[str]:
    """Modes of the locks the statement took on a pre-existing table."""
    return {
        lk.mode
        for lk in st.locks
        if lk.locktype == "relation" and lk.object == table and not lk.new_object
    }
