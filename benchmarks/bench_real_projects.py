"""Run pgpreflight over real migration histories and print findings per rule and timings.

    python benchmarks/bench_real_projects.py /tmp/realrepos/lemmy/migrations FOLDER...
        [--select rule-a,rule-b] [--pg-version 15] [--convention auto] [--show RULE] [--limit 20]

The histories are public projects' migration folders brought outside this repository (their
files are never committed here). Each folder is linted as one history with the default
configuration; `--show RULE` prints that rule's findings so they can be reviewed by hand.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgpreflight.linter.config import Config, validate  # noqa: E402
from pgpreflight.linter.engine import lint  # noqa: E402


def _config(root: Path, args: argparse.Namespace) -> Config:
    values: dict[str, object] = {"pg-version": args.pg_version, "convention": args.convention}
    if args.select:
        values["select"] = [r.strip() for r in args.select.split(",") if r.strip()]
    if args.transaction:
        values["transaction"] = args.transaction
    config = Config(root=root)
    config.values = validate(values, where="benchmark")
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument(
        "--select", default="", help="comma-separated rule ids (default: every default rule)"
    )
    parser.add_argument("--pg-version", default="15")
    parser.add_argument("--convention", default="auto")
    parser.add_argument(
        "--transaction", default="", help="per-file | none (default: the configuration's)"
    )
    parser.add_argument(
        "--show", action="append", default=[], help="print the findings of this rule"
    )
    parser.add_argument("--limit", type=int, default=30, help="findings shown per --show rule")
    args = parser.parse_args(argv)

    grand: Counter[str] = Counter()
    total_time = 0.0
    for folder in args.folders:
        if not folder.is_dir():
            print(f"{folder}: not a folder", file=sys.stderr)
            return 2
        config = _config(folder, args)
        start = time.perf_counter()
        result = lint([folder], config)
        elapsed = time.perf_counter() - start
        total_time += elapsed
        statements = sum(1 for m in result.migrations for _ in m.statements())
        nested = sum(len(s.nested) for m in result.migrations for s in m.statements())
        counts = Counter(f.rule for f in result.findings)
        grand.update(counts)
        print(f"== {folder}")
        print(
            f"   {len(result.migrations)} migrations, {statements} statements ({nested} inside DO "
            "blocks), "
            f"{len(result.findings)} findings, {elapsed:.2f} s "
            f"({1000 * elapsed / max(statements, 1):.2f} ms/statement)"
        )
        for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"   {n:6d}  {rule}")
        for rule in args.show:
            shown = [f for f in result.findings if f.rule == rule][: args.limit]
            for f in shown:
                print(f"      {f.path}:{f.line}:{f.column} [{f.section}] {f.message}")
    if len(args.folders) > 1:
        print(
            f"== all {len(args.folders)} histories: {sum(grand.values())} findings, "
            f"{total_time:.2f} s"
        )
        for rule, n in sorted(grand.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"   {n:6d}  {rule}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
