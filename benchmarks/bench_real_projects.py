"""Run pgpreflight over real migration histories and print findings per rule and timings.

    python benchmarks/bench_real_projects.py /tmp/realrepos/lemmy/migrations FOLDER...
        [--select rule-a,rule-b] [--pg-version 15] [--convention auto] [--show RULE] [--limit 20]
        [--presets guide,safety] [--json OUT] [--sample 50 --seed 13]

The histories are public projects' migration folders brought outside this repository (their
files are never committed here). Each folder is linted as one history under each preset; per
project it prints the migrations found against the .sql files in the folder (a gap means
discovery missed files), the findings per rule under each preset, and the share of migrations
that fail (hold a finding at or above `fail-on`, error by default) under each preset; a table of
the failure shares closes the run. `--show RULE` prints that rule's findings (first preset) so
they can be reviewed by hand. `--json OUT` saves every finding (preset, project, file, line,
rule, message); `--sample N --seed S` prints, per preset, N findings drawn at random and spread
over the histories (each history in turn gives one of its shuffled findings), as a Markdown table
to judge by hand.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgpreflight.linter.config import Config, validate  # noqa: E402

# benchmarks/README.md's public histories: name -> its migrations folder, below the folder the
# history was extracted into (`git archive <commit> <path> | tar -x` in ROOT/<name>)
PUBLIC_HISTORIES = {
    "lemmy": "migrations",
    "crates.io": "migrations",
    "kratos": "persistence/sql/migrations/sql",
    "concourse": "atc/db/migration/migrations",
    "hatchet": "cmd/hatchet-migrate/migrate/migrations",
    "nakama": "migrate/sql",
    "kestra": "jdbc-postgres/src/main/resources/migrations/postgres",
    "authelia": "internal/storage/migrations/postgres",
    "harbor": "make/migrations/postgresql",
    "supabase-auth": "migrations",
}
from pgpreflight.linter.engine import lint  # noqa: E402
from pgpreflight.linter.findings import SEVERITIES  # noqa: E402


def _config(root: Path, args: argparse.Namespace, preset: str) -> Config:
    values: dict[str, object] = {
        "pg-version": args.pg_version,
        "convention": args.convention,
        "preset": preset,
    }
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
    parser.add_argument(
        "--presets", default="guide,safety", help="comma-separated presets to run (guide,safety)"
    )
    parser.add_argument("--json", type=Path, help="write every finding to this JSON file")
    parser.add_argument("--sample", type=int, default=0, help="findings drawn per preset")
    parser.add_argument("--seed", type=int, default=13, help="seed of the --sample draw")
    args = parser.parse_args(argv)
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]

    grand: dict[str, Counter[str]] = {p: Counter() for p in presets}
    saved: list[dict[str, object]] = []
    table: list[tuple[str, int, int, dict[str, tuple[int, int]]]] = []
    total_time = 0.0
    for folder in args.folders:
        if not folder.is_dir():
            print(f"{folder}: not a folder", file=sys.stderr)
            return 2
        files = sum(1 for _ in folder.rglob("*.sql"))
        print(f"== {folder}")
        failing: dict[str, tuple[int, int]] = {}
        migrations = 0
        for i, preset in enumerate(presets):
            config = _config(folder, args, preset)
            start = time.perf_counter()
            result = lint([folder], config)
            elapsed = time.perf_counter() - start
            total_time += elapsed
            migrations = len(result.migrations)
            statements = sum(1 for m in result.migrations for _ in m.statements())
            nested = sum(len(s.nested) for m in result.migrations for s in m.statements())
            counts = Counter(f.rule for f in result.findings)
            grand[preset].update(counts)
            project = label(folder, args.folders)
            saved.extend(
                {
                    "preset": preset,
                    "project": project,
                    "path": f.path,
                    "line": f.line,
                    "rule": f.rule,
                    "severity": f.severity,
                    "section": f.section,
                    "message": f.message,
                }
                for f in result.findings
            )
            threshold = SEVERITIES.index(config.fail_on)
            failed = {
                f.migration
                for f in result.findings
                if f.migration and SEVERITIES.index(f.severity) <= threshold
            }
            failing[preset] = (len(failed), len(result.findings))
            if i == 0:
                print(
                    f"   {migrations} migrations found in {files} .sql files, {statements} "
                    f"statements ({nested} inside DO blocks)"
                )
            print(
                f"   preset {preset}: {len(result.findings)} findings, {len(failed)} of "
                f"{migrations} migrations fail ({_share(len(failed), migrations)}), "
                f"{elapsed:.2f} s ({1000 * elapsed / max(statements, 1):.2f} ms/statement)"
            )
            for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                print(f"   {n:6d}  {rule}")
            if i == 0:
                for rule in args.show:
                    shown = [f for f in result.findings if f.rule == rule][: args.limit]
                    for f in shown:
                        print(f"      {f.path}:{f.line}:{f.column} [{f.section}] {f.message}")
        table.append((label(folder, args.folders), migrations, files, failing))
    if len(args.folders) > 1:
        for preset in presets:
            print(
                f"== all {len(args.folders)} histories, preset {preset}: "
                f"{sum(grand[preset].values())} findings"
            )
            for rule, n in sorted(grand[preset].items(), key=lambda kv: (-kv[1], kv[0])):
                print(f"   {n:6d}  {rule}")
    print(f"== failing migrations per preset ({total_time:.2f} s)")
    head = "| project | migrations / .sql files |" + "".join(
        f" {p}: failing (findings) |" for p in presets
    )
    print(head)
    print("| --- | --- |" + " --- |" * len(presets))
    for name, migrations, files, failing in table:
        cells = "".join(
            f" {failing[p][0]} ({_share(failing[p][0], migrations)}; {failing[p][1]}) |"
            for p in presets
        )
        print(f"| {name} | {migrations} / {files} |{cells}")
    if args.json:
        args.json.write_text(json.dumps(saved, indent=1) + "\n")
    if args.sample:
        for preset in presets:
            _print_sample(
                [f for f in saved if f["preset"] == preset], preset, args.sample, args.seed
            )
    return 0


def _print_sample(findings: list[dict[str, object]], preset: str, n: int, seed: int) -> None:
    """N findings drawn with a fixed seed, the histories taking turns so that each is sampled."""
    rng = random.Random(f"{seed}:{preset}")
    by_project: dict[str, list[dict[str, object]]] = {}
    for f in findings:
        by_project.setdefault(str(f["project"]), []).append(f)
    for pool in by_project.values():
        rng.shuffle(pool)
    order = sorted(by_project)
    rng.shuffle(order)
    drawn: list[dict[str, object]] = []
    while len(drawn) < n and any(by_project[p] for p in order):
        for project in order:
            if by_project[project] and len(drawn) < n:
                drawn.append(by_project[project].pop())
    print(f"== sample of {len(drawn)} findings, preset {preset}, seed {seed}")
    print("| # | history | file:line | rule | message |")
    print("| --- | --- | --- | --- | --- |")
    for i, f in enumerate(drawn, 1):
        message = str(f["message"]).replace("|", "\\|")
        print(f"| {i} | {f['project']} | {f['path']}:{f['line']} | {f['rule']} | {message} |")


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def label(folder: Path, folders: list[Path]) -> str:
    """The project's name: the first part of its path below the folders' common parent."""
    import os

    resolved = [f.resolve() for f in folders]
    common = Path(os.path.commonpath(resolved)) if len(resolved) > 1 else folder.resolve().parent
    rest = folder.resolve().relative_to(common).parts
    return rest[0] if rest else folder.name


if __name__ == "__main__":
    raise SystemExit(main())
