"""Benchmark of `pgpreflight check` on the example project; prints figures, asserts nothing.

    python benchmarks/bench_check.py [--data] [--repeat N] [--pg-bin DIR]

Prints: scratch server start time (initdb + start), template clone time (CREATE DATABASE ...
TEMPLATE, median of --repeat), and for the example's migrations the seconds per traced
statement (UP, DOWN and UP again; the snapshots between statements included) and the wall time
of the whole check. `--data` loads examples/assist-move-assist/data/seed.sql after the
baseline (the baseline is then every migration the seed needs, as the seed's header says).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

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
    args = parser.parse_args()

    import psycopg
    from pgpreflight.linter.check.result import CheckResult, ServerInfo
    from pgpreflight.linter.check.runner import CheckOptions, check_on_server, select_pending
    from pgpreflight.linter.discovery import discover
    from pgpreflight.linter.pgserver import ScratchServer

    migrations = discover([MIGRATIONS])
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
            since=SEED_SINCE if args.data else None,
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
    print(
        f"example: {len(result.pending)} pending migration(s), baseline {len(result.baseline)}"
        + (", seed.sql loaded" if args.data else "")
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
