"""Plan maths and plan lint on EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON) recorded from
PostgreSQL 15 and 18 (tests/fixtures/plans/pg*/, recorded by tests/fixtures/plans/record.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pgpreflight.linter.explain.lint import (
    FILTER_AFTER_INDEX,
    HASH_SPILL,
    HEAP_FETCHES,
    MISESTIMATE,
    SELECTIVE_SEQ_SCAN,
    SORT_SPILL,
    WORKERS_SHORT,
    lint_plan,
)
from pgpreflight.linter.explain.plan import parse_plan
from pgpreflight.linter.explain.thresholds import Thresholds

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
VERSIONS = ["pg15", "pg18"]


def load(version: str, name: str) -> dict:
    return json.loads((FIXTURES / version / f"{name}.json").read_text())


def plan(version: str, name: str):
    return parse_plan(load(version, name))


@pytest.mark.parametrize("version", VERSIONS)
def test_parallel_totals_are_per_loop_times_loops(version: str) -> None:
    p = plan(version, "parallel_seq_scan")
    gather = p.root
    scan = gather.children[0]
    assert gather.node_type == "Gather" and scan.node_type == "Seq Scan"
    assert scan.loops == 3 and scan.processes == 3  # two workers + the leader
    # The Gather returns every row the three processes produced.
    assert scan.rows == pytest.approx(gather.rows, abs=scan.loops)
    # Rows read = kept + removed by the filter = the whole table.
    assert scan.rows + scan.removed_by_filter == pytest.approx(200_000, abs=3)
    # Parallel processes run concurrently: the scan's wall-clock share is its per-loop time.
    raw_ms = scan.raw["Actual Total Time"]
    assert scan.inclusive_ms == pytest.approx(raw_ms)
    assert gather.exclusive_ms == pytest.approx(gather.raw["Actual Total Time"] - raw_ms)
    assert gather.exclusive_ms < gather.inclusive_ms


def test_pg18_fractional_rows_give_exact_totals_pg15_rounds() -> None:
    pg18 = plan("pg18", "parallel_seq_scan").root.children[0]
    pg15 = plan("pg15", "parallel_seq_scan").root.children[0]
    assert pg18.rows_per_loop == 255.33 and round(pg18.rows) == 766
    assert pg15.rows_per_loop == 255 and pg15.rows == 765  # the Gather says 766: rounding


@pytest.mark.parametrize("version", VERSIONS)
def test_nested_loop_inner_side_totals(version: str) -> None:
    p = plan(version, "nested_loop")
    loop, outer, inner = p.root, p.root.children[0], p.root.children[1]
    assert inner.node_type == "Index Scan" and inner.loops == 199
    assert inner.rows == 199
    # buffers are already totals over all loops: not multiplied again
    assert inner.shared_blocks == 796
    assert loop.shared_blocks == outer.shared_blocks + inner.shared_blocks
    assert loop.exclusive_shared_blocks == 0
    # time: per-loop average x loops
    assert inner.inclusive_ms == pytest.approx(inner.raw["Actual Total Time"] * 199)
    expected = (
        loop.raw["Actual Total Time"]
        - outer.raw["Actual Total Time"]
        - inner.raw["Actual Total Time"] * 199
    )
    assert loop.exclusive_ms == pytest.approx(max(expected, 0))
    assert p.indexes_used() == ["t_pkey"]
    if version == "pg18":
        assert inner.index_searches == 199  # a total, like Heap Fetches
    else:
        assert inner.index_searches is None


@pytest.mark.parametrize("version", VERSIONS)
def test_statement_metrics(version: str) -> None:
    p = plan(version, "bitmap_scan")
    m = p.metrics()
    raw = load(version, "bitmap_scan")[0]
    assert m["execution_ms"] == pytest.approx(raw["Execution Time"], abs=0.001)
    assert (
        m["shared_blocks"] == raw["Plan"]["Shared Hit Blocks"] + raw["Plan"]["Shared Read Blocks"]
    )
    assert m["indexes_used"] == ["t_g"]
    assert m["total_cost"] == pytest.approx(raw["Plan"]["Total Cost"], abs=0.01)
    assert p.settings["max_parallel_workers_per_gather"] == "0"


@pytest.mark.parametrize("version", VERSIONS)
def test_temp_blocks_of_a_spilling_sort(version: str) -> None:
    p = plan(version, "sort_spill")
    sort = p.root
    assert sort.temp_blocks > 0 and sort.exclusive_temp_blocks == sort.temp_blocks
    assert p.temp_blocks == sort.temp_blocks


def kinds(version: str, name: str, **thresholds: float) -> list[tuple[str, str]]:
    return [(f.kind, f.node) for f in lint_plan(plan(version, name), Thresholds(**thresholds))]


@pytest.mark.parametrize("version", VERSIONS)
def test_lint_each_fixture(version: str) -> None:
    assert (SORT_SPILL, "0") in kinds(version, "sort_spill")
    assert (HASH_SPILL, "0.1") in kinds(version, "hash_spill")
    assert (HEAP_FETCHES, "0") in kinds(version, "index_only_heap_fetches")
    assert (WORKERS_SHORT, "0.0") in kinds(version, "workers_not_launched")
    assert (FILTER_AFTER_INDEX, "0") in kinds(version, "index_filter_removes")
    # 766 of 200,000 rows kept from 2,062 pages, in three processes: totals, not per loop
    assert (SELECTIVE_SEQ_SCAN, "0.0") in kinds(version, "parallel_seq_scan")
    assert (SELECTIVE_SEQ_SCAN, "0") in kinds(version, "seq_scan_selective")
    # clean plans stay clean
    assert kinds(version, "bitmap_scan") == []
    # 99.6% of c filtered out, but c has 271 pages only (< seq-scan-min-pages)
    assert kinds(version, "nested_loop") == []


@pytest.mark.parametrize("version", VERSIONS)
def test_misestimate_is_reported_where_it_originates(version: str) -> None:
    found = [f for f in lint_plan(plan(version, "misestimate")) if f.kind == MISESTIMATE]
    # The Bitmap Heap Scan (g = 0 AND status = 'rare', correlated) is off by ~20x; its Bitmap
    # Index Scan child (g = 0 alone) is estimated right: the error originates at the heap scan.
    assert [f.node for f in found] == ["0"]
    assert "underestimated" in found[0].message


def test_misestimate_above_an_offending_child_is_not_repeated() -> None:
    doc = [
        {
            "Plan": {
                "Node Type": "Limit",
                "Plan Rows": 10,
                "Actual Rows": 500,
                "Actual Loops": 1,
                "Plans": [
                    {
                        "Node Type": "Seq Scan",
                        "Relation Name": "t",
                        "Plan Rows": 10,
                        "Actual Rows": 500,
                        "Actual Loops": 1,
                    }
                ],
            }
        }
    ]
    found = lint_plan(parse_plan(doc))
    assert [(f.kind, f.node) for f in found] == [(MISESTIMATE, "0.0")]


@pytest.mark.parametrize("version", VERSIONS)
def test_thresholds_change_the_verdict(version: str) -> None:
    assert (HEAP_FETCHES, "0") not in kinds(version, "index_only_heap_fetches", heap_fetch_min=1e9)
    assert not [
        k for k in kinds(version, "misestimate", misestimate_factor=50) if k[0] == MISESTIMATE
    ]
    assert (SELECTIVE_SEQ_SCAN, "0") not in kinds(
        version, "seq_scan_selective", seq_scan_min_pages=10_000
    )


def test_thresholds_from_config() -> None:
    from pgpreflight.linter.errors import ConfigError

    t = Thresholds.from_config({"misestimate-factor": 20, "helps-min-time-ms": 0.5})
    assert t.misestimate_factor == 20 and t.helps_min_time_ms == 0.5
    with pytest.raises(ConfigError, match="unknown threshold 'nope'"):
        Thresholds.from_config({"nope": 1})
    with pytest.raises(ConfigError, match="non-negative number"):
        Thresholds.from_config({"misestimate-factor": "big"})


def test_not_a_plan_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no 'Plan' key"):
        parse_plan('[{"Query": 1}]')


def test_overestimate_under_a_limit_is_the_limit_not_the_planner() -> None:
    scan = {
        "Node Type": "Index Scan",
        "Index Name": "i",
        "Relation Name": "t",
        "Plan Rows": 100000,
        "Actual Rows": 20,
        "Actual Loops": 1,
    }
    limited = [
        {
            "Plan": {
                "Node Type": "Limit",
                "Plan Rows": 20,
                "Actual Rows": 20,
                "Actual Loops": 1,
                "Plans": [scan],
            }
        }
    ]
    assert lint_plan(parse_plan(limited)) == []
    # a Sort between them reads its input to the end: then the estimate really was off
    sort = {
        "Node Type": "Sort",
        "Plan Rows": 100000,
        "Actual Rows": 20,
        "Actual Loops": 1,
        "Plans": [scan],
    }
    blocked = [
        {
            "Plan": {
                "Node Type": "Limit",
                "Plan Rows": 20,
                "Actual Rows": 20,
                "Actual Loops": 1,
                "Plans": [sort],
            }
        }
    ]
    assert [(f.kind, f.node) for f in lint_plan(parse_plan(blocked))] == [(MISESTIMATE, "0.0.0")]
    # an underestimate under a Limit is still reported
    scan_under = dict(scan, **{"Plan Rows": 1, "Actual Rows": 20})
    under = [
        {
            "Plan": {
                "Node Type": "Limit",
                "Plan Rows": 1,
                "Actual Rows": 20,
                "Actual Loops": 1,
                "Plans": [scan_under],
            }
        }
    ]
    assert [f.node for f in lint_plan(parse_plan(under))] == ["0.0"]
