"""The EXPLAIN step alone on whole histories (every migration pending); prints figures.

    python benchmarks/bench_explain_history.py FOLDER [FOLDER ...] [--root DIR --only a,b]

For each history: a scratch server, an empty baseline, and `linter.explain.run_explain` as
`pgpreflight check --scratch` runs it (applying every UP, synthesising rows for the tables the
new indexes need, probes before and after, verdicts). Prints the step's wall time with its
parts (applying, synthesis, before, after), the slowest synthesised tables and the verdicts.
Run it with another checkout's interpreter (its virtual environment's `python`) for that
checkout's figures: the script imports whichever pgpreflight that interpreter has installed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_real_projects import PUBLIC_HISTORIES  # noqa: E402


def explain_history(folder: Path) -> None:
    import psycopg
    from pgpreflight.linter.config import load_config
    from pgpreflight.linter.discovery import discover
    from pgpreflight.linter.explain import synthesis
    from pgpreflight.linter.explain.runner import ExplainOptions, run_explain, schema_after
    from pgpreflight.linter.pgserver import ScratchServer

    migrations = discover([folder])
    config = load_config(None, start=folder)
    schema = schema_after(migrations)
    per_table: dict[str, float] = {}
    attempt = synthesis._attempt

    def timed(conn: Any, table: str, n_rows: int, existing: int) -> Any:
        started = time.perf_counter()
        try:
            return attempt(conn, table, n_rows, existing)
        finally:
            per_table[table] = time.perf_counter() - started

    synthesis._attempt = timed  # type: ignore[assignment]
    marks: list[tuple[float, str]] = []
    try:
        with ScratchServer() as server:
            server.create_database("bench_explain", template="template0")
            info = server.migration_conninfo("bench_explain")
            started = time.perf_counter()
            evidence = run_explain(
                lambda: psycopg.connect(info, autocommit=True),
                migrations,
                schema,
                config,
                options=ExplainOptions.from_config(
                    config, progress=lambda m: marks.append((time.perf_counter(), m))
                ),
            )
            wall = time.perf_counter() - started
    finally:
        synthesis._attempt = attempt  # type: ignore[assignment]
    names = {"applying": "applying", "synthesising": "synthesis", "before": "before"}
    parts = ", ".join(
        f"{next((v for k, v in names.items() if k in m), 'after')} from {t - started:.1f} s"
        for t, m in marks
    )
    verdicts = Counter(v.verdict for v in evidence.indexes)
    print(f"== {folder}: {len(migrations)} migrations, {len(evidence.indexes)} new indexes")
    print(f"   EXPLAIN step {wall:.1f} s ({parts})")
    slow = sorted(per_table.items(), key=lambda kv: -kv[1])[:5]
    print("   slowest synthesis: " + ", ".join(f"{t} {s:.2f} s" for t, s in slow))
    print("   verdicts: " + ", ".join(f"{k} {n}" for k, n in verdicts.most_common()))
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="migrations folders")
    parser.add_argument("--root", type=Path, help="where the public histories were extracted")
    parser.add_argument("--only", help="with --root: these histories (comma-separated names)")
    args = parser.parse_args()
    folders = list(args.folders)
    if args.root:
        only = set(args.only.split(",")) if args.only else set(PUBLIC_HISTORIES)
        folders += [args.root / n / f for n, f in PUBLIC_HISTORIES.items() if n in only]
    for folder in folders:
        explain_history(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
