"""Plan lint: what in an after-plan deserves a reviewer's look, each finding pointing at its node.

Every check reads totals from `linter.explain.plan` (per-loop values x loops), never the raw
per-loop numbers, so a nested-loop inner side or a parallel scan is judged on what it really did.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pgpreflight.linter.explain.plan import Plan, PlanNode
from pgpreflight.linter.explain.thresholds import Thresholds

MISESTIMATE = "row-misestimate"
SELECTIVE_SEQ_SCAN = "selective-seq-scan"
FILTER_AFTER_INDEX = "index-filter-removes-most-rows"
SORT_SPILL = "sort-spills-to-disk"
HASH_SPILL = "hash-spills-to-disk"
HEAP_FETCHES = "heavy-heap-fetches"
WORKERS_SHORT = "fewer-workers-launched"


@dataclass(frozen=True)
class PlanFinding:
    kind: str
    node: str
    """Path of the node in the plan tree (`0.1.0`)."""
    label: str
    """`Seq Scan on oficinas`."""
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fmt(n: float) -> str:
    return f"{n:,.0f}" if n >= 100 or float(n).is_integer() else f"{n:,.2f}"


_BLOCKING = ("Sort", "Incremental Sort", "Hash", "Aggregate", "Materialize", "SetOp", "Memoize")


def _child_stops_early(node: PlanNode, index: int, stops_early: bool) -> bool:
    """Whether the parent may stop reading child `index` before it is exhausted: under a Limit,
    the inner side of a semi/anti nested loop, either side of a merge join. A blocking node
    (Sort, Hash, Aggregate...) reads its input to the end, whatever is above it."""
    kind = node.node_type
    if kind == "Limit":
        return True
    if kind in _BLOCKING:
        return False
    if kind == "Nested Loop" and index == 1 and node.raw.get("Join Type") in ("Semi", "Anti"):
        return True
    if kind == "Merge Join":
        return True
    return stops_early


def _misestimates(
    node: PlanNode, t: Thresholds, out: list[PlanFinding], stops_early: bool = False
) -> bool:
    """Report a misestimate where it originates: at a node that is off while its children are
    not (above it, the error is only inherited). Returns whether this subtree is off.

    A node whose parent stopped reading early (a Limit) returns fewer rows than it would have:
    an *over*estimate there is the Limit at work, not the planner's error."""
    children_off = [
        _misestimates(child, t, out, _child_stops_early(node, i, stops_early))
        for i, child in enumerate(node.children)
    ]
    # BitmapAnd/BitmapOr return a bitmap, and EXPLAIN always shows 0 rows for them.
    off = (
        not node.never_executed
        and node.node_type not in ("BitmapAnd", "BitmapOr")
        and node.estimate_factor >= t.misestimate_factor
    )
    if off and stops_early and node.rows_per_loop < node.plan_rows:
        off = False
    if off and not any(children_off):
        direction = "under" if node.rows_per_loop > node.plan_rows else "over"
        out.append(
            PlanFinding(
                MISESTIMATE,
                node.path,
                node.label(),
                f"{node.label()}: planner {direction}estimated rows {node.estimate_factor:.0f}x "
                f"(estimated {_fmt(node.plan_rows)}, actual {_fmt(node.rows_per_loop)} per loop); "
                "ANALYZE the table or add extended statistics on the correlated columns",
            )
        )
    return off or any(children_off)


def lint_plan(plan: Plan, thresholds: Thresholds | None = None) -> list[PlanFinding]:
    t = thresholds or Thresholds()
    out: list[PlanFinding] = []
    _misestimates(plan.root, t, out)
    for node in plan.nodes():
        if node.never_executed:
            continue
        kind = node.node_type
        if kind == "Seq Scan":
            read = node.rows + node.removed_by_filter
            pages = node.exclusive_shared_blocks
            if node.removed_by_filter > 0 and read > 0 and pages >= t.seq_scan_min_pages:
                kept = node.rows / read
                if kept < t.seq_scan_max_selectivity:
                    out.append(
                        PlanFinding(
                            SELECTIVE_SEQ_SCAN,
                            node.path,
                            node.label(),
                            f"{node.label()} keeps {kept:.1%} of {_fmt(read)} rows read "
                            f"from {_fmt(pages)} pages: "
                            "an index on the filtered columns would read a fraction of that",
                        )
                    )
        if kind in ("Index Scan", "Index Only Scan", "Bitmap Heap Scan"):
            fetched = node.rows + node.removed_by_filter
            if (
                fetched >= t.filter_min_rows
                and node.removed_by_filter / fetched >= t.filter_removed_ratio
            ):
                out.append(
                    PlanFinding(
                        FILTER_AFTER_INDEX,
                        node.path,
                        node.label(),
                        f"{node.label()}: the Filter removes "
                        f"{node.removed_by_filter / fetched:.0%} of "
                        f"{_fmt(fetched)} rows fetched; the filtered columns belong in the index",
                    )
                )
        if kind == "Index Only Scan" and node.rows > 0:
            ratio = node.heap_fetches / node.rows
            if node.heap_fetches >= t.heap_fetch_min and ratio >= t.heap_fetch_ratio:
                out.append(
                    PlanFinding(
                        HEAP_FETCHES,
                        node.path,
                        node.label(),
                        f"{node.label()}: {_fmt(node.heap_fetches)} heap fetches "
                        f"for {_fmt(node.rows)} rows "
                        "(the visibility map is not up to date: VACUUM the table)",
                    )
                )
        spilled_sort = node.raw.get("Sort Space Type") == "Disk" or any(
            w.get("Sort Space Type") == "Disk" for w in node.raw.get("Workers") or ()
        )
        if kind in ("Sort", "Incremental Sort") and spilled_sort:
            used = node.raw.get("Sort Space Used")
            out.append(
                PlanFinding(
                    SORT_SPILL,
                    node.path,
                    node.label(),
                    f"{node.label()} spilled to disk ({node.raw.get('Sort Method', 'external')}"
                    f"{f', {used} kB' if used is not None else ''}); "
                    "raise work_mem for this query or sort fewer rows",
                )
            )
        batches = max(
            int(node.raw.get("Hash Batches") or 0), int(node.raw.get("HashAgg Batches") or 0)
        )
        disk = float(node.raw.get("Disk Usage") or 0)
        if kind in ("Hash", "Aggregate") and (batches > 1 or disk > 0):
            out.append(
                PlanFinding(
                    HASH_SPILL,
                    node.path,
                    node.label(),
                    f"{node.label()} spilled to disk in {batches} batches; "
                    "raise work_mem or hash fewer rows",
                )
            )
        planned, launched = node.workers_planned, node.workers_launched
        if planned is not None and launched is not None and launched < planned:
            out.append(
                PlanFinding(
                    WORKERS_SHORT,
                    node.path,
                    node.label(),
                    f"{node.label()}: {launched} of {planned} planned parallel workers launched "
                    "(max_parallel_workers or max_worker_processes exhausted)",
                )
            )
    return out
