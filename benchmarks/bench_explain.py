"""Benchmark of the EXPLAIN step of `pgpreflight check` on the example project; prints figures.

    python benchmarks/bench_explain.py [--runs N] [--pg-bin DIR] [--no-data]

Builds the baseline the way `pgpreflight check --since 202404021600 --data data/seed.sql` does
(the clean migrations, then the seed; both timed but not part of the step), then times
`linter.explain.run_explain` on a clone: applying the pending migrations, synthesising the new
`inscricoes` table, probes and the application queries before and after, verdicts. Target: the
step takes under 30 s on the project's 2-core machine. `--no-data` skips the seed (every table
then goes through synthesis).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXAMPLE = ROOT / "examples" / "assist-move-assist"
SEED_SINCE = "202404021600"  # the seed uses the schema of the migrations before this one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=3, help="EXPLAIN runs per query and side (median)"
    )
    parser.add_argument("--pg-bin", type=Path, help="PostgreSQL binaries to use")
    parser.add_argument("--no-data", action="store_true", help="do not load data/seed.sql")
    args = parser.parse_args()

    import psycopg
    from pgpreflight.linter.check.runner import apply_section, run_data_file
    from pgpreflight.linter.config import load_config
    from pgpreflight.linter.discovery import discover
    from pgpreflight.linter.explain.runner import ExplainOptions, run_explain, schema_after
    from pgpreflight.linter.migration import version_key
    from pgpreflight.linter.pgserver import ScratchServer

    config = load_config(EXAMPLE / "pgpreflight.toml")
    migrations = discover(config.migration_paths(), str(config.get("convention")))
    first = next(i for i, m in enumerate(migrations) if m.version_key >= version_key(SEED_SINCE))
    if args.no_data:
        first = 0
    baseline, pending = migrations[:first], migrations[first:]
    schema = schema_after(migrations)
    with ScratchServer(args.pg_bin) as server:
        base = server.create_database("bench_base", template="template0")
        t = time.perf_counter()
        with psycopg.connect(base, autocommit=True) as conn:
            for m in baseline:
                apply_section(conn, m, m.up, "per-file", server.major_version)
            if not args.no_data:
                run_data_file(conn, EXAMPLE / "data" / "seed.sql")
                conn.execute("ANALYZE")
        prep = time.perf_counter() - t
        clone = server.create_database("bench_explain", template="bench_base")
        t = time.perf_counter()
        evidence = run_explain(
            lambda: psycopg.connect(clone, autocommit=True),
            pending,
            schema,
            config,
            history=migrations,
            options=ExplainOptions(
                runs=args.runs, data_source=None if args.no_data else "data/seed.sql"
            ),
        )
        step = time.perf_counter() - t
    measured = [q for q in evidence.queries if q.before is not None and q.after is not None]
    explains = len(measured) * 2 * (args.runs + 1)
    print(f"PostgreSQL {evidence.server_version}")
    print(f"baseline ({len(baseline)} migrations) + data: {prep:.1f} s (not part of the step)")
    print(
        f"pending migrations: {len(pending)}; new indexes: {len(evidence.indexes)}; "
        f"queries measured: {len(measured)} ({explains} EXPLAIN ANALYZE runs)"
    )
    for s in evidence.synthesized:
        print(
            f"synthesised {s.table}: {s.rows:,} rows "
            f"({s.status}{': ' + s.reason if s.reason else ''})"
        )
    print(f"EXPLAIN step: {step:.1f} s (target < 30 s) -> {'OK' if step < 30 else 'OVER TARGET'}")
    print()
    print(evidence.to_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
