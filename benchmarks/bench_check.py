"""`pgpreflight check` over real histories: outcome and time per phase; asserts nothing.

    python benchmarks/bench_check.py [FOLDER ...] [--root DIR [--only a,b]] [--no-explain]
        [--since VERSION] [--data FILE] [--setup [NAME=]FILE] [--extra ARGS] [--failures]
        [--bare] [--json OUT] [--results DIR]
        [--before PGPREFLIGHT --runs N]

Each FOLDER is a migrations folder (or a project folder with a pgpreflight.toml), named as
`bench_real_projects.py` names it; `--root DIR` takes the public histories of benchmarks/README.md
from where they were extracted (`DIR/<name>/<folder>`, `--only` picks some), each with what its
runner provides: `benchmarks/setup/NAME.sql` as `--setup` and `RUNNER_ARGS` (`--bare`: neither).
Without either, the
example project (`--data`: with its seed, pending from the seed's version). Histories run one at a
time, each `pgpreflight check --scratch` in this process (its own scratch server), and print:

- migrations found and pending; passed, failed and root causes (a failure caused by an earlier
  one is counted under its root cause, linter.check.causes), not traced (Go migrations);
  round-trip differences graded cosmetic;
- wall time of the whole command, and the time spent in each phase, exclusive (a phase nested in
  another counts once, in the inner one): server start (initdb and start), lint, baseline replay
  (with setup, history table and data), database clones and drops, UP / DOWN / UP-again traces,
  catalog snapshots (with the catalog write counts that decide what to read again), data-loss
  probe rows, pg_dump diffs, post-conditions, the EXPLAIN step, and
  the rest (reports, rendering, the interpreter). In scratch mode the EXPLAIN step runs in a
  thread of its own beside the traces, on a server of its own: its own time is printed apart
  ("EXPLAIN beside the traces", from the evidence; its server's start and baseline not
  included), and "EXPLAIN wait" is what the check waited for it after them;
- `--failures`: each root cause's first error and each failed round trip's reason, to judge by
  hand (harness or migration).

`--before PGPREFLIGHT` (the `pgpreflight` of another checkout's virtual environment, e.g. an
older commit) runs that command and this checkout's, each as a whole process with the same
arguments, `--runs` times each (median), and prints before/after wall times and their ratio.

Run it with `PYTHONDONTWRITEBYTECODE` unset, as users run pgpreflight.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pgpreflight.linter.check.result import NOT_FAILED  # noqa: E402

from benchmarks.bench_real_projects import PUBLIC_HISTORIES, label  # noqa: E402

EXAMPLE = ROOT / "examples" / "assist-move-assist"

SETUP = ROOT / "benchmarks" / "setup"
"""What a public history's runner or deployment provides beside its migrations (settings, the
schema its templates name, an older runner's history table): `SETUP/NAME.sql`, passed as
`--setup` when NAME runs from `--root` (unless `--bare`, or `--setup` names another file)."""

RUNNER_ARGS = {
    # lemmy's deployment migrates as the database's superuser (the postgres image's
    # POSTGRES_USER): its migrations UPDATE pg_index and DISABLE TRIGGER ALL on tables with
    # foreign keys; and they need PostgreSQL 16+ (a subquery in FROM without an alias)
    "lemmy": ["--scratch-superuser", "--pg-version", "18"],
}
"""What a public history's runner does that check needs told, as check arguments (`--root`,
unless `--bare`)."""
SEED_SINCE = "202404021600"  # the seed uses the schema of the migrations before this one

PHASES = (
    "server start",
    "lint",
    "baseline",
    "clone/drop",
    "UP trace",
    "snapshots",
    "probe rows",
    "DOWN trace",
    "UP-again trace",
    "pg_dump diff",
    "post-conditions",
    "EXPLAIN",
    "EXPLAIN wait",
)


class Phases:
    """Exclusive time per phase: wrapped functions push a phase, and the time of a phase nested
    in another is taken off the outer one."""

    def __init__(self) -> None:
        self.spent: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._stack: list[list[Any]] = []  # [phase, time spent in nested phases]

    def wrap(
        self, phase: str | Callable[..., str], function: Callable[..., Any]
    ) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is not threading.main_thread():
                return function(*args, **kwargs)  # the EXPLAIN step beside the traces
            name = phase(*args, **kwargs) if callable(phase) else phase
            self._stack.append([name, 0.0])
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                total = time.perf_counter() - started
                _, nested = self._stack.pop()
                self.spent[name] += total - nested
                self.calls[name] += 1
                if self._stack:
                    self._stack[-1][1] += total

        return wrapper


def instrument(phases: Phases) -> None:
    """Wrap the functions each phase runs in (module attributes, looked up at call time)."""
    import pgpreflight.linter.cli as cli
    from pgpreflight.linter.check import catalog, roundtrip, runner, trace
    from pgpreflight.linter.pgserver import ScratchServer

    ScratchServer.start = phases.wrap("server start", ScratchServer.start)  # type: ignore[method-assign]
    ScratchServer.create_database = phases.wrap("clone/drop", ScratchServer.create_database)  # type: ignore[method-assign]
    ScratchServer.drop_database = phases.wrap("clone/drop", ScratchServer.drop_database)  # type: ignore[method-assign]
    cli.lint_selected = phases.wrap("lint", cli.lint_selected)
    runner._replay_baseline = phases.wrap("baseline", runner._replay_baseline)
    runner.postconditions = phases.wrap("post-conditions", runner.postconditions)
    runner._run_explain_step = phases.wrap("EXPLAIN", runner._run_explain_step)
    runner._ExplainBeside.finish = phases.wrap("EXPLAIN wait", runner._ExplainBeside.finish)  # type: ignore[method-assign]
    catalog.schema_snapshot = phases.wrap("snapshots", catalog.schema_snapshot)
    catalog.scoped_snapshot = phases.wrap("snapshots", catalog.scoped_snapshot)
    catalog.outside_transaction = phases.wrap("snapshots", catalog.outside_transaction)
    catalog.catalog_writes = phases.wrap("snapshots", catalog.catalog_writes)
    roundtrip.probe_rows = phases.wrap("probe rows", roundtrip.probe_rows)
    roundtrip._dump_diff = phases.wrap("pg_dump diff", roundtrip._dump_diff)
    sections = {"up": "UP trace", "down": "DOWN trace", "up-again": "UP-again trace"}
    trace.SectionTracer.run = phases.wrap(  # type: ignore[method-assign]
        lambda _self, _m, _section, kind, *a, **k: sections.get(kind, kind),
        trace.SectionTracer.run,
    )


def check_once(
    folder: Path, extra: list[str], phases: Phases, keep: Path | None = None
) -> tuple[dict[str, Any], float]:
    """One `pgpreflight check` in this process: the saved result (also kept as `keep`) and the
    wall time."""
    from pgpreflight.linter.cli import main

    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        saved = keep or Path(tmp) / "result.json"
        argv = ["check", str(folder), "--scratch", "--quiet", "--json", str(saved), *extra]
        phases.spent.clear()
        phases.calls.clear()
        started = time.perf_counter()
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(argv)
        wall = time.perf_counter() - started
        if code not in (0, 1):
            said = err.getvalue().strip()[-2000:]
            raise SystemExit(f"{folder}: pgpreflight check exited {code}: {said}")
        return json.loads(saved.read_text()), wall


def summary(result: dict[str, Any]) -> dict[str, Any]:
    check = result["check"]
    migrations = check["migrations"]
    failed = [m for m in migrations if m["status"] not in NOT_FAILED]
    cosmetic = sum(
        1
        for m in migrations
        for key in ("down_differences", "up_again_differences")
        for d in m["round_trip"].get(key) or []
        if d.get("grade") == "cosmetic"
    )
    return {
        "migrations": len(result.get("migrations") or []),
        "pending": len(check["pending"]),
        "passed": sum(1 for m in migrations if m["status"] in ("passed", "empty")),
        "not traced": sum(1 for m in migrations if m["status"] == "not traced"),
        "failed": len(failed),
        "root causes": sum(1 for m in failed if not m.get("caused_by")),
        "cosmetic": cosmetic,
    }


def failures(result: dict[str, Any]) -> list[str]:
    """One line per root cause and per failed round trip, to judge by hand."""
    from pgpreflight.linter.report.checklist import first_error

    lines = []
    for m in result["check"]["migrations"]:
        if m["status"] in NOT_FAILED or m.get("caused_by"):
            continue
        caused = f" (+{len(m['dependants'])} caused by it)" if m.get("dependants") else ""
        if m["status"] == "round-trip failed":
            lines.append(f"  {m['id']}: round trip: {m['round_trip'].get('reason')}")
        else:
            lines.append(f"  {m['id']}: {m['status']}: {first_error(m)}{caused}")
    return lines


def _targets(args: argparse.Namespace) -> list[tuple[str, Path, list[str]]]:
    """(name, folder, extra check arguments) per history."""
    extra: list[str] = ["--no-explain"] if args.no_explain else []
    extra += shlex.split(args.extra or "")
    if args.since:
        extra += ["--since", args.since]
    if args.data:
        extra += ["--data", str(args.data)]
    folders = [(label(f, args.folders), f) for f in args.folders]
    if args.root:
        only = set(args.only.split(",")) if args.only else set(PUBLIC_HISTORIES)
        folders += [(n, args.root / n / f) for n, f in PUBLIC_HISTORIES.items() if n in only]
    if not folders:
        seed = ["--since", SEED_SINCE, "--data", str(EXAMPLE / "data" / "seed.sql")]
        return [("example", EXAMPLE, extra + (seed if args.example_data else []))]
    setups = dict(s.split("=", 1) if "=" in s else ("*", s) for s in args.setup)
    out = []
    for name, folder in folders:
        setup = setups.get(name, setups.get("*"))
        own = SETUP / f"{name}.sql"
        if setup is None and args.root and not args.bare and own.is_file():
            setup = str(own)
        runner = RUNNER_ARGS.get(name, []) if args.root and not args.bare else []
        out.append((name, folder, extra + runner + (["--setup", setup] if setup else [])))
    return out


def _run(argv: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, exit code) of one whole process. The CPU time counts the
    scratch server too (postgres is its child, its backends the postmaster's, all waited for),
    and barely moves when other work shares the machine, unlike the wall time."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime, status >> 8


def _before_after(args: argparse.Namespace, targets: list[tuple[str, Path, list[str]]]) -> None:
    """Whole processes, `--before`'s and this checkout's, the same arguments, taking turns;
    medians of `--runs`."""
    now = [sys.executable, "-m", "pgpreflight.linter"]
    for name, folder, extra in targets:
        argv = ["check", str(folder), "--scratch", "--quiet", *extra]
        runs: dict[str, list[tuple[float, float, int]]] = {"before": [], "after": []}
        for _ in range(args.runs):
            for side, command in (("before", [args.before]), ("after", now)):
                runs[side].append(_run([*command, *argv]))
        wall = {k: statistics.median(r[0] for r in v) for k, v in runs.items()}
        cpu = {k: statistics.median(r[1] for r in v) for k, v in runs.items()}
        codes = {k: sorted({r[2] for r in v}) for k, v in runs.items()}
        print(
            f"{name}: wall before {wall['before']:.1f} s, after {wall['after']:.1f} s "
            f"({wall['before'] / wall['after']:.2f}x); CPU (pgpreflight and its server) before "
            f"{cpu['before']:.1f} s, after {cpu['after']:.1f} s "
            f"({cpu['before'] / cpu['after']:.2f}x); median of {args.runs}, exit codes {codes}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="migrations folders")
    parser.add_argument("--root", type=Path, help="where the public histories were extracted")
    parser.add_argument("--only", help="with --root: these histories (comma-separated names)")
    parser.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN step")
    parser.add_argument("--since", help="pending migrations start here (every history)")
    parser.add_argument("--data", type=Path, help="--data file for every history")
    parser.add_argument(
        "--setup", action="append", default=[], help="[NAME=]FILE: --setup for one or all"
    )
    parser.add_argument(
        "--example-data", action="store_true", help="the example with its seed (no FOLDER)"
    )
    parser.add_argument("--extra", help="more check arguments, e.g. '--scratch-superuser'")
    parser.add_argument(
        "--bare",
        action="store_true",
        help="with --root: without benchmarks/setup/NAME.sql and RUNNER_ARGS",
    )
    parser.add_argument("--failures", action="store_true", help="print root causes to judge")
    parser.add_argument("--json", type=Path, help="save every history's figures here")
    parser.add_argument("--results", type=Path, help="keep each check result as DIR/NAME.json")
    parser.add_argument("--before", help="another checkout's pgpreflight: before/after times")
    parser.add_argument("--runs", type=int, default=1, help="with --before: runs per side")
    args = parser.parse_args()

    targets = _targets(args)
    if args.before:
        _before_after(args, targets)
        return 0
    phases = Phases()
    instrument(phases)
    rows = []
    for name, folder, extra in targets:
        keep = args.results / f"{name}.json" if args.results else None
        result, wall = check_once(folder, extra, phases, keep)
        row: dict[str, Any] = {"history": name, **summary(result), "wall": wall}
        row["phases"] = dict(phases.spent)
        row["phases"]["other"] = wall - sum(phases.spent.values())
        explain = result["check"].get("explain") or {}
        if "EXPLAIN" not in phases.spent and explain.get("elapsed_s") is not None:
            # beside the traces, in a thread of its own: not part of the sum above
            row["explain_beside"] = explain["elapsed_s"]
        rows.append(row)
        print(
            f"== {name}: {row['migrations']} migrations, {row['pending']} pending: "
            f"{row['passed']} passed, {row['failed']} failed, {row['root causes']} root "
            f"cause(s), {row['not traced']} not traced; {row['cosmetic']} cosmetic "
            f"difference(s); {wall:.1f} s"
        )
        row["calls"] = dict(phases.calls)
        print(
            "   "
            + ", ".join(
                f"{p} {row['phases'][p]:.1f}"
                + (f" ({phases.calls[p]} calls)" if p in ("snapshots", "clone/drop") else "")
                for p in (*PHASES, "other")
                if row["phases"].get(p)
            )
            + (
                f"; EXPLAIN beside the traces {row['explain_beside']:.1f}"
                if "explain_beside" in row
                else ""
            )
        )
        if args.failures:
            print("\n".join(failures(result)))
        sys.stdout.flush()
    head = ["history", "migrations", "pending", "passed", "failed", "root causes"]
    head += ["not traced", "wall s"]
    print("| " + " | ".join([*head, *PHASES, "other"]) + " |")
    print("| --- " * (len(head) + len(PHASES) + 1) + "|")
    for row in rows:
        cells = [str(row[k]) for k in head[:-1]] + [f"{row['wall']:.1f}"]
        cells += [f"{row['phases'].get(p, 0.0):.1f}" for p in (*PHASES, "other")]
        print("| " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
