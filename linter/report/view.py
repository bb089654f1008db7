"""Shared readings of the result dict for the HTML and Markdown reports.

Small pure helpers: what a lock blocks in words, which findings belong to which migration, the
EXPLAIN evidence per index with its plans, and the plan metrics a reviewer reads (estimated vs
actual rows, loops, buffers, time). They never change the dict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pgpreflight.linter.report.checklist import (
    explain_data,
    explain_evidence,
    explain_status,
    pending_migrations,
)

if TYPE_CHECKING:
    from pgpreflight.linter.report.model import ExplainInfo

MISESTIMATE_FACTOR = 10.0


def blocks_phrase(lock: dict[str, Any]) -> str:
    """'reads and writes', 'writes', 'reads', 'DDL only' or 'nothing' for one recorded lock."""
    if lock.get("new_object"):
        return "nothing (new object)"
    blocks = set(lock.get("blocks") or [])
    reads = "SELECT" in blocks
    writes = "INSERT/UPDATE/DELETE" in blocks
    if reads and writes:
        return "reads and writes"
    if writes:
        return "writes"
    if reads:
        return "reads"
    return "schema changes only" if blocks else "nothing"


def blocks_level(lock: dict[str, Any]) -> str:
    """A CSS-friendly level: both | writes | ddl | none."""
    phrase = blocks_phrase(lock)
    return {"reads and writes": "both", "writes": "writes", "reads": "both"}.get(
        phrase, "ddl" if phrase == "schema changes only" else "none"
    )


def migration_findings(result: dict[str, Any], migration: dict[str, Any]) -> list[dict[str, Any]]:
    paths = set(migration.get("paths") or [])
    return [f for f in result.get("findings") or [] if f["path"] in paths]


def shown_migrations(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The migrations a report shows a card for: the pending ones (all reported ones for lint)."""
    return pending_migrations(result)


def loose_findings(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Findings in files that no shown migration owns (configuration, history files)."""
    owned = {p for m in shown_migrations(result) for p in m.get("paths") or []}
    return [f for f in result.get("findings") or [] if f["path"] not in owned]


def rules_by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in result.get("rules") or []}


def plan_root(side: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The top plan node and the top-level figures (Execution Time, Planning Time) of one side of
    a before/after pair, whether stored raw (EXPLAIN's JSON list) or under a 'plan' key."""
    if isinstance(side, list):
        side = side[0] if side else None
    if not isinstance(side, dict):
        return None, {}
    if "Plan" in side:
        return side["Plan"], side
    for key in ("plan", "explain", "json"):
        if key in side:
            node, top = plan_root(side[key])
            merged = {**top, **{k: v for k, v in side.items() if k != key}}
            return node, merged
    if "Node Type" in side:
        return side, {}
    return None, side


def execution_ms(top: dict[str, Any]) -> float | None:
    for key in ("median_ms", "execution_ms", "Execution Time", "time_ms"):
        value = top.get(key)
        if isinstance(value, (int, float)):
            return float(value)
    return None


def buffers_total(node: dict[str, Any] | None) -> int | None:
    if not node:
        return None
    keys = ("Shared Hit Blocks", "Shared Read Blocks")
    if not any(k in node for k in keys):
        return None
    return int(sum(node.get(k) or 0 for k in keys))


def misestimate(node: dict[str, Any]) -> float | None:
    """How many times the estimate was off (per loop), when the node ran."""
    est, act, loops = node.get("Plan Rows"), node.get("Actual Rows"), node.get("Actual Loops")
    if not isinstance(est, (int, float)) or not isinstance(act, (int, float)) or not loops:
        return None
    hi, lo = max(est, act), min(est, act)
    return hi / max(lo, 1.0)


def plan_node_view(node: dict[str, Any]) -> dict[str, Any]:
    """What one tree row shows; totals are per-loop figures times loops."""
    loops = node.get("Actual Loops")
    per_loop_ms = node.get("Actual Total Time")
    total_ms = (
        per_loop_ms * loops
        if isinstance(per_loop_ms, (int, float)) and isinstance(loops, (int, float))
        else None
    )
    factor = misestimate(node)
    hit, read = node.get("Shared Hit Blocks"), node.get("Shared Read Blocks")
    temp = (node.get("Temp Read Blocks") or 0) + (node.get("Temp Written Blocks") or 0)
    uses_index = node.get("Node Type") in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
    return {
        "type": node.get("Node Type", "?"),
        "strategy": node.get("Strategy") if node.get("Node Type") == "Aggregate" else None,
        "join": node.get("Join Type"),
        "relation": node.get("Relation Name"),
        "alias": node.get("Alias") if node.get("Alias") != node.get("Relation Name") else None,
        "index": node.get("Index Name"),
        "uses_index": uses_index,
        "est_rows": node.get("Plan Rows"),
        "act_rows": node.get("Actual Rows"),
        "loops": loops,
        "misestimate": factor,
        "misestimated": factor is not None and factor >= MISESTIMATE_FACTOR,
        "hit": hit,
        "read": read,
        "temp": temp or None,
        "total_ms": total_ms,
        "never_executed": loops == 0,
        "detail": node.get("Index Cond")
        or node.get("Recheck Cond")
        or node.get("Hash Cond")
        or node.get("Filter")
        or (", ".join(node["Sort Key"]) if node.get("Sort Key") else None),
        "removed": node.get("Rows Removed by Filter") or node.get("Rows Removed by Index Recheck"),
        "children": [plan_node_view(c) for c in node.get("Plans") or []],
    }


def time_spread(side: Any) -> tuple[float, float] | None:
    """Fastest and slowest of the measured runs of one side, when the runs were kept: the
    median's neighbourhood, so a reader sees how much the time moved between runs."""
    _, top = plan_root(side)
    runs = [r for r in top.get("runs_ms") or [] if isinstance(r, (int, float))]
    return (float(min(runs)), float(max(runs))) if len(runs) > 1 else None


def buffer_ratio(before: Any, after: Any) -> float | None:
    """How many times fewer shared buffers the after-plan touched (deterministic, unlike time)."""
    if isinstance(before, (int, float)) and isinstance(after, (int, float)) and before > 0:
        return float(before) / max(float(after), 1.0)
    return None


def _side(side: Any) -> tuple[dict[str, Any] | None, float | None, int | None]:
    """Plan root, execution time and shared buffers of one side (a measurement or raw EXPLAIN)."""
    node, top = plan_root(side)
    buffers = (
        top.get("shared_blocks")
        if isinstance(top.get("shared_blocks"), (int, float))
        else buffers_total(node)
    )
    return node, execution_ms(top), buffers


def _query_view(q: dict[str, Any]) -> dict[str, Any]:
    before_node, b_ms, b_buf = _side(q.get("before"))
    after_node, a_ms, a_buf = _side(q.get("after"))
    speedup = q.get("speedup")
    if not isinstance(speedup, (int, float)) and b_ms and a_ms:
        speedup = b_ms / a_ms
    return {
        "sql": q.get("sql") or q.get("query") or q.get("text") or "",
        "source": q.get("where") or q.get("source") or q.get("origin"),
        "label": q.get("label") or q.get("kind"),
        "before": plan_node_view(before_node) if before_node else None,
        "after": plan_node_view(after_node) if after_node else None,
        "measured": q.get("before") is not None or q.get("after") is not None,
        "before_ms": b_ms,
        "after_ms": a_ms,
        "before_buffers": b_buf,
        "after_buffers": a_buf,
        "before_spread": time_spread(q.get("before")),
        "after_spread": time_spread(q.get("after")),
        "buffer_ratio": buffer_ratio(b_buf, a_buf),
        "speedup": speedup if isinstance(speedup, (int, float)) else None,
        "verdict": q.get("verdict"),
        "error": q.get("error"),
        "plan_lint": [f for f in q.get("plan_lint") or [] if isinstance(f, dict)],
    }


def _bare(name: Any) -> str:
    return str(name or "").rpartition(".")[2]


def explain_section(result: dict[str, Any]) -> ExplainInfo:
    """The EXPLAIN evidence as a whole: data used, notes, queries no index serves; not
    `recorded` when the check kept none in its own form."""
    from pgpreflight.linter.explain.synthesis import TableSynthesis
    from pgpreflight.linter.report.model import ExplainInfo, filled

    explain = (result.get("check") or {}).get("explain")
    if not isinstance(explain, dict):
        return ExplainInfo()
    data = explain.get("data") or {}
    return ExplainInfo(
        recorded=True,
        data_source=data.get("source"),
        data_kind=explain_data(result),
        synthesized=[
            filled(TableSynthesis, t) if isinstance(t, dict) else t
            for t in data.get("synthesized") or []
        ],
        notes=explain.get("notes") or [],
        unsupported=explain.get("unsupported_queries") or [],
        runs=explain.get("runs"),
        elapsed_s=explain.get("elapsed_s"),
    )


_BEST_KEYS = (
    "before_ms",
    "after_ms",
    "before_buffers",
    "after_buffers",
    "before_spread",
    "after_spread",
    "buffer_ratio",
)


def explain_views(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per index: name, table, migration, verdict, reason, costs and its queries with both plans.

    Reads the check's evidence (`check.explain`: `{"indexes": [...], "queries": [...]}`, where an
    index's queries are the probes made for it and the queries that used it) and also a plain
    list of indexes each carrying its `queries`."""
    explain = (result.get("check") or {}).get("explain")
    all_queries = explain.get("queries") or [] if isinstance(explain, dict) else []
    owner = {
        _bare(ix.get("name")): m["id"]
        for m in result.get("migrations") or []
        for ix in m.get("new_indexes") or []
    }
    out = []
    for e in explain_evidence(result):
        name = e.get("index") or e.get("name")
        queries = e.get("queries") or e.get("probes")
        if queries is None:
            used_by = set(e.get("used_by") or [])
            queries = [
                q
                for q in all_queries
                if isinstance(q, dict)
                and (
                    _bare(q.get("index")) == _bare(name)
                    or q.get("label") in used_by
                    or q.get("label") == e.get("best_query")
                )
            ]
        views = [_query_view(q) for q in queries if isinstance(q, dict)]
        speedup = e.get("speedup")
        if not isinstance(speedup, (int, float)):
            b, a = execution_ms(e.get("before") or {}), execution_ms(e.get("after") or {})
            speedup = b / a if b and a else None
        costs = e.get("costs") or {}
        # the figures the card leads with; all None when nothing was measured
        best: dict[str, Any] = dict.fromkeys(_BEST_KEYS)
        if isinstance(e.get("before"), dict) or isinstance(e.get("after"), dict):
            _, b_ms, b_buf = _side(e.get("before"))
            _, a_ms, a_buf = _side(e.get("after"))
            best = {
                "before_ms": b_ms,
                "after_ms": a_ms,
                "before_buffers": b_buf,
                "after_buffers": a_buf,
                "before_spread": time_spread(e.get("before")),
                "after_spread": time_spread(e.get("after")),
                "buffer_ratio": buffer_ratio(b_buf, a_buf),
            }
        elif views:
            best = {k: views[0][k] for k in _BEST_KEYS}
        out.append(
            {
                "index": name,
                "table": e.get("table"),
                "definition": e.get("definition"),
                "migration": e.get("migration") or owner.get(_bare(name)),
                "verdict": e.get("verdict") or "not run",
                "status": explain_status(e.get("verdict")),
                "reason": e.get("reason"),
                "speedup": speedup,
                "build_ms": costs.get("build_ms", e.get("build_ms")),
                "size_bytes": costs.get("size_bytes", e.get("size_bytes")),
                "projected_build_ms": costs.get("projected_build_ms"),
                "projected_size_bytes": costs.get("projected_size_bytes"),
                "table_rows": costs.get("table_rows"),
                "target_rows": costs.get("target_rows"),
                "hot_updates_lost": costs.get("hot_updates_lost") or [],
                "used_by": e.get("used_by") or [],
                "redundant_with": [r for r in e.get("redundant_with") or [] if isinstance(r, dict)],
                "predicate_rows": e.get("predicate_rows"),
                "notes": e.get("notes") or [],
                "queries": views,
                "best": best,
            }
        )
    return out


def fmt_bytes(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return str(value)


def fmt_time(ms: Any, spread: Any) -> str:
    """A median time with the range of its runs: `1.52 ms (1.40–1.71)`."""  # noqa: RUF002
    if not spread:
        return fmt_ms(ms)
    lo, hi = spread
    if fmt_ms(lo) == fmt_ms(hi):
        return fmt_ms(ms)
    return f"{fmt_ms(ms)} ({fmt_ms(lo).removesuffix(' ms')}–{fmt_ms(hi)})"


def fmt_ms(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    if value >= 1000:
        return f"{value / 1000:,.2f} s"
    if value >= 10:
        return f"{value:,.0f} ms"
    return f"{value:,.2f} ms"


def fmt_int(value: Any) -> str:
    return f"{value:,.0f}" if isinstance(value, (int, float)) else "–"
