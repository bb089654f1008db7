"""Time `pgpreflight lint` on one migration file of 10,000 mixed statements, next to squawk.

    python benchmarks/bench_large_file.py [--statements 10000] [--runs 3] [--keep DIR]

The file mixes what real migrations hold: CREATE TABLE with keys and foreign keys, ALTER TABLE
(add column, defaults, NOT NULL, constraints, renames), CREATE INDEX (with and without
CONCURRENTLY), UPDATE/DELETE, DROP, SET, comments and DO blocks. squawk (`pip install squawk-cli`)
is run on the same file when it is on PATH. Figures are wall-clock seconds of the whole command
(process start included), best and median of `--runs`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def statements(n: int) -> list[str]:
    """`n` statements over a growing set of tables, each kind in turn."""
    out: list[str] = []
    tables = 0
    i = 0
    while len(out) < n:
        t = f"t{tables}"
        kind = i % 12
        if kind == 0 or tables == 0:
            ref = f", parent_id bigint REFERENCES t{tables - 1} (id)" if tables else ""
            out.append(
                f"CREATE TABLE {t} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                f"name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(){ref})"
            )
            tables += 1
        else:
            old = f"t{i % tables}"
            out.append(
                [
                    "",
                    f"ALTER TABLE {old} ADD COLUMN c{i} integer",
                    f"ALTER TABLE {old} ADD COLUMN d{i} text NOT NULL DEFAULT ''",
                    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {old}_c{i}_idx ON {old} (name)",
                    f"CREATE INDEX {old}_n{i}_idx ON {old} (created_at)",
                    f"UPDATE {old} SET name = 'x' WHERE id = {i}",
                    f"ALTER TABLE {old} ADD CONSTRAINT {old}_k{i} CHECK (char_length(name) < 500) "
                    "NOT VALID",
                    f"COMMENT ON TABLE {old} IS 'table {i}'",
                    "SET lock_timeout = '2s'",
                    f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'x{i}') "
                    "THEN "
                    f"ALTER TABLE {old} ADD COLUMN e{i} text; END IF; END $$",
                    f"ALTER TABLE {old} ALTER COLUMN name SET DEFAULT ''",
                    f"DELETE FROM {old} WHERE id < {i}",
                ][kind]
            )
        i += 1
    return out


def write(directory: Path, n: int) -> Path:
    path = directory / "202401011200__large.sql"
    body = "\n".join(f"-- statement {k}\n{s};" for k, s in enumerate(statements(n)))
    path.write_text(f"-- UP\n{body}\n\n-- DOWN\nSELECT 1;\n", encoding="utf-8")
    return path


def timed(cmd: list[str], runs: int, cwd: Path) -> tuple[list[float], int, str]:
    times: list[float] = []
    code = 0
    out = ""
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        code, out = proc.returncode, proc.stdout + proc.stderr
    return times, code, out


def report(name: str, times: list[float], code: int, findings: str) -> None:
    print(
        f"{name:12s} best {min(times):7.2f} s   median {statistics.median(times):7.2f} s   "
        f"(exit {code}; {findings})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the file here and keep it")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="pgpreflight-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    path = write(work, args.statements)
    size = path.stat().st_size
    print(
        f"file: {path} ({args.statements} statements, {size / 1e6:.1f} MB, "
        f"{path.read_text().count(chr(10))} lines)"
    )

    ours = [
        sys.executable,
        "-m",
        "pgpreflight.linter",
        "lint",
        "--format",
        "json",
        str(path.parent),
    ]
    env_root = ROOT
    times, code, out = timed(ours, args.runs, env_root)
    count = out.count('"rule":')
    report("pgpreflight", times, code, f"{count} findings, all default rules")

    # where the time goes, in-process (no interpreter start-up): parsing vs the rest
    sys.path.insert(0, str(ROOT))
    from pgpreflight.linter.config import Config
    from pgpreflight.linter.discovery import discover
    from pgpreflight.linter.engine import lint

    start = time.perf_counter()
    discover([path.parent], "auto")
    parse = time.perf_counter() - start
    start = time.perf_counter()
    result = lint([path.parent], Config(root=path.parent))
    total = time.perf_counter() - start
    print(
        f"{'':12s} in-process: {total:.2f} s, of which discovery and parsing {parse:.2f} s; "
        f"{len(result.findings)} findings"
    )

    squawk = shutil.which("squawk")
    if squawk:
        version = subprocess.run(
            [squawk, "--version"], capture_output=True, text=True
        ).stdout.strip()
        times, code, out = timed([squawk, "--reporter", "json", str(path)], args.runs, work)
        count = out.count('"rule_name"')
        report("squawk", times, code, f"{count} findings, {version}")
    else:
        print("squawk       not installed (pip install squawk-cli) - skipped")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    raise SystemExit(main())
