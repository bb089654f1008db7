"""`pgpreflight check` options and entry point (called by linter/cli.py): the command layer
over the check engine (linter/check/), which records a result, and the reports
(linter/report/), which render it; the engine imports neither.

Imports nothing heavy at module level: `pgpreflight lint` builds the same parser.
"""

from __future__ import annotations

import argparse
import copy
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pgpreflight.linter.errors import ConfigError
from pgpreflight.linter.secrets import Secrets

DATABASE_ENV = "PGPREFLIGHT_DATABASE_URL"
_LIBPQ_TARGET_ENV = ("PGHOST", "PGDATABASE", "PGSERVICE")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pgpreflight.linter.cli import add_common
    from pgpreflight.linter.report import FORMATS

    add_common(parser)
    db = parser.add_argument_group("database")
    db.add_argument(
        "--database",
        metavar="DSN",
        help=f"target database, read-only unless --execute-on-target (default: ${DATABASE_ENV}, "
        "else the PG* variables; without any: a scratch server)",
    )
    db.add_argument(
        "--scratch", action="store_true", help="ignore the environment: always use a scratch server"
    )
    db.add_argument(
        "--execute-on-target",
        action="store_true",
        help="apply pending migrations on the target inside one transaction "
        "that is always rolled back "
        "(for a disposable staging copy)",
    )
    db.add_argument(
        "--pg-bin", type=Path, metavar="DIR", help="PostgreSQL binaries for the scratch server"
    )
    db.add_argument(
        "--allow-version-mismatch",
        action="store_true",
        help="with an explicit pg-version and no server binaries of that major, run on the "
        "ones found (the report states both versions) instead of exiting 2",
    )
    db.add_argument(
        "--scratch-superuser",
        action="store_true",
        default=None,
        help="run migrations as the scratch server's superuser, without the sandbox "
        "(COPY ... PROGRAM, untrusted extensions); the report warns",
    )
    db.add_argument(
        "--scratch-extension",
        action="append",
        metavar="NAME",
        help="an untrusted extension the superuser creates for migrations on the scratch "
        "server (repeatable; adds to scratch-extensions)",
    )
    db.add_argument(
        "--history-table", help="table of applied migrations on the target (default: auto-detect)"
    )
    db.add_argument("--history-version-column", help="its version column (default 'version')")
    db.add_argument(
        "--sample-rows", type=int, help="rows copied per table from the target (default 100000)"
    )
    db.add_argument(
        "--statement-timeout", help="statement_timeout of every target session (default 30s)"
    )
    db.add_argument("--lock-timeout", help="lock_timeout of every target session (default 2s)")
    db.add_argument(
        "--idle-in-transaction-timeout", help="idle_in_transaction_session_timeout (default 60s)"
    )
    run = parser.add_argument_group("what to run")
    run.add_argument(
        "--since", metavar="VERSION", help="pending migrations start at this version (scratch mode)"
    )
    run.add_argument(
        "--transaction",
        choices=("per-file", "auto", "per-statement", "none"),
        help="how the migration runner uses transactions (default per-file; auto: per-file "
        "except files with statements that cannot run in a transaction)",
    )
    run.add_argument(
        "--setup",
        type=Path,
        metavar="FILE.sql",
        help="SQL the scratch server's superuser runs once before the baseline: roles, schemas, "
        "extensions the history assumes (default: setup in the configuration; never on a target)",
    )
    run.add_argument(
        "--data", type=Path, metavar="FILE.sql", help="SQL run after the baseline (sample data)"
    )
    run.add_argument(
        "--no-dump-diff", action="store_true", help="skip the pg_dump diff of failed round trips"
    )
    run.add_argument(
        "--synthesize-rows",
        type=int,
        metavar="N",
        help="rows generated per empty table for EXPLAIN (default: 10000 when a table is empty)",
    )
    run.add_argument(
        "--no-explain", action="store_true", help="skip EXPLAIN ANALYZE of new indexes and queries"
    )
    gate = parser.add_argument_group("exit code")
    gate.add_argument(
        "--lint-fail-on",
        choices=("error", "warning", "info"),
        metavar="LEVEL",
        help="also exit 1 when a lint finding reaches LEVEL (error|warning|info); by default "
        "check exits 1 only when a migration fails to apply or round-trip, or --test-command "
        "fails",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--format",
        "-f",
        choices=sorted(FORMATS),
        default="text",
        help="output format (default text; text adds the database check, the others carry "
        "the findings as lint writes them, json the whole result)",
    )
    out.add_argument("--output", "-o", type=Path, help="write the report to this file")
    out.add_argument(
        "--json", dest="json_result", type=Path, help="also save the full result as JSON"
    )
    from pgpreflight.linter.report.cli import add_report_options

    add_report_options(out, test_command=True)


def target_dsn(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> str | None:
    """The target's connection string, or None for scratch mode.

    `environ` is the environment as it was before the CLI took the secrets out of it (the run's
    `Secrets.taken` over os.environ). PGPASSWORD, taken out so no child process inherits it,
    goes into the connection string when that has no password of its own."""
    env = os.environ if environ is None else environ
    if getattr(args, "scratch", False):
        return None
    dsn: str | None = None
    if args.database:
        dsn = str(args.database)
    elif env.get(DATABASE_ENV):
        dsn = env[DATABASE_ENV]
    elif any(env.get(name) for name in _LIBPQ_TARGET_ENV):
        dsn = ""  # libpq reads the PG* variables
    password = env.get("PGPASSWORD")
    if dsn is None or not password or os.environ.get("PGPASSWORD") == password:
        return dsn
    from pgpreflight.linter.secrets import dsn_password

    if dsn_password(dsn):
        return dsn
    from psycopg.conninfo import make_conninfo

    return str(make_conninfo(dsn, password=password))


def _overrides(args: argparse.Namespace, config: Any) -> Any:
    from pgpreflight.linter.config import apply_overrides

    values = {
        "history-table": args.history_table,
        "history-version-column": args.history_version_column,
        "sample-rows": args.sample_rows,
        "synthesize-rows": args.synthesize_rows,
        "statement-timeout": args.statement_timeout,
        "lock-timeout": args.lock_timeout,
        "idle-in-transaction-timeout": args.idle_in_transaction_timeout,
        "scratch-superuser": args.scratch_superuser,
    }
    if args.scratch_extension:
        values["scratch-extensions"] = [
            *config.get("scratch-extensions"),
            *args.scratch_extension,
        ]
    return apply_overrides(config, values)


def run(args: argparse.Namespace, config: Any, secrets: Secrets | None = None) -> int:
    from pgpreflight.linter.check.expected import rule_claims
    from pgpreflight.linter.check.result import CheckResult
    from pgpreflight.linter.check.runner import CheckOptions, run_scratch
    from pgpreflight.linter.check.sandbox import Sandbox
    from pgpreflight.linter.check.trace import group_findings
    from pgpreflight.linter.cli import changes_for, lint_selected, lint_targets
    from pgpreflight.linter.output import use_color, write_output
    from pgpreflight.linter.report import RenderOptions, renderer
    from pgpreflight.linter.report.check_text import render_check

    secrets = secrets if secrets is not None else Secrets()
    config = _overrides(args, config)
    dsn = target_dsn(args, {**os.environ, **secrets.taken})
    if args.execute_on_target and dsn is None:
        raise ConfigError("--execute-on-target needs a target: --database DSN or $" + DATABASE_ENV)
    if args.data is not None and not args.data.is_file():
        raise ConfigError(f"--data {args.data}: no such file")
    # --setup is relative to the working directory, `setup` to the configuration file
    setup = args.setup if args.setup is not None else config.setup_file
    if setup is not None and not setup.is_file():
        where = "--setup" if args.setup is not None else f"{config.path or 'configuration'}: setup"
        raise ConfigError(f"{where} {setup}: no such file")
    targets = lint_targets(args, config)
    changes = changes_for(args)
    result = lint_selected(targets, config, changes)

    # The lint findings come first, before the database phase that may take minutes: a reader
    # (or a CI log) sees them at once. Reports and files still get the whole result at the end.
    early_lint = args.format == "text" and args.output is None
    if early_lint:
        lint_view = copy.copy(result)
        lint_view.redact(secrets)
        early = renderer("text")(
            lint_view, RenderOptions(color=use_color(args), fail_on=config.fail_on)
        )
        write_output(early if early.endswith("\n") else early + "\n", None)
        sys.stdout.flush()

    from pgpreflight.linter.progress import Progress

    # One status line on a terminal (which migration, which step); one line per step in CI logs.
    status = Progress.for_phases(args.quiet)

    def say(message: str) -> None:  # names the test command, which may hold a secret
        status(f"pgpreflight: {secrets.redact(message)}", True)

    progress = say if status.enabled else None
    options = CheckOptions(
        transaction_mode=args.transaction or str(config.get("transaction")),
        since=args.since,
        changed=changes.is_changed if changes is not None else None,
        data_file=args.data,
        setup_file=setup,
        pg_bin=args.pg_bin,
        pg_major=config.pg_version.major,
        pg_requested=(str(config.get("pg-version")) if "pg-version" in config.values else None),
        allow_version_mismatch=args.allow_version_mismatch,
        dump_diff=not args.no_dump_diff,
        findings=group_findings(result.findings),
        rule_claims=rule_claims({r.id: r for r in result.rules}),
        progress=progress,
        test_command=args.test_command,
        sandbox=Sandbox(
            superuser=bool(config.get("scratch-superuser")),
            extensions=tuple(config.get("scratch-extensions")),
        ),
    )
    if not args.no_explain:
        options.explain = _explain_step(config, result, progress, dsn)
    check: CheckResult
    try:
        if dsn is None:
            check = run_scratch(result.migrations, options)
        else:
            from pgpreflight.linter.check.target import TargetOptions, run_target

            check = run_target(
                result.migrations,
                options,
                TargetOptions.from_config(dsn, config, args.execute_on_target),
            )
            check.notes.extend(_scratch_only_notes(setup, args.data))
    except Exception:
        from pgpreflight.linter.pgserver import interrupted_by

        signum = interrupted_by()
        if signum is not None:  # only the server vanishing under Ctrl-C/SIGTERM: say that
            if signum == signal.SIGINT:
                raise KeyboardInterrupt from None
            raise SystemExit(128 + signum) from None
        raise
    status.done()
    if check.target is not None and check.target.history_warning:
        from pgpreflight.linter.printable import printable

        warning = printable(secrets.redact(check.target.history_warning))
        sys.stderr.write(f"pgpreflight: warning: {warning}\n")
    result.check = check.to_dict()
    from pgpreflight.linter.report.cli import attach_evidence, wants_report, write_reports

    if wants_report(args):
        attach_evidence(result, args, config, command="check", target_dsn=dsn)
    result.redact(secrets)
    check_dict: dict[str, Any] = result.check or {}
    render_options = RenderOptions(color=use_color(args), fail_on=config.fail_on)
    if args.format != "text":
        output = renderer(args.format)(result, render_options)
    else:
        lint_text = "" if early_lint else renderer("text")(result, render_options) + "\n"
        output = lint_text + render_check(check_dict)
        if check_dict.get("explain"):
            from pgpreflight.linter.report.explain_text import render_evidence

            output += "\n" + render_evidence(check_dict["explain"])
    if not output.endswith("\n"):
        output += "\n"
    if args.format == "text":
        # The deploy checklist's verdict, in the words the HTML page and the PR comment use (one
        # function decides it for all three). The exit code gates on apply and round trip only,
        # unless --lint-fail-on: a reviewer's "not ready" is not always a CI failure.
        from pgpreflight.linter.printable import printable
        from pgpreflight.linter.report.checklist import checklist

        verdict = checklist(result.to_dict())
        output += (
            printable(f"deploy checklist: {verdict['verdict'].upper()}: {verdict['reason']}") + "\n"
        )
    if args.json_result:
        write_output(renderer("json")(result, render_options), args.json_result)
    write_output(output, args.output)
    write_reports(result, args)
    for written in (
        args.output,
        args.json_result,
        getattr(args, "report", None),
        getattr(args, "markdown", None),
    ):
        if written is not None:
            sys.stderr.write(f"pgpreflight: wrote {written}\n")
    if args.exit_zero:
        return 0
    tests_failed = check.tests is not None and check.tests.get("exit_code") != 0
    # Lint findings gate `check` only when asked: CI asks "does every migration apply and
    # round-trip", and `pgpreflight lint` is where the findings threshold lives.
    lint_failed = args.lint_fail_on is not None and result.failed(args.lint_fail_on)
    return 1 if check.failed or tests_failed or lint_failed else 0


def _scratch_only_notes(setup: Path | None, data: Path | None) -> list[str]:
    """Target mode reads the target's own schema and rows: what prepares a scratch server is
    not run, and the result says so instead of passing over it."""
    notes = []
    if setup is not None:
        notes.append(
            f"setup {setup} not run: it prepares the scratch server, and a target has its own "
            "roles, schemas and extensions"
        )
    if data is not None:
        notes.append(f"--data {data} not loaded: against a target, the data is a sample of it")
    return notes


def _explain_step(config: Any, result: Any, progress: Any, dsn: str | None) -> Any:
    """The callable the runner invokes for the EXPLAIN step (linter.explain.run_explain). It
    judges indexes on lint's own schema model, handed down, not replayed again."""
    from pgpreflight.linter.explain.runner import ExplainOptions, run_explain, schema_after

    migrations = result.migrations
    explain_options = ExplainOptions.from_config(config, progress=progress)
    final = result.final() if result.final is not None else None
    schema = final if final is not None else schema_after(migrations)
    if dsn is not None:  # target mode: the target's pg_stat_statements is workload too
        from pgpreflight.linter.check.target import TargetOptions, connect
        from pgpreflight.linter.explain.hypo import read_estimates
        from pgpreflight.linter.explain.workload import read_workload

        target_options = TargetOptions.from_config(dsn, config, False)

        def session() -> Any:  # read-only, tagged, with every timeout, like all target sessions
            return connect(dsn, target_options, read_only=True)

        explain_options.workload = lambda tables: read_workload(session, tables)
        explain_options.hypothetical = lambda idx, queries: read_estimates(session, idx, queries)

    def explain(conn_factory: Any, pending: Any, check_result: Any) -> dict[str, Any]:
        target = getattr(check_result, "target", None)
        if target is not None:
            explain_options.target_rows = {
                (t if "." in t else f"public.{t}"): float(n) for t, n in target.target_rows.items()
            }
        # what the baseline really holds: the --data file once loaded, the target's sample
        explain_options.data_source = check_result.data
        evidence = run_explain(
            conn_factory, pending, schema, config, history=migrations, options=explain_options
        )
        return evidence.to_dict()

    return explain
