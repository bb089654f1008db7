"""Run one query under `EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON)`: warmed once, then
`runs` times, medians kept.

Warming once makes the first measured run read from shared buffers like the others (the scratch
server's cache is cold after the data load); the median of three is robust to one run disturbed
by the machine. A data-changing query runs inside a savepoint (or a transaction) that is always
rolled back, so every run sees the same data and the database is left as it was.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from pgpreflight.linter.explain.plan import Plan, parse_plan


@dataclass
class Measurement:
    execution_ms: float
    shared_blocks: float
    temp_blocks: float
    total_cost: float
    rows: float
    indexes_used: list[str]
    plan: Plan = field(repr=False)
    runs_ms: list[float] = field(default_factory=list)

    def to_dict(self, with_plan: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "execution_ms": round(self.execution_ms, 3),
            "shared_blocks": round(self.shared_blocks),
            "temp_blocks": round(self.temp_blocks),
            "total_cost": round(self.total_cost, 2),
            "rows": round(self.rows, 2),
            "indexes_used": self.indexes_used,
            "runs_ms": [round(r, 3) for r in self.runs_ms],
        }
        if with_plan:
            out["plan"] = self.plan.raw
        return out


def is_dml(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)[0].lower() if sql.strip() else ""
    if head in ("insert", "update", "delete", "merge"):
        return True
    if head == "with":
        lowered = sql.lower()
        return any(
            f" {w} " in lowered or f"({w} " in lowered for w in ("insert", "update", "delete")
        )
    return False


def _explain_once(conn: Any, sql: str, rollback: bool) -> Plan:
    import psycopg

    text = f"EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON) {sql}"
    in_tx = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    if rollback:
        conn.execute("SAVEPOINT pgpreflight_explain" if in_tx else "BEGIN")
    try:
        row = conn.execute(text).fetchone()
    finally:
        if rollback:
            conn.execute("ROLLBACK TO SAVEPOINT pgpreflight_explain" if in_tx else "ROLLBACK")
    return parse_plan(row[0])


def measure(conn: Any, sql: str, runs: int = 3) -> Measurement:
    """Warm once, run `runs` times; medians of time, buffers and temp blocks, the median plan."""
    rollback = is_dml(sql)
    _explain_once(conn, sql, rollback)
    plans = [_explain_once(conn, sql, rollback) for _ in range(max(runs, 1))]
    by_time = sorted(plans, key=lambda p: p.execution_ms)
    median_plan = by_time[len(by_time) // 2]
    return Measurement(
        execution_ms=statistics.median(p.execution_ms for p in plans),
        shared_blocks=statistics.median(p.shared_blocks for p in plans),
        temp_blocks=statistics.median(p.temp_blocks for p in plans),
        total_cost=median_plan.total_cost,
        rows=median_plan.rows,
        indexes_used=median_plan.indexes_used(),
        plan=median_plan,
        runs_ms=[p.execution_ms for p in plans],
    )
