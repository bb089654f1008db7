"""Benchmark of `pgpreflight check` on the example project; prints figures, asserts nothing.

    python benchmarks/bench_check.py [--data] [--repeat N] [--pg-bin DIR]
                                     [--history FOLDER [--since VERSION]]

Prints: scratch server start time (initdb + start), template clone time (CREATE DATABASE ...
TEMPLATE, median of --repeat), and for the example's migrations the seconds per traced
statement (UP, DOWN and UP again; the snapshots between statements included) and the wall time
of the whole check. `--data` loads examples/assist-move-assist/data/seed.sql after the
baseline (the baseline is then every migration the seed needs, as the seed's header says).
`--history FOLDER` checks that migrations folder instead (any convention pgpreflight discovers),
every migration pending unless `--since`; it also prints the time spent in catalog snapshots.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXAMPLE = ROOT / "examples" / "assist-move-assist"
MIGRATIONS = EXAMPLE / "apps" / "backend" / "src" / "database" / "migrations"
SEED_SINCE = "202404021600"  # the seed uses the schema of the migrations before this one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="store_true", help="load the example's seed.sql")
    parser.add_argument("--repeat", type=int, default=5, help="template clones to time")
    parser.add_argument("--pg-bin", type=Path, help="PostgreSQL binaries to use")
    parser.add_argument("--history", type=Path, help="a migrations folder to check instead")
    parser.add_argument("--since", help="with --history: pending migrations start here")
    args = parser.parse_args()

    import psycopg
    from pgpreflight.linter.check import catalog
    from pgpreflight.linter.check.result import CheckResult, ServerInfo
    from pgpreflight.linter.check.runner import CheckOptions, check_on_server, select_pending
    from pgpreflight.linter.discovery import discover
    from pgpreflight.linter.pgserver import ScratchServer

    spent = {"snapshot": 0.0, "calls": 0, "depth": 0}

    def timed(function: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            spent["depth"] += 1
            t0 = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                spent["depth"] -= 1
                if not spent["depth"]:  # a scoped snapshot calls schema_snapshot: count once
                    spent["snapshot"] += time.perf_counter() - t0
                    spent["calls"] += 1

        return wrapper

    catalog.schema_snapshot = timed(catalog.schema_snapshot)  # type: ignore[method-assign]
    if hasattr(catalog, "scoped_snapshot"):
        catalog.scoped_snapshot = timed(catalog.scoped_snapshot)
    migrations = discover([args.history or MIGRATIONS])
    started = time.perf_counter()
    with ScratchServer(args.pg_bin) as server:
        start_s = time.perf_counter() - started
        print(
            f"server start (initdb + start): {start_s:.3f} s  "
            f"[PostgreSQL {server.major_version}, "
            f"{server.binaries.source if server.binaries else '?'}]"
        )
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench_src")
        with psycopg.connect(server.conninfo("bench_src"), autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, "
                "10000) g"
            )
        clones = []
        for i in range(args.repeat):
            t = time.perf_counter()
            server.create_database(f"bench_clone{i}", template="bench_src")
            clones.append(time.perf_counter() - t)
            server.drop_database(f"bench_clone{i}")
        server.drop_database("bench_src")
        print(
            "template clone (CREATE DATABASE ... TEMPLATE, small db): median "
            f"{statistics.median(clones):.3f} s, "
            f"min {min(clones):.3f} s over {len(clones)}"
        )

        options = CheckOptions(
            db_prefix="bench",
            data_file=EXAMPLE / "data" / "seed.sql" if args.data else None,
            since=SEED_SINCE if args.data else args.since,
        )
        result = CheckResult(mode="scratch", server=ServerInfo("scratch", "", server.major_version))
        t = time.perf_counter()
        check_on_server(server, migrations, select_pending(migrations, options), options, result)
        wall = time.perf_counter() - t

    statements = [
        st
        for m in result.migrations
        for section in (m.up, m.down, m.up_again)
        if section is not None
        for st in section.statements
        if st.status in ("ok", "error")
    ]
    traced_ms = sum(
        section.duration_ms
        for m in result.migrations
        for section in (m.up, m.down, m.up_again)
        if section is not None
    )
    exec_ms = sum(st.duration_ms or 0 for st in statements)
    failed = sum(1 for m in result.migrations if m.status not in ("passed", "empty"))
    print(
        f"{args.history or 'example'}: {len(result.pending)} pending migration(s), baseline "
        f"{len(result.baseline)}, {failed} not passed" + (", seed.sql loaded" if args.data else "")
    )
    print(
        f"traced statements: {len(statements)}; {traced_ms / 1000 / max(len(statements), 1):.4f} "
        "s per traced "
        "statement (of which executing the statement itself: "
        f"{exec_ms / 1000 / max(len(statements), 1):.4f} s)"
    )
    print(
        "whole check (baseline, clones, traces, round trips, pg_dump diffs, post-conditions): "
        f"{wall:.2f} s"
    )
    print(
        f"catalog snapshots: {spent['calls']} taking {spent['snapshot']:.2f} s "
        f"({100 * spent['snapshot'] / wall:.0f}% of the check)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
