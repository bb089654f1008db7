"""Helpers for the `pgpreflight check` tests: a migration from SQL text, a traced section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from pgpreflight.linter.check.result import InvalidIndex, SectionTrace
from pgpreflight.linter.check.trace import SectionTracer, TraceOptions
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.migration import Migration


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


def schema_model(sql: str) -> Any:
    """The static schema model after `sql` (what the static predictions see)."""
    from pglast import parse_sql
    from pgpreflight.linter.schema import SchemaModel

    model = SchemaModel()
    for raw in parse_sql(sql):
        model.apply(raw.stmt)
    return model


def trace_up(
    dsn: str, m: Migration, schema_sql: str | None = None, **options: Any
) -> tuple[SectionTrace, list[InvalidIndex]]:
    model = schema_model(schema_sql) if schema_sql else None
    with psycopg.connect(dsn, autocommit=True) as conn:
        major = int(conn.info.server_version) // 10000
        tracer = SectionTracer(conn, dsn, TraceOptions(server_major=major, **options))
        return tracer.run(m, m.up, "up", model)


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
