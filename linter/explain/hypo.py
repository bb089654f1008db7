"""Estimates on the target itself, with HypoPG: a plain `EXPLAIN` with each new index created as a
*hypothetical* index, on the target's real statistics.

Read-only target mode never builds anything on the target, and the scratch copy only holds a
sample; when the HypoPG extension is installed on the target, `hypopg_create_index()` lets the
planner consider an index that exists only in our session's memory (nothing is written, nothing
is locked), so the planner's choice and cost on production statistics can be shown next to the
measured evidence -- labelled as an estimate, because nothing is executed (no ANALYZE).

Only SELECT queries are explained; the session is the read-only one of the workload, with its
timeouts, and `hypopg_reset()` drops every hypothetical index before it closes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from pgpreflight.linter.explain.plan import parse_plan


@dataclass(frozen=True)
class Estimate:
    index: str
    query: str
    cost_before: float
    cost_after: float
    uses_index: bool
    label: str = "estimate (HypoPG on the target's statistics, not executed)"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _explain_cost(conn: Any, sql: str) -> tuple[float, list[str]]:
    row = conn.execute(f"EXPLAIN (FORMAT JSON) {sql}").fetchone()
    plan = parse_plan(row[0])
    names = [n.index_name for n in plan.nodes() if n.index_name]
    return plan.total_cost, names


def estimate(
    conn: Any, indexes: list[tuple[str, str]], queries: list[tuple[str, str]]
) -> tuple[list[Estimate], str | None]:
    """`indexes` as (name, CREATE INDEX statement), `queries` as (label, SELECT text).

    Returns one estimate per (index, query) where the query reads the index's table, and a note
    when HypoPG is not available."""
    import psycopg

    try:
        row = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'").fetchone()
    except psycopg.Error as exc:
        return [], f"cannot read pg_extension: {str(exc).strip().splitlines()[0]}"
    if row is None:
        return [], "HypoPG is not installed on the target: no estimate on production statistics"
    selects = [
        (label, sql)
        for label, sql in queries
        if sql.lstrip().lower().startswith(("select", "with"))
    ]
    out: list[Estimate] = []
    try:
        conn.execute("SELECT hypopg_reset()")
        before: dict[str, tuple[float, list[str]]] = {}
        for label, sql in selects:
            try:
                before[label] = _explain_cost(conn, sql)
            except psycopg.Error:
                continue
        for name, ddl in indexes:
            conn.execute("SELECT hypopg_reset()")
            created = conn.execute(
                "SELECT indexname FROM hypopg_create_index(%s)", (ddl,)
            ).fetchone()
            hypo_name = str(created[0]) if created else ""
            for label, sql in selects:
                if label not in before:
                    continue
                cost, names = _explain_cost(conn, sql)
                out.append(Estimate(name, label, before[label][0], cost, hypo_name in names))
    except psycopg.Error as exc:
        return out, f"HypoPG estimate stopped: {str(exc).strip().splitlines()[0]}"
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.execute("SELECT hypopg_reset()")
    return out, None


def read_estimates(
    session: Callable[[], Any], indexes: list[tuple[str, str]], queries: list[tuple[str, str]]
) -> tuple[list[Estimate], str | None]:
    """Estimate in one session on the target (`session()` opens it read-only, tagged and
    time-limited, as every target session is), and close it."""
    import psycopg
    from pgpreflight.linter.errors import PgPreflightError

    try:
        with session() as conn:
            return estimate(conn, indexes, queries)
    except (psycopg.Error, PgPreflightError) as exc:
        return (
            [],
            f"cannot reach the target for HypoPG estimates: {str(exc).strip().splitlines()[0]}",
        )
