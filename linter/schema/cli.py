"""`pgpreflight schema PATH [--at VERSION] [--format text|json]`: the schema model as replayed.

A debugging aid as much as a feature: when a rule judges a table wrongly, this shows what the
model believes the table looks like, and which statements it did not model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.errors import InputError

if TYPE_CHECKING:
    from pgpreflight.linter.secrets import Secrets


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pgpreflight.linter.cli import add_paths

    add_paths(parser)
    parser.add_argument("--convention", help="migration convention (default: auto-detect)")
    parser.add_argument(
        "--at",
        metavar="VERSION",
        help="show the model after this migration's UP (version or full id; default: the last)",
    )
    parser.add_argument(
        "--format",
        "-f",
        choices=("text", "json"),
        default="text",
        help="output format (default text)",
    )
    parser.add_argument(
        "--output", "-o", type=Path, help="write to this file instead of standard output"
    )


def run(args: argparse.Namespace, config: Any, secrets: Secrets | None = None) -> int:
    from pgpreflight.linter.cli import lint_targets
    from pgpreflight.linter.discovery import discover
    from pgpreflight.linter.output import write_output
    from pgpreflight.linter.printable import guard_lines, printable
    from pgpreflight.linter.replay import apply_up
    from pgpreflight.linter.schema import SchemaModel
    from pgpreflight.linter.schema.render import model_to_dict, model_to_text

    targets = lint_targets(args, config)
    paths = [*targets.get("history", ()), *targets["paths"]]
    migrations = discover(paths, str(config.get("convention")), config.max_file_bytes)
    if not migrations:
        raise InputError(f"no migrations found in {', '.join(str(p) for p in paths)}")
    last = len(migrations) - 1
    if args.at is not None:
        matches = [i for i, m in enumerate(migrations) if args.at in (m.version, m.id)]
        if not matches:
            known = ", ".join(m.version for m in migrations[:3])
            raise InputError(
                f"--at {args.at}: no migration with that version (found {len(migrations)}, "
                f"from {known}{', ...' if len(migrations) > 3 else ''} to {migrations[-1].version})"
            )
        last = matches[-1]
    model = SchemaModel()
    for migration in migrations[: last + 1]:
        if migration.up.syntax_errors:
            first = migration.up.syntax_errors[0]
            line, column = first.source.lines.position(first.offset)
            where = printable(f"{first.source.display}:{line}:{column}: {first.message}")
            sys.stderr.write(
                f"pgpreflight: warning: {where}; "
                "statements PostgreSQL cannot parse are not in the model\n"
            )
        apply_up(model, migration)
    at = migrations[last]
    if args.format == "json":
        text = (
            json.dumps(
                {"version": 1, "at": at.id, "schema": model_to_dict(model)},
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    else:
        # Identifiers are user content: no control character reaches the terminal, no line
        # starts a CI workflow command (linter/printable.py).
        text = guard_lines(
            printable(
                f"-- schema after {at.id} ({last + 1} of {len(migrations)} migrations)\n"
                + model_to_text(model),
                keep="\t\n",
            )
        )
    write_output(text, args.output)
    return 0
