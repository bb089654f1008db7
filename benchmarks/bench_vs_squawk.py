"""pgpreflight lint, cold and warm, side by side with squawk on the same files, per folder.

    python benchmarks/bench_vs_squawk.py [NAME=]FOLDER [...] [--runs 3]

For each folder (a project's migrations folder, or a project with a pgpreflight.toml) it prints
the median wall time of the whole command over `--runs` runs (process start included) and the
peak resident memory of:

- `pgpreflight lint FOLDER --no-cache` (cold: nothing reused),
- `pgpreflight lint FOLDER` after one run has filled the cache (warm),
- one changed file, warm: the newest migration gets a new trailing comment before each run and
  `pgpreflight lint` is given that file only, as pre-commit does (with a configuration naming
  the migrations folder, the whole history is read for the schema model),
- `squawk` on every .sql file under the folder (squawk-cli from the package index, a benchmark
  dependency only: `pip install squawk-cli`),

and the ratios to squawk, plus `lint --jobs 2` cold, and whether the findings are identical
cold, warm (from the cache), with `--jobs 2`, and for the one changed file with and without the
cache (`same`). A last row sums every folder, the issue's measure. Cold, `--jobs 2` and
squawk take turns run by run, then warm and squawk (squawk's median is over both rounds), after
one unmeasured run of each, so that a machine whose speed drifts moves them alike. The folder's own
`.pgpreflight_cache` is removed before and after;
the changed file is restored. Run it with `PYTHONDONTWRITEBYTECODE` unset, as users run
pgpreflight: without byte code every run compiles every module again.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _run(argv: list[str], cwd: Path) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB) of one whole process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss // 1024


def _summary(results: list[tuple[float, int]]) -> tuple[float, int]:
    """(median wall seconds, largest peak MB) of some runs."""
    return statistics.median(t for t, _ in results), max(m for _, m in results)


def _in_turns(commands: list[list[str]], cwd: Path, runs: int) -> list[list[tuple[float, int]]]:
    """Each command `runs` times, taking turns (A B C A B C ...) after one unmeasured run of
    each: a machine whose speed drifts during the benchmark moves every command alike, so their
    ratios stay meaningful (measured one after the other, they moved by up to 2x)."""
    for argv in commands:
        _run(argv, cwd)
    results: list[list[tuple[float, int]]] = [[] for _ in commands]
    for _ in range(runs):
        for argv, found in zip(commands, results, strict=True):
            found.append(_run(argv, cwd))
    return results


def _sql_files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*.sql") if ".pgpreflight_cache" not in p.parts)


def _findings(argv: list[str], cwd: Path) -> str:
    """The findings of one run, as JSON text: what must not depend on the cache or the jobs."""
    done = subprocess.run(
        [*argv, "--format", "json"], cwd=cwd, capture_output=True, text=True, check=False
    )
    return json.dumps(json.loads(done.stdout)["findings"], sort_keys=True)


def bench(name: str, folder: Path, runs: int, squawk: str | None) -> dict[str, object]:
    folder = folder.resolve()
    cache = folder / ".pgpreflight_cache"
    shutil.rmtree(cache, ignore_errors=True)
    lint = [sys.executable, "-m", "pgpreflight.linter", "lint", "--no-color", "-q"]
    files = _sql_files(folder)
    row: dict[str, object] = {"folder": name, "files": len(files)}
    cold = [*lint, "--no-cache", str(folder)]
    cold_j2 = [*lint, "--no-cache", "--jobs", "2", str(folder)]
    sq = [[squawk, *files]] if squawk and files else []
    first = _in_turns([cold, cold_j2, *sq], folder, runs)
    row["cold"], row["cold_j2"] = _summary(first[0]), _summary(first[1])
    _run([*lint, str(folder)], folder)  # fill the cache
    second = _in_turns([[*lint, str(folder)], *sq], folder, runs)
    row["warm"] = _summary(second[0])
    if sq:  # squawk took turns with both rounds
        row["squawk"] = _summary(first[2] + second[1])
    cold_findings = _findings([*lint, "--no-cache", str(folder)], folder)
    same = cold_findings == _findings([*lint, str(folder)], folder)
    same = same and cold_findings == _findings(
        [*lint, "--no-cache", "--jobs", "2", str(folder)], folder
    )
    newest = Path(max(files, key=lambda p: Path(p).name)) if files else None
    if newest is not None:
        original = newest.read_bytes()
        times = []
        try:
            for n in range(runs):  # a new edit each time: pre-commit runs on a changed file
                newest.write_bytes(original + f"\n-- edit {n} by bench_vs_squawk\n".encode())
                times.append(_run([*lint, str(newest)], folder))
            cached = _findings([*lint, str(newest)], folder)
            same = same and cached == _findings([*lint, "--no-cache", str(newest)], folder)
        finally:
            newest.write_bytes(original)
        row["one_file"] = (statistics.median(t for t, _ in times), max(m for _, m in times))
    row["same"] = same
    shutil.rmtree(cache, ignore_errors=True)
    return row


def _squawk_binary() -> str | None:
    """squawk-cli's own binary: the one installed beside this Python (pip puts it there), else
    the first on PATH. Never a version manager's shim (pyenv's is a shell script that starts
    pyenv), which would add its own start-up to every squawk run."""
    beside = Path(sys.executable).parent / "squawk"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("squawk")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", help="FOLDER, or NAME=FOLDER to label its row")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    squawk = _squawk_binary()
    if squawk is None:
        print("squawk not on PATH (pip install squawk-cli): its columns stay empty")
    else:
        print(f"squawk: {squawk}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, median of {args.runs} runs")
    header = (
        f"{'folder':24} {'files':>5} {'cold s':>7} {'-j2 s':>6} {'warm s':>7} {'1-file s':>8} "
        f"{'squawk s':>8} {'cold/sq':>7} {'warm/sq':>7} {'peak MB':>7} {'same':>5}"
    )
    print(header)
    totals = {"files": 0, "cold": 0.0, "cold_j2": 0.0, "warm": 0.0, "squawk": 0.0}
    for spec in args.folders:
        name, _, path = spec.rpartition("=")
        row = bench(name or Path(path).name, Path(path), args.runs, squawk)
        cold, peak = row["cold"]  # type: ignore[misc]
        cold_j2, _ = row["cold_j2"]  # type: ignore[misc]
        warm, _ = row["warm"]  # type: ignore[misc]
        one = row.get("one_file", (float("nan"), 0))[0]  # type: ignore[index]
        sq = row.get("squawk", (float("nan"), 0))[0]  # type: ignore[index]
        for key, value in (("cold", cold), ("cold_j2", cold_j2), ("warm", warm), ("squawk", sq)):
            totals[key] += value
        totals["files"] += row["files"]  # type: ignore[operator]
        print(
            f"{str(row['folder'])[:24]:24} {row['files']:>5} {cold:>7.2f} {cold_j2:>6.2f} "
            f"{warm:>7.2f} {one:>8.2f} {sq:>8.2f} {cold / sq:>7.1f} {warm / sq:>7.1f} {peak:>7} "
            f"{'yes' if row['same'] else 'NO':>5}"
        )
    sq = totals["squawk"]
    print(
        f"{'all':24} {totals['files']:>5} {totals['cold']:>7.2f} {totals['cold_j2']:>6.2f} "
        f"{totals['warm']:>7.2f} {'':>8} {sq:>8.2f} {totals['cold'] / sq:>7.1f} "
        f"{totals['warm'] / sq:>7.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
