"""Integration-test evidence for the checklist: JUnit XML files, or a command pgpreflight runs.

`from_junit(paths)` counts tests, failures, errors and skips across one or more JUnit files (the
format pytest, Jest, Mocha, Go and most CI tools write). `run_command(cmd, database_url)` runs the
project's own test command with `DATABASE_URL` pointing at the scratch database (the database
check calls it after the migrations are applied) and keeps the exit code and the output's tail.
The command never inherits the caller's database credentials (`command_env`): a test that connects
"by default" must land on the scratch database, not on the target pgpreflight was pointed at.
Both return plain dicts stored in `RunResult.tests`; output is passed through `meta.redact`.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgpreflight.linter.errors import InputError
from pgpreflight.linter.redact import redact

TAIL_LINES = 40
TAIL_CHARS = 4000
MAX_FAILURES = 50

_CREDENTIALS = re.compile(r"^PG|DATABASE_(URL|URI|DSN)|_DSN$|^DSN$", re.IGNORECASE)
"""Variables removed from the test command's environment: libpq's PG* (PGHOST, PGPASSWORD,
PGSERVICE, PGPASSFILE...), our PGPREFLIGHT_*, and DATABASE_URL-like connection strings."""


@dataclass
class IntegrationEvidence:
    """The shape of both dicts (`source` tells which), as a report reads them: a saved result
    may lack any key, and a report reads it through this class (`linter.report.model.filled`),
    so each missing one is its default here."""

    source: str = ""  # "junit" | "command"
    # source "command" (run_command)
    command: str = ""
    exit_code: int | None = None  # None: it timed out
    duration_s: float | None = None
    output_tail: str = ""
    note: str | None = None
    # source "junit" (from_junit): totals over `files`, each with its own counts and `failed`
    files: list[dict[str, Any]] = field(default_factory=list)
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0


def _int(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


def read_junit(path: Path) -> dict[str, Any]:
    """Counts and failed test names of one JUnit file; a file that is not JUnit is an InputError."""
    try:
        root = ET.parse(path).getroot()
    except OSError as err:
        raise InputError(f"{path}: cannot read test results: {err.strerror or err}") from err
    except ET.ParseError as err:
        line, col = err.position
        raise InputError(f"{path}:{line}:{col + 1}: not valid XML: {err.msg}") from err
    if root.tag not in ("testsuites", "testsuite"):
        raise InputError(
            f"{path}: not a JUnit file (root element <{root.tag}>, expected <testsuites> or <testsuite>)"
        )
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    failed: list[dict[str, str]] = []
    for case in root.iter("testcase"):
        counts["tests"] += 1
        for kind, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            child = case.find(kind)
            if child is not None:
                counts[key] += 1
                if kind != "skipped" and len(failed) < MAX_FAILURES:
                    name = ".".join(p for p in (case.get("classname"), case.get("name")) if p)
                    failed.append(
                        {
                            "name": name,
                            "kind": kind,
                            "message": redact((child.get("message") or "")[:500]),
                        }
                    )
                break
    if counts["tests"] == 0:  # a summary-only file: trust the suite attributes
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        for suite in suites:
            for key in counts:
                counts[key] += _int(suite.get(key))
    return {"path": str(path), **counts, "failed": failed}


def from_junit(paths: list[Path]) -> dict[str, Any]:
    files = [read_junit(p) for p in paths]
    totals = {k: sum(f[k] for f in files) for k in ("tests", "failures", "errors", "skipped")}
    return {"source": "junit", "files": files, **totals}


def command_env(database_url: str | None, libpq: dict[str, str] | None = None) -> dict[str, str]:
    """Our environment without database credentials, plus DATABASE_URL and the libpq
    variables (PGHOST, PGPORT, PGUSER, PGDATABASE) of the scratch database."""
    env = {k: v for k, v in os.environ.items() if not _CREDENTIALS.search(k)}
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(libpq or {})
    return env


def run_command(
    command: str,
    database_url: str | None,
    *,
    libpq: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float = 1800,
) -> dict[str, Any]:
    """Run `command` in a shell with only `command_env`'s database variables; keep the exit code
    and the output's tail."""
    env = command_env(database_url, libpq)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            command,
            shell=True,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout_s,
            check=False,
        )
        code: int | None = proc.returncode
        output = proc.stdout.decode("utf-8", "replace")
        note = None
    except subprocess.TimeoutExpired as err:
        code, note = None, f"timed out after {timeout_s:g} s"
        output = (
            (err.stdout or b"").decode("utf-8", "replace") if isinstance(err.stdout, bytes) else ""
        )
    lines = redact(output).rstrip("\n").splitlines()[-TAIL_LINES:]
    tail = "\n".join(lines)[-TAIL_CHARS:]
    return {
        "source": "command",
        "command": redact(command),
        "exit_code": code,
        "duration_s": round(time.monotonic() - started, 3),
        "output_tail": tail,
        "note": note,
    }
