"""Text output of the EXPLAIN evidence: one line per index, one per query without a supporting
index, then plan lint. Reads only the evidence dict, so a saved result renders again."""

from __future__ import annotations

from typing import Any


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if value >= 0.05 else f"{value:.2f} ms"


def _bytes(value: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _time(side: dict[str, Any]) -> str:
    """The median time, with the fastest and slowest run when more than one ran."""
    runs = side.get("runs_ms") or []
    median = _ms(side["execution_ms"])
    if runs and _ms(min(runs)) == _ms(max(runs)):
        return median
    return (
        f"{median} ({_ms(min(runs)).removesuffix(' ms')}–{_ms(max(runs))})"
        if len(runs) > 1
        else median
    )


def index_line(entry: dict[str, Any], width: int = 0) -> str:
    """`idx_oficinas_nome_trgm  helps  buffers 4,210 → 37 (×114 fewer)  median time 48.1 ms
    (47.0–49.3 ms) → 0.9 ms (0.8–1.0 ms)`: the verdict in the words of
    `linter/explain/verdict.py` (as the HTML and Markdown reports show it), buffers first because
    they do not move from run to run, time as the median with its spread."""  # noqa: RUF002
    verdict = entry["verdict"]
    label = verdict
    if entry.get("reason") and verdict != "helps":
        label += f" ({entry['reason']})"
    parts = [entry["index"].ljust(width), label]
    before, after = entry.get("before"), entry.get("after")
    if before and after:
        b, a = before["shared_blocks"], after["shared_blocks"]
        fewer = f" (×{b / max(a, 1):,.1f} fewer)" if b > 0 and b / max(a, 1) >= 1.05 else ""
        parts.append(f"buffers {_n(b)} → {_n(a)}{fewer}")
        parts.append(f"median time {_time(before)} → {_time(after)}")
    costs = entry.get("costs") or {}
    extra = []
    if costs.get("build_ms") is not None:
        extra.append(f"build {_ms(costs['build_ms'])}")
    if costs.get("size_bytes"):
        extra.append(f"size {_bytes(costs['size_bytes'])}")
    if costs.get("projected_build_ms") is not None:
        extra.append(
            f"projected to {_n(costs['target_rows'])} rows: "
            f"build {_ms(costs['projected_build_ms'])}, "
            f"size {_bytes(costs['projected_size_bytes'] or 0)}"
        )
    if extra:
        parts.append("(" + ", ".join(extra) + ")")
    return "  ".join(parts)


def render_evidence(evidence: dict[str, Any]) -> str:
    """The EXPLAIN evidence as text; names and SQL escaped as in every text output
    (linter/printable.py)."""
    from pgpreflight.linter.printable import guard_lines, printable_all

    evidence = printable_all(evidence)
    lines: list[str] = []
    data = evidence.get("data") or {}
    source = data.get("source") or "tables as the migrations leave them"
    synth = [s for s in data.get("synthesized") or []]
    made = ", ".join(
        f"{s['table'].removeprefix('public.')} {s['rows']:,} rows"
        + (f" (added to {s['existing']:,})" if s.get("existing") else "")
        for s in synth
        if s["status"] == "generated"
    )
    header = f"EXPLAIN ANALYZE (median of {evidence.get('runs', 3)} runs; data: {source}"
    header += f"; synthesised: {made})" if made else ")"
    lines.append(header)
    for s in synth:
        if s["status"] == "failed":
            lines.append(f"  could not synthesise rows for {s['table']}: {s['reason']}")
        for p in s.get("partial") or []:
            lines.append(
                f"  partial index {p['index'].removeprefix('public.')}: {p['rows']:,} synthesised "
                f"rows ({p['share']:.0%}) satisfy WHERE {p['predicate']}"
            )
        for note in s.get("notes") or []:
            lines.append(f"  synthesis of {s['table']}: {note}")
    indexes = evidence.get("indexes") or []
    width = max((len(e["index"]) for e in indexes), default=0)
    for entry in indexes:
        lines.append("  " + index_line(entry, width))
        if not str(entry.get("reason") or "").startswith("redundant"):
            for r in entry.get("redundant_with") or []:
                lines.append(f"    redundant with new index {r['index']}: {r['why']}")
        for note in entry.get("notes") or []:
            lines.append(f"    {note}")
        for hot in (entry.get("costs") or {}).get("hot_updates_lost") or []:
            lines.append(f"    HOT updates lost: {hot}")
    for gap in evidence.get("unsupported_queries") or []:
        lines.append(
            f"  query {gap['where']} has no supporting index for {gap['predicate']}: "
            f"{gap['suggestion']}"
        )
    hypo = evidence.get("hypothetical") or []
    if hypo:
        lines.append("  HypoPG estimates on the target's statistics (plain EXPLAIN, not executed):")
        for e in hypo:
            use = "uses it" if e["uses_index"] else "does not use it"
            lines.append(
                f"    {e['index']}: {e['query']} {use}; "
                f"cost {e['cost_before']:,.0f} → {e['cost_after']:,.0f}"
            )
    lint = [(q, f) for q in evidence.get("queries") or [] for f in q.get("plan_lint") or []]
    if lint:
        lines.append("  plan lint:")
        for q, f in lint:
            lines.append(f"    {q['label']}: {f['message']}")
    for q in evidence.get("queries") or []:
        if q.get("error"):
            lines.append(f"  {q['label']}: not measured ({q['error']})")
    for note in evidence.get("notes") or []:
        lines.append(f"  note: {note}")
    lines.append(f"  EXPLAIN step took {evidence.get('elapsed_s', 0):.1f} s")
    return guard_lines("\n".join(lines))
