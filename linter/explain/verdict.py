"""Verdicts per new index from before/after measurements, and why an index does not pay.

- **used**: the index appears in an Index Scan, Index Only Scan or Bitmap Index Scan node of the
  after-plan of at least one query (probe or application query);
- **helps** (a used index): on some query that uses it, shared buffers touched drop by more than
  `helps-min-buffer-ratio`, or else temp blocks do, or else the median execution time improves by
  more than `helps-min-time-ratio` *and* `helps-min-time-ms` -- and the time does not get worse by
  those same margins. Buffers come first because they do not depend on the machine's load;
- only queries that return rows count: a probe that finds nothing (a partial index whose
  predicate no row satisfies) says nothing about the index, however few buffers it touched; when
  no query returned a row the index is **not measured**, and says why;
- **used, no gain** and **not used** come with the likely reason, checked in this order: another
  new index makes it redundant (its key columns lead that index's, or it is an identical twin),
  its own probes used another new index instead, table too small, another index already served the query before, operator class or
  collation that cannot serve the query's operator, expression not matching, leading column
  absent from the queries, low selectivity, and otherwise the planner's cost comparison. A
  redundant index that does help is still named as such (`redundant_with`);
- **costs**: build time and size on the data used (projected linearly to the target's row count
  when it is known), and UPDATE queries that set an indexed column (those updates are no longer
  HOT: every one of them now writes a new entry in each index).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pgpreflight.linter.explain.measure import Measurement, is_dml
from pgpreflight.linter.explain.probes import IndexInfo
from pgpreflight.linter.explain.thresholds import Thresholds

HELPS = "helps"
NO_GAIN = "used, no gain"
NOT_USED = "not used"
NOT_MEASURED = "not measured"

SAME_KEYS = "the same key columns"


@dataclass
class QueryRun:
    """One query measured before and after the new indexes exist."""

    label: str
    sql: str
    origin: str
    """`probe`, `application` (then `where` says file:line) or `workload` (pg_stat_statements)."""
    where: str | None = None
    name: str | None = None
    """Application queries: the `-- name:` above the query, when there is one."""
    index: str | None = None
    """For probes: the index the probe was made for."""
    kind: str | None = None
    """For probes: `equality-selective`, `range`, `trigram`, ..."""
    tables: list[str] = field(default_factory=list)
    before: Measurement | None = None
    after: Measurement | None = None
    error: str | None = None
    plan_findings: list[Any] = field(default_factory=list)
    bound: dict[str, str] = field(default_factory=dict)
    unbound: list[str] = field(default_factory=list)
    columns: list[tuple[str, str, str]] = field(default_factory=list)
    """(table, column, predicate kind) the query filters on, from the static analysis."""
    template: str | None = None
    """`sql` with `$n` placeholders for its values (`params`): the form sent to a target."""
    params: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "sql": self.sql,
            "origin": self.origin,
            "where": self.where,
            "name": self.name,
            "index": self.index,
            "kind": self.kind,
            "error": self.error,
            "bound": self.bound,
            "unbound": self.unbound,
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None,
            "plan_lint": [f.to_dict() for f in self.plan_findings],
        }


@dataclass
class Gain:
    helps: bool
    why: str


def _share(before: float, after: float) -> float:
    """Relative drop from `before` to `after` (negative when it grew)."""
    return (before - after) / before if before > 0 else (0.0 if after <= 0 else -1.0)


def gain(before: Measurement, after: Measurement, t: Thresholds) -> Gain:
    """Whether `after` is better than `before`, deciding in the issue's order.

    Shared buffers touched decide first: a drop of more than `helps-min-buffer-ratio` helps, a
    rise of as much does not. When they stay within that margin, temp blocks decide the same
    way; when those do too (and neither grew at all), the median time must improve by more than
    `helps-min-time-ratio` and `helps-min-time-ms` -- and every after-run must beat every
    before-run, so that one noisy run on a busy machine cannot make an index look useful."""
    buffers = _share(before.shared_blocks, after.shared_blocks)
    if buffers > t.helps_min_buffer_ratio:
        return Gain(True, "buffers")
    if buffers < -t.helps_min_buffer_ratio:
        return Gain(False, "more buffers")
    temp = _share(before.temp_blocks, after.temp_blocks)
    if temp > t.helps_min_buffer_ratio:
        return Gain(True, "temp blocks")
    if temp < -t.helps_min_buffer_ratio:
        return Gain(False, "more temp blocks")
    if after.shared_blocks > before.shared_blocks or after.temp_blocks > before.temp_blocks:
        # Touching more pages than before and finishing sooner is CPU or cache luck, not
        # something the index bought (a bitmap scan over 40% of a table does exactly that).
        return Gain(False, "no fewer buffers")
    dt = before.execution_ms - after.execution_ms
    if dt > t.helps_min_time_ms and dt > t.helps_min_time_ratio * before.execution_ms:
        if not before.runs_ms or not after.runs_ms or max(after.runs_ms) < min(before.runs_ms):
            return Gain(True, "time")
        return Gain(False, "time within noise")
    return Gain(False, "no measurable difference")


@dataclass
class IndexVerdict:
    index: IndexInfo
    verdict: str
    reason: str | None = None
    best: QueryRun | None = None
    """The query where the index did best (or the first one measured)."""
    used_by: list[str] = field(default_factory=list)
    table_rows: float = 0.0
    table_pages: float = 0.0
    projected_build_ms: float | None = None
    projected_size_bytes: float | None = None
    target_rows: float | None = None
    hot_updates: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    redundant_with: list[tuple[str, str]] = field(default_factory=list)
    """(other new index, why): new indexes that serve what this one serves."""

    @property
    def used(self) -> bool:
        return self.verdict in (HELPS, NO_GAIN)

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "index": self.index.short,
            "table": self.index.table,
            "definition": self.index.definition,
            "verdict": self.verdict,
            "used": self.used,
            "helps": self.verdict == HELPS,
            "reason": self.reason,
            "used_by": self.used_by,
            "best_query": best.label if best else None,
            "before": best.before.to_dict(with_plan=False) if best and best.before else None,
            "after": best.after.to_dict(with_plan=False) if best and best.after else None,
            "costs": {
                "build_ms": None if self.index.build_ms is None else round(self.index.build_ms, 2),
                "size_bytes": self.index.size_bytes,
                "table_rows": int(self.table_rows),
                "target_rows": None if self.target_rows is None else int(self.target_rows),
                "projected_build_ms": None
                if self.projected_build_ms is None
                else round(self.projected_build_ms, 1),
                "projected_size_bytes": None
                if self.projected_size_bytes is None
                else int(self.projected_size_bytes),
                "hot_updates_lost": self.hot_updates,
            },
            "predicate_rows": self.index.predicate_rows,
            "redundant_with": [{"index": i, "why": why} for i, why in self.redundant_with],
            "notes": self.notes,
        }


def _bare(name: str) -> str:
    return name.split(".", 1)[1] if "." in name else name


def _improvement(run: QueryRun) -> float:
    assert run.before is not None and run.after is not None
    return (
        run.before.shared_blocks
        - run.after.shared_blocks
        + (run.before.execution_ms - run.after.execution_ms)
    )


def _reason_unused(
    index: IndexInfo, runs: list[QueryRun], pages: float, rows: float, t: Thresholds
) -> str:
    from pgpreflight.linter.queries.predicates import PREFIX_LIKE, TRIGRAM

    lead = index.keys[0] if index.keys else None
    if pages < t.small_table_pages:
        return f"table too small ({pages:.0f} pages): reading it whole is cheaper than any index"
    relevant = [r for r in runs if r.after is not None]
    before_other = [
        r for r in relevant if r.before and r.before.indexes_used and r.index == index.name
    ]
    pairs = [
        (r.before, r.after) for r in before_other if r.before is not None and r.after is not None
    ]
    if pairs and all(set(a.indexes_used) == set(b.indexes_used) for b, a in pairs):
        others = sorted({i for b, _ in pairs for i in b.indexes_used})
        return f"already served by {', '.join(others)}"
    if lead is not None and lead.column is not None:
        kinds = {
            k
            for r in runs
            for (tbl, col, k) in r.columns
            if tbl == index.table and col == lead.column
        }
        if TRIGRAM in kinds and not index.trigram:
            return (
                f"operator class mismatch: queries search {lead.column} with ILIKE/infix LIKE, "
                f"which "
                f"{index.method} {lead.opclass or ''} cannot serve (needs gin_trgm_ops)"
            ).replace("  ", " ")
        if (
            PREFIX_LIKE in kinds
            and index.method == "btree"
            and not lead.opclass.endswith("pattern_ops")
        ):
            return (
                f"operator class/collation mismatch: LIKE 'prefix%' on {lead.column} "
                'needs text_pattern_ops or COLLATE "C"'
            )
    if lead is not None and lead.column is None:
        app_exprs = [
            c
            for r in runs
            if r.origin != "probe"
            for c in r.columns
            if c[0] == index.table and c[2] == "expression"
        ]
        if app_exprs:
            return (
                f"expression not matching: the queries use a different expression than {lead.text}"
            )
    app = [r for r in runs if r.origin != "probe"]
    if (
        lead is not None
        and lead.column is not None
        and app
        and not any(c[0] == index.table and c[1] == lead.column for r in app for c in r.columns)
    ):
        note = f"leading column {lead.column} absent from the application queries"
    else:
        note = ""
    probe_rows = [
        r.after.rows
        for r in relevant
        if r.index == index.name
        and r.after
        and (r.kind or "").startswith(("equality", "trigram", "range", "fulltext", "contains"))
    ]
    if rows > 0 and probe_rows and min(probe_rows) / rows > t.low_selectivity:
        share = min(probe_rows) / rows
        return f"low selectivity: even the most selective probe returns {share:.0%} of the rows" + (
            f"; {note}" if note else ""
        )
    if note:
        return note
    costs = [(r.after.total_cost) for r in relevant if r.index == index.name and r.after]
    if costs:
        return f"the planner costs the plan without it lower (after-plan cost {min(costs):,.0f})"
    return "no query exercised it"


def _keys(index: IndexInfo) -> list[tuple[str, str, bool]]:
    return [(k.text, k.opclass, k.descending) for k in index.keys]


def covering(index: IndexInfo, others: list[IndexInfo]) -> list[tuple[IndexInfo, str]]:
    """The other new indexes that serve whatever `index` serves: same table, access method and
    predicate, and `index`'s key columns (operator classes and directions included) lead theirs.
    Identical twins cover each other (`decide` keeps one of the two), and a unique index covers
    a plain one on the same columns. A unique index is covered only by an identical unique one
    (it enforces something a longer key does not), an index with INCLUDE columns only by an
    identical one (index-only scans)."""
    out: list[tuple[IndexInfo, str]] = []
    mine = _keys(index)
    for other in others:
        if other is index or other.table != index.table or other.method != index.method:
            continue
        if (other.predicate or "") != (index.predicate or ""):
            continue
        theirs = _keys(other)
        if theirs == mine and not (index.included or other.included):
            if other.unique == index.unique:
                out.append((other, SAME_KEYS))
            elif other.unique:  # a plain index beside a unique one on the same columns
                out.append((other, "the same key columns, and that index is unique"))
            continue
        prefix = (
            index.method == "btree"
            and not index.unique
            and not index.included
            and len(theirs) > len(mine)
            and theirs[: len(mine)] == mine
        )
        if prefix:
            cols = ", ".join(k.text for k in index.keys)
            out.append((other, f"its key columns ({cols}) lead that index's"))
    return out


def decide(
    index: IndexInfo,
    runs: list[QueryRun],
    table_rows: float,
    table_pages: float,
    thresholds: Thresholds,
    target_rows: float | None = None,
    covered_by: list[tuple[IndexInfo, str]] | None = None,
    new_indexes: set[str] | None = None,
) -> IndexVerdict:
    """The verdict for `index` from the queries that exercised it. `covered_by` (from
    `covering`) and `new_indexes` (bare names of every new index) let the verdict name another
    new index that makes this one redundant."""
    name = _bare(index.name)
    measured = [r for r in runs if r.before is not None and r.after is not None]
    empty = [r for r in measured if r.after is not None and r.after.rows <= 0 and not is_dml(r.sql)]
    counted = [r for r in measured if r not in empty]
    users = [r for r in counted if name in (r.after.indexes_used if r.after else [])]
    verdict = IndexVerdict(
        index, NOT_MEASURED, table_rows=table_rows, table_pages=table_pages, target_rows=target_rows
    )
    verdict.used_by = [r.label for r in users]
    verdict.redundant_with = [(_bare(o.name), why) for o, why in covered_by or []]
    if empty:
        labels = "; ".join(r.label for r in empty[:3]) + (" ..." if len(empty) > 3 else "")
        verdict.notes.append(
            f"{len(empty)} quer{'y' if len(empty) == 1 else 'ies'} returned no rows on the data "
            f"used and do not count: {labels}"
        )
    if target_rows is not None and table_rows > 0:
        factor = target_rows / table_rows
        verdict.projected_build_ms = index.build_ms * factor if index.build_ms is not None else None
        verdict.projected_size_bytes = index.size_bytes * factor
    if not measured:
        verdict.reason = "no query could be measured"
        return verdict
    if not counted:
        verdict.reason = "every query returned no rows on the data used"
        if index.predicate_rows == 0:
            verdict.reason = (
                f"no row of the data used satisfies its predicate (WHERE {index.predicate}): "
                "every probe returned no rows"
            )
        return verdict
    # twins: the one the queries used keeps its verdict and the other is the redundant one;
    # when the queries tell them apart in neither direction, the later one is
    for twin in [o for o, why in covered_by or [] if why == SAME_KEYS]:
        twin_used = any(
            _bare(twin.name) in (r.after.indexes_used if r.after else []) for r in counted
        )
        if (users and not twin_used) or (bool(users) == twin_used and twin.oid > index.oid):
            verdict.redundant_with.remove((_bare(twin.name), SAME_KEYS))
    instead = sorted(
        {
            i
            for r in counted
            if r.index == index.name and r.after
            for i in r.after.indexes_used
            if i != name and new_indexes and i in new_indexes
        }
    )
    if users:
        gains = [(gain(r.before, r.after, thresholds), r) for r in users]  # type: ignore[arg-type]
        helping = [r for g, r in gains if g.helps]
        if helping:
            verdict.verdict = HELPS
            verdict.best = max(helping, key=_improvement)
            return verdict
        verdict.verdict = NO_GAIN
        verdict.best = max(users, key=_improvement)
        if verdict.redundant_with:
            verdict.reason = _redundant_reason(verdict.redundant_with)
        elif table_pages < thresholds.small_table_pages:
            verdict.reason = f"table too small ({table_pages:.0f} pages)"
        else:
            before_idx = sorted(
                {i for r in users for i in (r.before.indexes_used if r.before else []) if i != name}
            )
            verdict.reason = (
                f"the query was already served by {', '.join(before_idx)}"
                if before_idx
                else "low selectivity: the index reads about as many pages as the scan it replaces"
            )
        return verdict
    verdict.verdict = NOT_USED
    probe_runs = [r for r in counted if r.index == index.name] or counted
    verdict.best = probe_runs[0]
    served = [i for i in instead if i not in {o for o, _ in verdict.redundant_with}]
    if verdict.redundant_with:
        verdict.reason = _redundant_reason(verdict.redundant_with)
    elif served:  # its own probes used another new index: name it
        verdict.reason = (
            f"its queries used new index {', '.join(served)} instead: "
            "the planner prefers that index for what this one was built for"
        )
    else:
        verdict.reason = _reason_unused(index, counted, table_pages, table_rows, thresholds)
    return verdict


def _redundant_reason(redundant: list[tuple[str, str]]) -> str:
    return "; ".join(f"redundant with new index {other}: {why}" for other, why in redundant)
