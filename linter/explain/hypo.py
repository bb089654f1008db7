"""Estimates on the target itself, with HypoPG: a plain `EXPLAIN` with each new index created as a
*hypothetical* index, on the target's real statistics.

Read-only target mode never builds anything on the target, and the scratch copy only holds a
sample; when the HypoPG extension is installed on the target, `hypopg_create_index()` lets the
planner consider an index that exists only in our session's memory (nothing is written, nothing
is locked), so the planner's choice and cost on production statistics can be shown next to the
measured evidence -- labelled as an estimate, because nothing is executed (no ANALYZE).

Only SELECT queries are explained; the session is the read-only one of the workload, with its
timeouts, and `hypopg_reset()` drops every hypothetical index before it closes. The queries
come with `$n` placeholders and their values, bound by the server over the extended protocol
(`EXPLAIN` of a SELECT takes parameters there): the values were read from the target's own rows
and are never quoted into the text by us.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
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


Query = tuple[str, str] | tuple[str, str, Sequence[str]]
"""(label, SELECT text) or (label, SELECT with `$n` placeholders, their values)."""


def _raw_cursor(conn: Any) -> Any:
    """A `$n`-placeholder cursor: the target session's guarded one when it has it."""
    from psycopg import RawCursor

    make = getattr(conn, "raw_cursor", None)
    return make() if make is not None else RawCursor(conn)


def _explain_cost(conn: Any, sql: str, params: Sequence[str]) -> tuple[float, list[str]]:
    row = _raw_cursor(conn).execute("EXPLAIN (FORMAT JSON) " + sql, list(params)).fetchone()
    plan = parse_plan(row[0])
    names = [n.index_name for n in plan.nodes() if n.index_name]
    return plan.total_cost, names


def estimate(
    conn: Any, indexes: list[tuple[str, str]], queries: Sequence[Query]
) -> tuple[list[Estimate], str | None]:
    """`indexes` as (name, CREATE INDEX statement), `queries` as (label, SELECT text[, values of
    its `$n` placeholders]).

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
        (q[0], q[1], list(q[2]) if len(q) > 2 else [])
        for q in queries
        if q[1].lstrip().lower().startswith(("select", "with"))
    ]
    out: list[Estimate] = []
    try:
        conn.execute("SELECT hypopg_reset()")
        before: dict[str, tuple[float, list[str]]] = {}
        for label, sql, params in selects:
            try:
                before[label] = _explain_cost(conn, sql, params)
            except psycopg.Error:
                continue
        for name, ddl in indexes:
            conn.execute("SELECT hypopg_reset()")
            created = conn.execute(
                "SELECT indexname FROM hypopg_create_index(%s)", (ddl,)
            ).fetchone()
            hypo_name = str(created[0]) if created else ""
            for label, sql, params in selects:
                if label not in before:
                    continue
                cost, names = _explain_cost(conn, sql, params)
                out.append(Estimate(name, label, before[label][0], cost, hypo_name in names))
    except psycopg.Error as exc:
        return out, f"HypoPG estimate stopped: {str(exc).strip().splitlines()[0]}"
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.execute("SELECT hypopg_reset()")
    return out, None


def read_estimates(
    session: Callable[[], Any], indexes: list[tuple[str, str]], queries: Sequence[Query]
) -> tuple[list[Estimate], str | None]:
    """Estimate in one session on the target (`session()` opens it read-only, tagged and
    time-limited, as every target session is), and close it."""
    import psycopg
    from pgpreflight.linter.errors import PgPreflightError, TargetSessionError

    try:
        with session() as conn:
            return estimate(conn, indexes, queries)
    except TargetSessionError:
        raise  # not read-only, or not answering: the run stops (exit 2), it is no mere note
    except (psycopg.Error, PgPreflightError) as exc:
        return (
            [],
            f"cannot reach the target for HypoPG estimates: {str(exc).strip().splitlines()[0]}",
        )
