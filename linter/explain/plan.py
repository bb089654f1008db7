"""Read `EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON)` output into nodes with the per-loop
arithmetic done once and right, for PostgreSQL 13 to 18.

What the JSON means (PostgreSQL's explain.c, checked on recorded plans from 15 and 18):

- `Actual Rows`, `Actual Total Time`, `Actual Startup Time` and the `Rows Removed by ...`
  counters are **averages per loop**: totals are value x `Actual Loops`. PostgreSQL 18 prints
  `Actual Rows` with two decimals (255.33), older versions round to an integer (255), so totals
  from 17 and older are approximate by up to `loops` rows.
- Buffer counters (`Shared Hit Blocks`, ..., `Temp Written Blocks`) are **totals** over all loops
  and, on a Gather, over all workers; they include the node's children. PostgreSQL 18 reports
  them even without BUFFERS when ANALYZE is on.
- `Heap Fetches` and 18's `Index Searches` are totals over all loops.
- Below a Gather/Gather Merge, `Actual Loops` counts every process that ran the node (the
  workers launched, plus the leader unless `parallel_leader_participation` is off). Those
  processes run at the same time, so a node's wall-clock share is time x loops / processes, and
  that is what exclusive time (inclusive minus children) is computed from.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SCAN_WITH_INDEX = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")


def _num(raw: dict[str, Any], key: str, default: float = 0.0) -> float:
    value = raw.get(key)
    return float(value) if isinstance(value, (int, float)) else default


@dataclass
class PlanNode:
    """One plan node; per-loop values as PostgreSQL prints them, totals as properties."""

    raw: dict[str, Any] = field(repr=False)
    path: str
    """Position in the tree (`0`, `0.1`, `0.1.0`): where plan lint findings point."""
    children: list[PlanNode] = field(default_factory=list)
    processes: int = 1
    """Processes that ran this node concurrently (1 outside a parallel section)."""

    # -- what PostgreSQL printed ---------------------------------------------------------

    @property
    def node_type(self) -> str:
        return str(self.raw.get("Node Type", "?"))

    @property
    def relation(self) -> str | None:
        rel = self.raw.get("Relation Name")
        return str(rel) if rel else None

    @property
    def index_name(self) -> str | None:
        name = self.raw.get("Index Name")
        return str(name) if name else None

    @property
    def loops(self) -> float:
        return _num(self.raw, "Actual Loops", 1.0)

    @property
    def never_executed(self) -> bool:
        return "Actual Loops" in self.raw and self.loops == 0

    @property
    def plan_rows(self) -> float:
        """The planner's estimate per loop (per process inside a parallel section)."""
        return _num(self.raw, "Plan Rows")

    @property
    def rows_per_loop(self) -> float:
        return _num(self.raw, "Actual Rows")

    @property
    def total_cost(self) -> float:
        return _num(self.raw, "Total Cost")

    # -- totals ------------------------------------------------------------------------------

    @property
    def rows(self) -> float:
        """Rows produced over all loops."""
        return self.rows_per_loop * self.loops

    @property
    def removed_by_filter(self) -> float:
        return _num(self.raw, "Rows Removed by Filter") * self.loops

    @property
    def removed_by_recheck(self) -> float:
        return _num(self.raw, "Rows Removed by Index Recheck") * self.loops

    @property
    def heap_fetches(self) -> float:
        return _num(self.raw, "Heap Fetches")

    @property
    def index_searches(self) -> float | None:
        """PostgreSQL 18+: how many times the index was descended (a total)."""
        value = self.raw.get("Index Searches")
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def inclusive_ms(self) -> float:
        """Wall-clock milliseconds spent in this node and below, over all loops."""
        return _num(self.raw, "Actual Total Time") * self.loops / max(self.processes, 1)

    @property
    def exclusive_ms(self) -> float:
        return max(0.0, self.inclusive_ms - sum(c.inclusive_ms for c in self.children))

    def blocks(self, kind: str = "Shared", what: str = "Hit") -> float:
        return _num(self.raw, f"{kind} {what} Blocks")

    @property
    def shared_blocks(self) -> float:
        """Shared buffers touched (hit + read), this node and below."""
        return self.blocks("Shared", "Hit") + self.blocks("Shared", "Read")

    @property
    def exclusive_shared_blocks(self) -> float:
        return max(0.0, self.shared_blocks - sum(c.shared_blocks for c in self.children))

    @property
    def temp_blocks(self) -> float:
        return self.blocks("Temp", "Read") + self.blocks("Temp", "Written")

    @property
    def exclusive_temp_blocks(self) -> float:
        return max(0.0, self.temp_blocks - sum(c.temp_blocks for c in self.children))

    @property
    def estimate_factor(self) -> float:
        """How far the estimate was off, as a factor >= 1 (rows per loop, both at least 1)."""
        actual = max(self.rows_per_loop, 1.0)
        planned = max(self.plan_rows, 1.0)
        return max(actual, planned) / min(actual, planned)

    @property
    def workers_planned(self) -> int | None:
        value = self.raw.get("Workers Planned")
        return int(value) if isinstance(value, (int, float)) else None

    @property
    def workers_launched(self) -> int | None:
        value = self.raw.get("Workers Launched")
        return int(value) if isinstance(value, (int, float)) else None

    def walk(self) -> Iterator[PlanNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def label(self) -> str:
        """`Index Scan using idx on oficinas` -- how reviewers recognise a node."""
        text = self.node_type
        if self.index_name:
            text += f" using {self.index_name}"
        if self.relation:
            text += f" on {self.relation}"
        return text


@dataclass
class Plan:
    """One EXPLAIN ANALYZE result: the node tree and the statement-level figures."""

    root: PlanNode
    raw: list[dict[str, Any]] | dict[str, Any] = field(repr=False)
    execution_ms: float = 0.0
    planning_ms: float = 0.0
    settings: dict[str, str] = field(default_factory=dict)
    planning_shared_blocks: float = 0.0

    def nodes(self) -> Iterator[PlanNode]:
        return self.root.walk()

    @property
    def shared_blocks(self) -> float:
        """Shared buffers the execution touched (hit + read); planning is counted apart."""
        return self.root.shared_blocks

    @property
    def temp_blocks(self) -> float:
        return self.root.temp_blocks

    @property
    def total_cost(self) -> float:
        return self.root.total_cost

    @property
    def rows(self) -> float:
        return self.root.rows

    def indexes_used(self) -> list[str]:
        """Indexes read by an Index Scan, Index Only Scan or Bitmap Index Scan that ran."""
        seen: list[str] = []
        for node in self.nodes():
            name = node.index_name
            if (
                node.node_type in SCAN_WITH_INDEX
                and name
                and not node.never_executed
                and name not in seen
            ):
                seen.append(name)
        return seen

    def metrics(self) -> dict[str, Any]:
        return {
            "execution_ms": round(self.execution_ms, 3),
            "planning_ms": round(self.planning_ms, 3),
            "total_cost": round(self.total_cost, 2),
            "shared_blocks": round(self.shared_blocks),
            "temp_blocks": round(self.temp_blocks),
            "rows": round(self.rows, 2),
            "indexes_used": self.indexes_used(),
        }


def _build(raw: dict[str, Any], path: str, processes: int, leader: bool) -> PlanNode:
    node = PlanNode(raw=raw, path=path, processes=processes)
    child_processes = processes
    if node.node_type in ("Gather", "Gather Merge"):
        launched = node.workers_launched or 0
        child_processes = launched + (1 if leader or launched == 0 else 0)
    for i, child in enumerate(raw.get("Plans") or ()):
        node.children.append(_build(child, f"{path}.{i}", child_processes, leader))
    return node


def parse_plan(document: Any) -> Plan:
    """A Plan from EXPLAIN's JSON: the list PostgreSQL returns, its first element, or text."""
    if isinstance(document, (str, bytes)):
        document = json.loads(document)
    top = document[0] if isinstance(document, list) else document
    if not isinstance(top, dict) or "Plan" not in top:
        raise ValueError("not the JSON of EXPLAIN (FORMAT JSON): no 'Plan' key")
    settings = {str(k): str(v) for k, v in (top.get("Settings") or {}).items()}
    leader = settings.get("parallel_leader_participation", "on") != "off"
    root = _build(top["Plan"], "0", 1, leader)
    planning = top.get("Planning") or {}
    return Plan(
        root=root,
        raw=document,
        execution_ms=_num(top, "Execution Time"),
        planning_ms=_num(top, "Planning Time"),
        settings=settings,
        planning_shared_blocks=_num(planning, "Shared Hit Blocks")
        + _num(planning, "Shared Read Blocks"),
    )
