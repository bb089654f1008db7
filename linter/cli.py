"""The command line: argument parsing, config resolution, exit codes.

Exit codes: 0 no finding at the failure threshold; 1 a finding at or above it (or a migration
that fails in `check`); 2 usage, configuration or I/O error; 3 an internal error (a bug).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from pgpreflight.linter import __version__
from pgpreflight.linter.errors import EXIT_USAGE, ConfigError, PgPreflightError
from pgpreflight.linter.output import use_color, write_output
from pgpreflight.linter.printable import printable
from pgpreflight.linter.secrets import RedactingFilter, Secrets

EXIT_INTERNAL = 3
# Subcommands implemented in their own packages; each module offers add_arguments(parser) and
# run(args, config, secrets) -> int, and imports nothing heavy at module level.
EXTERNAL_COMMANDS = {
    "schema": ("pgpreflight.linter.schema.cli", "print the schema model after the migrations"),
    "check": (
        "pgpreflight.linter.check_cli",
        "run the migrations on a real PostgreSQL and trace every statement",
    ),
    "report": (
        "pgpreflight.linter.report.cli",
        "render a saved result as HTML, Markdown or any lint format",
    ),
    "new": ("pgpreflight.linter.scaffold", "create a new migration from the template"),
    "init": ("pgpreflight.linter.init", "write a commented configuration for this repository"),
    "lsp": (
        "pgpreflight.linter.lsp.cli",
        "run the language server for editors (stdio; needs pgpreflight[lsp])",
    ),
}
# Commands that read the configuration themselves (the language server reads the one nearest
# each document, and must start even when the working folder's is broken): run(args) only.
OWN_CONFIG_COMMANDS = ("lsp",)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 with usage: keep that, one line more
        self.print_usage(sys.stderr)
        raise PgPreflightError(message, EXIT_USAGE)


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _jobs(value: str) -> int:
    """0 to 64 processes: a typo must not fork a thousand."""
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of processes") from None
    if not 0 <= jobs <= 64:
        raise argparse.ArgumentTypeError(f"{jobs} is not between 0 and 64")
    return jobs


def add_paths(parser: argparse.ArgumentParser) -> None:
    """The migrations to read and the configuration, as every command that reads them takes them."""
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="migration files or folders (default: 'migrations' from the configuration)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="configuration file (default: nearest pgpreflight.toml or pyproject.toml)",
    )


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options that select rules and shape findings, shared by `lint` and `check`."""
    add_paths(parser)
    parser.add_argument(
        "--preset",
        choices=("guide", "safety"),
        help="rule set: guide (house conventions and safety, the default) or safety only",
    )
    parser.add_argument(
        "--select", type=_csv, help="only these rules (comma-separated ids, or ALL)"
    )
    parser.add_argument(
        "--extend-select", type=_csv, help="enable these rules in addition (e.g. opt-in ones)"
    )
    parser.add_argument("--ignore", type=_csv, help="skip these rules (comma-separated ids)")
    parser.add_argument(
        "--severity",
        action="append",
        metavar="RULE=LEVEL",
        default=[],
        help="override a rule's severity (repeatable)",
    )
    parser.add_argument(
        "--pg-version", help="target PostgreSQL version, e.g. 15 or 14.2 (default 15)"
    )
    from pgpreflight.linter.conventions import CONVENTIONS

    parser.add_argument(
        "--convention",
        choices=CONVENTIONS,
        help="migration convention (default: auto-detect)",
    )
    parser.add_argument(
        "--fail-on",
        choices=("error", "warning", "info"),
        help="lowest severity that fails the run (default error)",
    )
    parser.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when findings reach the threshold"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    parser.add_argument(
        "--changed-since",
        metavar="REF",
        help="report only migrations added or modified since this git ref (the rest is history)",
    )
    color = parser.add_mutually_exclusive_group()
    color.add_argument(
        "--color", dest="color", action="store_true", default=None, help="force colour"
    )
    color.add_argument("--no-color", dest="color", action="store_false", help="never colour")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `command`, the other commands' options are left out (they
    are listed with their help text all the same)."""
    parser = _Parser(
        prog="pgpreflight",
        description="Reviews PostgreSQL schema migrations before they reach production.",
    )
    parser.add_argument("--version", action="version", version=f"pgpreflight {__version__}")
    parser.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    lint = sub.add_parser("lint", help="lint migrations without a database")
    add_common(lint)
    from pgpreflight.linter.config import TRANSACTION_MODES
    from pgpreflight.linter.report import FORMATS

    lint.add_argument(
        "--format",
        "-f",
        choices=sorted(FORMATS),
        default="text",
        help="output format (default text)",
    )
    lint.add_argument(
        "--output", "-o", type=Path, help="write the report to this file instead of standard output"
    )
    lint.add_argument(
        "--json",
        dest="json_result",
        type=Path,
        help="also save the full result as JSON (for 'pgpreflight report')",
    )
    from pgpreflight.linter.report.cli import add_report_options

    add_report_options(lint)
    lint.add_argument(
        "--stdin-filename",
        metavar="PATH",
        help="with '-' as the path: the file the SQL on standard input stands for (its name gives "
        "the version and convention, its place the configuration; reports show it)",
    )
    lint.add_argument(
        "--transaction",
        choices=TRANSACTION_MODES,
        help="how the migration runner uses transactions (default: 'transaction' in the "
        "configuration, else per-file; auto: per-file except files with a statement that cannot "
        "run in a transaction)",
    )
    lint.add_argument(
        "--baseline", type=Path, help="report only findings not recorded in this baseline file"
    )
    lint.add_argument(
        "--write-baseline",
        type=Path,
        metavar="FILE",
        help="record today's findings in FILE and exit 0",
    )
    lint.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the lint cache (.pgpreflight_cache beside the configuration)",
    )
    lint.add_argument(
        "--jobs",
        type=_jobs,
        default=0,
        metavar="N",
        help="check migrations in N processes (default 0: one per core, up to 4, once the "
        "migrations to check hold 500 UP statements; 1: none); the findings are the same",
    )
    lint.add_argument(
        "--allow-empty",
        action="store_true",
        help="exit 0 when the paths hold no migration (default: exit 2)",
    )
    lint.add_argument(
        "--fix",
        action="store_true",
        help="apply the safe fixes to the files given, then report what is left",
    )
    lint.add_argument(
        "--unsafe-fixes",
        action="store_true",
        help="with --fix or --diff, also apply the fixes that change behaviour (a column type, a "
        "constraint split into a new migration)",
    )
    lint.add_argument(
        "--diff",
        action="store_true",
        help="print the fixes as a unified diff instead of writing them; exit 1 when there is one",
    )
    clean = sub.add_parser("clean", help="remove the lint cache (.pgpreflight_cache)")
    clean.add_argument(
        "paths", nargs="*", type=Path, help="the project folder (default: the working folder)"
    )
    clean.add_argument("--config", type=Path, help="configuration file of the project")
    rules = sub.add_parser("rules", help="list every rule")
    rules.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text: one line per rule; json: every field, for tools; markdown: the README's "
        "table (default text)",
    )
    rule = sub.add_parser("rule", help="show one rule's documentation")
    rule.add_argument(
        "rule_id",
        metavar="ID",
        help="the rule's id, e.g. require-concurrent-index ('pgpreflight rules' lists them)",
    )
    for name, (module_name, help_text) in EXTERNAL_COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text)
        # Only the command being run imports its module for its options: `lint` on every
        # commit must not pay for importing `check`, `report` and `schema`.
        if command is None or command == name:
            importlib.import_module(module_name).add_arguments(cmd)
    return parser


def resolve_config(args: argparse.Namespace) -> Any:
    """Load the configuration: --config, else one in the single folder given, else walk up."""
    from pgpreflight.linter.config import CONFIG_FILES, apply_overrides, find_config, load_config

    config_path: Path | None = getattr(args, "config", None)
    paths: list[Path] = list(getattr(args, "paths", None) or [])
    if config_path is None and len(paths) == 1 and paths[0].is_dir():
        for name in CONFIG_FILES:
            if (paths[0] / name).is_file() and find_config(paths[0]) == paths[0] / name:
                config_path = paths[0] / name
                break
    stdin_name = getattr(args, "stdin_filename", None)
    start = Path(stdin_name).resolve().parent if stdin_name and _reads_stdin(args) else None
    config = load_config(config_path, start=start)
    severity: dict[str, str] = {}
    for item in getattr(args, "severity", None) or []:
        rule_id, sep, level = item.partition("=")
        if not sep:
            raise ConfigError(f"--severity expects RULE=LEVEL, got {item!r}")
        severity[rule_id.strip()] = level.strip()
    overrides = {
        "preset": getattr(args, "preset", None),
        "select": getattr(args, "select", None),
        "extend-select": getattr(args, "extend_select", None),
        "ignore": getattr(args, "ignore", None),
        "pg-version": getattr(args, "pg_version", None),
        "convention": getattr(args, "convention", None),
        "transaction": getattr(args, "transaction", None),
        "fail-on": getattr(args, "fail_on", None),
        "severity": severity or None,
    }
    return apply_overrides(config, overrides)


def _reads_stdin(args: argparse.Namespace) -> bool:
    """`pgpreflight lint -`: the SQL comes from standard input (as ruff and sqlfluff take it)."""
    from pgpreflight.linter.errors import InputError

    paths = [str(p) for p in getattr(args, "paths", None) or []]
    if "-" not in paths:
        if getattr(args, "stdin_filename", None):
            raise InputError("--stdin-filename needs '-' as the path (SQL on standard input)")
        return False
    if len(paths) > 1:
        raise InputError("'-' (standard input) cannot be combined with other paths")
    return True


def _lint_stdin(args: argparse.Namespace, config: Any, changes: Any, progress: Any) -> Any:
    from pgpreflight.linter.stdin import lint_stdin

    text = sys.stdin.buffer.read().decode("utf-8-sig", errors="replace")
    return lint_stdin(text, args.stdin_filename, config, changes=changes, progress=progress)


def lint_targets(args: argparse.Namespace, config: Any) -> dict[str, Any]:
    """Which migrations to lint and which only to read as history for the schema model."""
    from pgpreflight.linter.errors import InputError

    paths: list[Path] = list(args.paths or [])
    configured = config.migration_paths()
    if not paths:
        if not configured:
            raise InputError(
                "no migrations given: pass a folder or file, or set 'migrations' in pgpreflight.toml "
                "(run 'pgpreflight init' to write one)"
            )
        return {"paths": configured}
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: no such file or directory")
    if (
        len(paths) == 1
        and paths[0].is_dir()
        and config.path is not None
        and paths[0].resolve() == config.root
        and configured
    ):
        return {"paths": configured}
    if configured and all(p.is_file() for p in paths):
        # pre-commit passes changed files; the model still needs the whole history. Files outside
        # the migration folders (application queries, seeds) are not migrations: skip them.
        history = [c for c in configured if c.exists()]
        roots = [c.resolve() for c in history]
        inside = [
            p for p in paths if any(r == p.resolve() or r in p.resolve().parents for r in roots)
        ]
        return {"paths": inside, "history": history, "only": inside}
    return {"paths": paths}


def lint_selected(
    targets: dict[str, Any],
    config: Any,
    changes: Any,
    progress: Any = None,
    cache: Any = None,
    jobs: int = 1,
    overlay: Any = None,
) -> Any:
    """`engine.lint` over what `lint_targets` selected: the paths, the history read only for
    the model, the files reported."""
    from pgpreflight.linter.engine import lint

    return lint(
        targets["paths"],
        config,
        only=targets.get("only"),
        history=targets.get("history", ()),
        changes=changes,
        progress=progress,
        cache=cache,
        jobs=jobs,
        overlay=overlay,
    )


def changes_for(args: argparse.Namespace) -> Any:
    """The change set of a `--changed-since REF` run, or None."""
    ref = getattr(args, "changed_since", None)
    if not ref:
        return None
    from pgpreflight.linter.changes import from_git

    return from_git(ref, Path.cwd())


def collect_secrets(args: argparse.Namespace, config: Any) -> Secrets:
    """The run's `Secrets`, built once: the passwords of `--database` and of the DSN variables,
    PGPASSWORD and the `secret-env` variables, which leave os.environ (see linter/secrets.py)."""
    return Secrets.take(
        os.environ, dsns=[getattr(args, "database", None)], names=config.get("secret-env")
    )


def cmd_lint(
    args: argparse.Namespace, config: Any, secrets: Secrets, keep: list[object] | None = None
) -> int:
    from pgpreflight.linter.progress import Progress
    from pgpreflight.linter.report import RenderOptions, renderer

    stdin = _reads_stdin(args)
    fixing = args.fix or args.diff
    if args.unsafe_fixes and not fixing:
        raise ConfigError("--unsafe-fixes goes with --fix or --diff")
    if fixing and (stdin or args.write_baseline):
        from pgpreflight.linter.errors import InputError

        what = "'-' (standard input)" if stdin else "--write-baseline"
        raise InputError(f"--fix and --diff change files: they cannot be combined with {what}")
    targets = {"paths": [], "only": []} if stdin else lint_targets(args, config)
    progress = Progress.for_terminal(args.quiet)
    changes = changes_for(args)
    # --fix lints texts that are not on disk yet: the cache, keyed by the files, is no help
    cache, key = (None, "") if stdin or fixing else _lint_cache(args, config, targets, changes)
    saved = cache.load(key) if cache is not None else None
    if fixing:
        result, code = _fix(args, config, targets, changes, progress)
        if code is not None:
            progress.done()
            return code
    elif stdin:
        result = _lint_stdin(args, config, changes, progress)
    elif saved is not None:
        from pgpreflight.linter.result import RunResult

        result = RunResult.from_dict(saved, "lint cache", owned=True)
        result.config = config
    else:
        result = lint_selected(targets, config, changes, progress, cache, args.jobs)
        if cache is not None:
            cache.store(key, result.to_dict())  # scrubbed by pattern, as redact() would
    progress.done()
    _require_migrations(result, targets, args, config)
    if args.write_baseline:
        from pgpreflight.linter import baseline

        write_output(baseline.dump(result.findings), args.write_baseline)
        sys.stderr.write(
            f"pgpreflight: recorded {len(result.findings)} finding(s) in {args.write_baseline}\n"
        )
        return 0
    if args.baseline:
        from pgpreflight.linter import baseline

        known = baseline.load(args.baseline)
        result.findings = baseline.filter_new(result.findings, known)
    from pgpreflight.linter.report.cli import attach_evidence, wants_report, write_reports

    if wants_report(args):
        attach_evidence(result, args, config, command="lint")
    result.redact(secrets, patterns_done=saved is not None)
    options = RenderOptions(color=use_color(args), fail_on=config.fail_on)
    output = renderer(args.format)(result, options)
    if args.json_result:
        from pgpreflight.linter.report import json_format

        write_output(json_format.render(result, options), args.json_result)
    write_reports(result, args)
    write_output(output, args.output)
    if keep is not None:
        keep.append(result)  # see `run`: freed by the end of the process, not object by object
    if args.exit_zero:
        return 0
    return 1 if result.failed(config.fail_on) else 0


def _require_migrations(
    result: Any, targets: dict[str, Any], args: argparse.Namespace, config: Any
) -> None:
    """A typo in a CI path must not pass forever: nothing found is an error, not "all passed"."""
    if not result.migrations and targets.get("only") is None and not args.allow_empty:
        from pgpreflight.linter.errors import InputError

        where = ", ".join(str(p) for p in targets["paths"]) or "."
        raise InputError(
            f"no migrations found under {where} (convention: {config.get('convention')}); "
            "check the path, or pass --allow-empty"
        )


def _fix(
    args: argparse.Namespace, config: Any, targets: dict[str, Any], changes: Any, progress: Any
) -> tuple[Any, int | None]:
    """Run the fix passes (linter/fixer.py); write the files, or with --diff print them. The
    result of linting the fixed texts, and the exit code when --diff ends the run here."""
    from pgpreflight.linter import fixer

    def lint_with(overlay: Any) -> Any:
        result = lint_selected(targets, config, changes, progress, jobs=args.jobs, overlay=overlay)
        if args.baseline:
            from pgpreflight.linter import baseline

            result.findings = baseline.filter_new(result.findings, baseline.load(args.baseline))
        return result

    only = targets.get("only")
    named = {p.resolve() for p in only} if only is not None else None

    def may_change(result: Any) -> set[Path]:
        files = {s.path.resolve() for m in result.migrations if m.reported for s in m.sources}
        return files if named is None else files & named

    outcome = fixer.run_passes(lint_with, unsafe=args.unsafe_fixes, may_change=may_change)
    _require_migrations(outcome.result, targets, args, config)
    for problem in outcome.refused:
        sys.stderr.write(
            f"pgpreflight: warning: {printable(problem)}: not applied (please report it)\n"
        )
    if not outcome.settled:
        sys.stderr.write(
            f"pgpreflight: warning: fixes still changed the files after {fixer.MAX_PASSES} "
            "passes; run --fix again, and please report it\n"
        )
    changed = [c for c in outcome.changes.values() if c.before != c.after]
    created = sum(1 for c in changed if c.before is None)
    what = f"{outcome.fixed} fix{'es' if outcome.fixed != 1 else ''}"
    edited = len(changed) - created
    where = " and ".join(
        [f"{edited} file{'s' if edited != 1 else ''}"] * bool(edited)
        + [f"{created} new file{'s' if created != 1 else ''}"] * bool(created)
    )
    more = f" ({outcome.hidden_unsafe} more with --unsafe-fixes)" if outcome.hidden_unsafe else ""
    if args.diff:
        for change in sorted(changed, key=lambda c: c.display):
            sys.stdout.write(printable(fixer.unified_diff(change), keep="\n\t"))
        sys.stderr.write(
            f"pgpreflight: would apply {what} to {where}{more}; nothing written\n"
            if changed
            else f"pgpreflight: nothing to fix{more}\n"
        )
        return outcome.result, 1 if changed else 0
    fixer.write(changed)
    sys.stderr.write(
        f"pgpreflight: applied {what} to {where}{more}\n"
        if changed
        else f"pgpreflight: nothing to fix{more}\n"
    )
    return outcome.result, None


def _lint_cache(
    args: argparse.Namespace, config: Any, targets: dict[str, Any], changes: Any
) -> tuple[Any, str]:
    """The project's lint cache and this run's key, or (None, "") with --no-cache."""
    if args.no_cache:
        return None, ""
    from pgpreflight.linter.cache import LintCache, header, input_files, run_key
    from pgpreflight.linter.queries.loading import query_files

    folders = [*targets.get("history", ()), *targets["paths"]]
    files = [*input_files(folders), *query_files(config)]
    base = header(config.values, config.path)
    key = run_key(files, base, only=targets.get("only"), changes=changes)
    return LintCache.beside(config.root, base), key


def _command_of(argv: Sequence[str] | None) -> str | None:
    """The command word of `argv` (its first argument that is no option), if it is one."""
    words = list(sys.argv[1:] if argv is None else argv)
    first = next((w for w in words if not w.startswith("-")), None)
    return (
        first if first in EXTERNAL_COMMANDS or first in ("lint", "rules", "rule", "clean") else None
    )


def cmd_clean(args: argparse.Namespace) -> int:
    from pgpreflight.linter.cache import LintCache

    config = resolve_config(args)
    cache = LintCache.beside(config.root)
    removed = cache.clean()
    sys.stderr.write(
        f"pgpreflight: removed {cache.directory}\n"
        if removed
        else f"pgpreflight: no cache at {cache.directory}\n"
    )
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    import json

    from pgpreflight.linter.registry import all_rules

    rules = all_rules()
    if args.format == "json":
        sys.stdout.write(json.dumps([r.to_dict() for r in rules.values()], indent=2) + "\n")
    elif args.format == "markdown":
        from pgpreflight.linter.ruletable import rule_table

        sys.stdout.write(rule_table())
    else:
        width = max(len(r) for r in rules)
        for r in rules.values():
            flag = " (opt-in)" if r.opt_in else ""
            sys.stdout.write(f"{r.id:<{width}}  {r.severity:<7}  {r.summary}{flag}\n")
    return 0


def cmd_rule(args: argparse.Namespace) -> int:
    from pgpreflight.linter.registry import all_rules

    rules = all_rules()
    rule = rules.get(args.rule_id)
    if rule is None:
        import difflib

        close = difflib.get_close_matches(args.rule_id, list(rules), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else " (see 'pgpreflight rules')"
        raise ConfigError(f"unknown rule '{args.rule_id}'{hint}")
    doc = (rule.module.__doc__ or "").strip("\n")
    import textwrap

    head = f"{rule.id} ({rule.severity}{', opt-in' if rule.opt_in else ''})"
    sys.stdout.write(head + "\n" + "=" * len(head) + "\n\n" + textwrap.dedent(doc).strip() + "\n")
    if rule.options:
        sys.stdout.write("\nOptions (defaults):\n")
        for k, v in rule.options.items():
            sys.stdout.write(f"  {k} = {v!r}\n")
    if rule.equivalents:
        sys.stdout.write(
            "\nEquivalents: "
            + ", ".join(f"{k}: {' '.join(v)}" for k, v in rule.equivalents.items())
            + "\n"
        )
    return 0


def run() -> NoReturn:
    """The `pgpreflight` command: `main`, then the process ends at once.

    A lint run builds millions of objects (parse trees, a schema model per migration). Freeing
    them one by one, then tearing the interpreter down, took a twentieth of a long history's
    lint once its output was written; as mypy does, the command ends without either. Not after a
    run that started PostgreSQL (`check`): its exit hooks stop servers left running."""
    kept: list[object] = []
    code = main(keep=kept)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: the rest is lost anyway
            stream.flush()
    if "pgpreflight.linter.pgserver" in sys.modules:
        sys.exit(code)
    os._exit(code)


def main(argv: Sequence[str] | None = None, *, keep: list[object] | None = None) -> int:
    """The command line, run in this process and left as it was found (tests call it); `keep`
    receives what a lint built, for `run` to leave to the end of the process."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    secrets = Secrets()
    handlers = logging.getLogger().handlers
    log_filter: RedactingFilter | None = None
    try:
        parser = build_parser(_command_of(argv))
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        if args.command == "rules":
            return cmd_rules(args)
        if args.command == "clean":
            return cmd_clean(args)
        if args.command == "rule":
            return cmd_rule(args)
        if args.command in OWN_CONFIG_COMMANDS:
            return int(importlib.import_module(EXTERNAL_COMMANDS[args.command][0]).run(args))
        config = resolve_config(args)
        secrets = collect_secrets(args, config)
        log_filter = RedactingFilter(secrets)
        for handler in handlers:
            handler.addFilter(log_filter)
        if args.command == "lint":
            return cmd_lint(args, config, secrets, keep)
        module = importlib.import_module(EXTERNAL_COMMANDS[args.command][0])
        return int(module.run(args, config, secrets))
    except PgPreflightError as err:
        sys.stderr.write(f"pgpreflight: error: {printable(secrets.redact(err.message))}\n")
        return err.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("pgpreflight: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # a bug: one line by default, the traceback with --debug
        if debug:
            import traceback

            sys.stderr.write(secrets.redact(traceback.format_exc()))
            return EXIT_INTERNAL
        detail = printable(secrets.redact(f"{type(err).__name__}: {err}"))
        sys.stderr.write(
            f"pgpreflight: internal error: {detail} "
            "(rerun with --debug for the traceback, and please report it)\n"
        )
        return EXIT_INTERNAL
    finally:
        # main() leaves the process as it found it, so it can run again in one process (tests
        # do): the taken variables go back, the filter comes off.
        os.environ.update(secrets.taken)
        if log_filter is not None:
            for handler in handlers:
                handler.removeFilter(log_filter)
