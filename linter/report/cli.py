"""`pgpreflight report`: render a saved result again, and the report options `lint` and `check`
share (`--report FILE.html`, `--markdown FILE`, review and test evidence).

    pgpreflight report result.json --html report.html --markdown comment.md
    pgpreflight report result.json --format sarif -o results.sarif

Renders from the saved JSON only: no database, no migration files needed. Imports nothing
heavy at module level (the lint parser is built from this module too).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.errors import ConfigError, InputError

if TYPE_CHECKING:
    from pgpreflight.linter.secrets import Secrets

EXTRA_FORMATS = ("html", "markdown")


def _formats() -> list[str]:
    from pgpreflight.linter.report import FORMATS

    return sorted({*FORMATS, *EXTRA_FORMATS})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "result", type=Path, help="a result saved with --json by 'pgpreflight lint' or 'check'"
    )
    parser.add_argument(
        "--html", type=Path, metavar="FILE", help="write the self-contained HTML report"
    )
    parser.add_argument(
        "--markdown", type=Path, metavar="FILE", help="write the pull-request comment (Markdown)"
    )
    parser.add_argument(
        "--format",
        "-f",
        choices=_formats(),
        help="also print the result in this format (default text when no file is asked for)",
    )
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        help="write --format's output to this file instead of standard output",
    )
    add_evidence_options(parser, test_command=False)
    parser.add_argument("--project", help="project name shown in the header (default: as saved)")
    parser.add_argument(
        "--link-base",
        default="",
        type=link_base,
        metavar="URL",
        help="prefix for Markdown links to lines, e.g. https://github.com/o/r/blob/SHA",
    )
    color = parser.add_mutually_exclusive_group()
    color.add_argument(
        "--color", dest="color", action="store_true", default=None, help="force colour"
    )
    color.add_argument("--no-color", dest="color", action="store_false", help="never colour")


def link_base(value: str) -> str:
    """`--link-base`: an http(s) URL only (argparse turns the error into exit 2 and usage)."""
    if not value:  # argparse passes the default through here too, on every run
        return value
    from pgpreflight.linter.report.markdown import check_link_base

    try:
        return check_link_base(value)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(err.message) from None


def add_evidence_options(
    parser: argparse.ArgumentParser | Any, *, test_command: bool = True
) -> None:
    """Checklist evidence the run cannot find by itself."""
    parser.add_argument(
        "--test-results",
        type=Path,
        action="append",
        default=[],
        metavar="JUNIT.xml",
        help="JUnit XML of the integration tests (repeatable)",
    )
    if test_command:
        parser.add_argument(
            "--test-command",
            metavar="CMD",
            help="run the integration tests with DATABASE_URL pointing at the migrated scratch database",
        )
    parser.add_argument(
        "--reviewed-by",
        action="append",
        default=[],
        metavar="NAME",
        help="who reviewed the migrations, when no Reviewed-by: trailer says so (repeatable)",
    )


def add_report_options(
    parser: argparse.ArgumentParser | Any, *, test_command: bool = False
) -> None:
    """`--report FILE.html` and `--markdown FILE` (plus evidence options) for `lint` and `check`."""
    parser.add_argument(
        "--report", type=Path, metavar="FILE.html", help="also write the self-contained HTML report"
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="FILE",
        help="also write the pull-request comment (Markdown)",
    )
    parser.add_argument(
        "--link-base",
        default="",
        type=link_base,
        metavar="URL",
        help="prefix for Markdown links to lines (an http(s) URL)",
    )
    add_evidence_options(parser, test_command=test_command)


def wants_report(args: argparse.Namespace) -> bool:
    return any(getattr(args, name, None) for name in ("report", "markdown", "json_result", "html"))


def attach_evidence(
    result: Any,
    args: argparse.Namespace,
    config: Any,
    *,
    command: str,
    target_dsn: str | None = None,
) -> None:
    """Fill the result's metadata, review and test evidence (what the report's header and
    checklist read). Cheap but not free (a few git calls), so callers do it only when a report or
    a saved result is asked for."""
    from pgpreflight.linter.evidence import meta, review
    from pgpreflight.linter.evidence import tests as integration

    paths = [Path(p) for p in getattr(args, "paths", None) or []]
    if result.meta is None:
        result.meta = meta.collect(
            command=command,
            paths=paths,
            config_root=config.root if getattr(config, "path", None) else None,
            pg_version=str(config.pg_version),
            target_dsn=target_dsn,
            project=getattr(args, "project", None),
        )
    if result.review is None or getattr(args, "reviewed_by", None):
        reported = [m for m in result.migrations if m.reported]
        if result.review is None:
            result.review = review.collect(reported, getattr(args, "reviewed_by", None))
        else:
            _add_reviewers(result.review, args.reviewed_by)
    if getattr(args, "test_results", None):
        result.tests = integration.from_junit(list(args.test_results))


def _add_reviewers(saved: dict[str, Any], names: list[str]) -> None:
    saved.setdefault("reviewed_by_option", [])
    for name in names:
        if name not in saved["reviewed_by_option"]:
            saved["reviewed_by_option"].append(name)
        for info in (saved.get("migrations") or {}).values():
            if name not in info.setdefault("reviewers", []):
                info["reviewers"].append(name)


def write_reports(result: Any, args: argparse.Namespace) -> None:
    """Write `--report`/`--html` and `--markdown` if asked, each all or nothing."""
    from pgpreflight.linter.output import write_output

    html_path = getattr(args, "report", None) or getattr(args, "html", None)
    if html_path:
        from pgpreflight.linter.report import html

        write_output(html.render(result), html_path)
    if getattr(args, "markdown", None):
        from pgpreflight.linter.report import markdown

        write_output(
            markdown.render(result, link_base=getattr(args, "link_base", "") or ""), args.markdown
        )


def load(path: Path) -> Any:
    """A saved result, or an InputError naming the file (and line and column for bad JSON)."""
    import json

    from pgpreflight.linter.result import RunResult

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise InputError(f"{path}: no such file") from err
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(
            f"{path}: cannot read result: {getattr(err, 'strerror', None) or err}"
        ) from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{path}:{err.lineno}:{err.colno}: not valid JSON: {err.msg}") from err
    except RecursionError:
        raise InputError(f"{path}: not a pgpreflight result: nested too deeply") from None
    _validate(data, path)
    return RunResult.from_dict(data, origin=str(path))


def _validate(data: Any, path: Path) -> None:
    """Hold a saved result to the published schema (linter/report/result-schema.json) before any
    renderer reads it: a file edited by hand or by a hostile pull request is refused with the
    JSON path of its first fault, never rendered into an internal error."""
    import json
    from importlib import resources

    import jsonschema  # type: ignore[import-untyped]

    schema = json.loads(
        resources.files("pgpreflight.linter.report").joinpath("result-schema.json").read_text()
    )
    version = data.get("version") if isinstance(data, dict) else None
    if (
        isinstance(data, dict)
        and version is not None
        and version != schema["properties"]["version"].get("const")
    ):
        return  # RunResult.from_dict names the version it cannot read
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(data)
    )
    if error is not None:
        raise InputError(
            f"{path}: not a valid pgpreflight result at {error.json_path}: {error.message[:200]}"
        )


def run(args: argparse.Namespace, config: Any, secrets: Secrets | None = None) -> int:
    from pgpreflight.linter.output import use_color, write_output
    from pgpreflight.linter.report import RenderOptions, renderer

    result = load(args.result)
    if args.project and result.meta is not None:
        result.meta["project"] = args.project
    if args.reviewed_by:
        if result.review is None:
            result.review = {
                "reviewed_by_option": [],
                "git": False,
                "migrations": {
                    m.id: {"author": None, "committed": False, "commits": [], "reviewers": []}
                    for m in result.migrations
                    if m.reported
                },
            }
        _add_reviewers(result.review, args.reviewed_by)
    if args.test_results:
        from pgpreflight.linter.evidence import tests as integration

        result.tests = integration.from_junit(list(args.test_results))
    if secrets is not None:  # a result saved elsewhere may hold what this run knows is secret
        result.redact(secrets)
    write_reports(result, args)
    fmt = args.format or (None if (args.html or args.markdown) else "text")
    if fmt is None:
        return 0
    if fmt == "html":
        from pgpreflight.linter.report import html

        output = html.render(result)
    elif fmt == "markdown":
        from pgpreflight.linter.report import markdown

        output = markdown.render(result, link_base=args.link_base)
    else:
        output = renderer(fmt)(
            result, RenderOptions(color=use_color(args), fail_on=result.config.fail_on)
        )
    write_output(output, args.output)
    return 0
