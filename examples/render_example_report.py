#!/usr/bin/env python3
"""Regenerate the example report: examples/assist-move-assist/report.html and comment.md.

Runs the real `pgpreflight check` on the example project (a scratch PostgreSQL, the eleven clean
migrations as baseline, data/seed.sql loaded, the faulty ones pending), saves the result, then
renders it with `pgpreflight report`, exactly as a user would:

    python examples/render_example_report.py            # check on a scratch server (about a minute)
    python examples/render_example_report.py --lint     # no database: from `pgpreflight lint`

The committed report is this script's output; never edit it by hand.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = Path("examples") / "assist-move-assist"
SINCE = "202404021600"  # the first migration with a mistake: everything before is the baseline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lint", action="store_true", help="render from a lint run (no database)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / EXAMPLE, help="folder for report.html and comment.md"
    )
    parser.add_argument(
        "--save-result", type=Path, metavar="FILE", help="also keep the saved result JSON here"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import os

    os.chdir(ROOT)  # paths in the report are shown relative to the repository
    from pgpreflight.linter.cli import main as pgpreflight
    from pgpreflight.linter.report.cli import attach_evidence, load

    with tempfile.TemporaryDirectory(prefix="pgpf-example-") as tmp:
        saved = Path(tmp) / "result.json"
        if args.lint:
            command = ["lint", str(EXAMPLE), "--json", str(saved)]
        else:
            command = [
                "check",
                str(EXAMPLE),
                "--since",
                SINCE,
                "--data",
                str(EXAMPLE / "data" / "seed.sql"),
                "--json",
                str(saved),
            ]
        code = pgpreflight(
            [*command, "-q", "--exit-zero", "--output", str(Path(tmp) / "output.txt")]
        )
        if code != 0 or not saved.is_file():
            print(
                f"render_example_report: 'pgpreflight {' '.join(command)}' failed (exit {code})",
                file=sys.stderr,
            )
            return code or 1
        result = load(saved)
        if result.meta is None or result.review is None:
            # Until `check` fills the header and review evidence itself, add them here the way
            # `lint --report` does.
            from pgpreflight.linter.config import load_config

            config = load_config(EXAMPLE / "pgpreflight.toml")
            ns = argparse.Namespace(paths=[EXAMPLE], reviewed_by=[], test_results=[], project=None)
            attach_evidence(result, ns, config, command=command[0])
            from pgpreflight.linter.cli import write_output
            from pgpreflight.linter.report import RenderOptions, json_format

            write_output(json_format.render(result, RenderOptions()), saved)
        args.out.mkdir(parents=True, exist_ok=True)
        html, md = args.out / "report.html", args.out / "comment.md"
        code = pgpreflight(["report", str(saved), "--html", str(html), "--markdown", str(md)])
        if code:
            return code
        if args.save_result:
            import shutil

            shutil.copyfile(saved, args.save_result)
    print(f"wrote {html.relative_to(ROOT) if html.is_relative_to(ROOT) else html} and {md.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
