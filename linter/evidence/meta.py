"""Run metadata for the report header, and the one place connection strings are made safe.

The header names the target as `host/dbname` (never user, password or the full connection
string); `redact()` scrubs passwords out of any free text (test output, error messages) before it
reaches a result file or a report.
"""

from __future__ import annotations

import datetime as _dt
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pgpreflight.linter import __version__
from pgpreflight.linter.redact import redact  # noqa: F401  (re-exported: reporters import it from here)


def _conninfo_pairs(dsn: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in re.finditer(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", dsn):
        value = m.group(2)
        if value.startswith("'"):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out[m.group(1).lower()] = value
    return out


def target_label(
    dsn: str | None = None, *, host: str | None = None, dbname: str | None = None
) -> str:
    """`host/dbname` of a connection string or of its parts; never the user or the password.

    A Unix-socket host (a path) shows as `local socket`, an absent one as `localhost`.
    """
    if dsn:
        if re.match(r"^postgres(?:ql)?://", dsn, re.I):
            parts = urlsplit(dsn)
            netloc = parts.netloc.rpartition("@")[2]
            try:
                name = parts.hostname
            except ValueError:
                name = None
            if name and netloc.startswith("["):
                name = f"[{name}]"
            host = host or (unquote(name) if name else None)
            dbname = dbname or unquote(parts.path.lstrip("/")) or None
            for key, value in re.findall(r"(?:^|&)(host|dbname)=([^&]*)", parts.query):
                if key == "host" and not host:
                    host = unquote(value)
                if key == "dbname" and not dbname:
                    dbname = unquote(value)
        else:
            pairs = _conninfo_pairs(dsn)
            host = host or pairs.get("host") or pairs.get("hostaddr")
            dbname = dbname or pairs.get("dbname")
    if host and host.startswith("/"):
        host = "local socket"
    return f"{host or 'localhost'}/{dbname or '(default database)'}"


@dataclass
class GitInfo:
    """The checkout a run read its migrations from."""

    commit: str | None = None
    short: str = ""
    branch: str | None = None  # None on a detached HEAD
    dirty: bool = False  # uncommitted changes under the migrations' folder


@dataclass
class RunMeta:
    """A report's header (`RunResult.meta`): what ran, on what, when; no credentials. A result
    saved by an older pgpreflight may lack any key: renderers read it through this class
    (`linter.report.model.filled`), so each missing one is its default here."""

    project: str | None = None
    command: str | None = None  # "lint" | "check"
    git: GitInfo | None = None  # None outside a git checkout
    pg_version: str | None = None
    target: str | None = None  # host/dbname, never the connection string
    time: str | None = None  # UTC, ISO 8601 to the second
    pgpreflight_version: str | None = None


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def git_info(cwd: Path) -> GitInfo | None:
    """Commit, branch and whether the work tree has uncommitted changes; None outside git."""
    commit = _git(["rev-parse", "HEAD"], cwd)
    if commit is None:
        return None
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd)
    status = _git(["status", "--porcelain", "--untracked-files=no", "--", "."], cwd)
    return GitInfo(
        commit=commit,
        short=commit[:10],
        branch=None if branch in (None, "HEAD") else branch,
        dirty=bool(status),
    )


def project_name(paths: list[Path], config_root: Path | None, cwd: Path) -> str:
    """The folder the user pointed at, else the configuration's folder, else the repository's."""
    for p in paths:
        if p.is_dir():
            return p.resolve().name
    if config_root is not None:
        return config_root.resolve().name
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    return Path(top).name if top else cwd.resolve().name


def collect(
    *,
    command: str,
    paths: list[Path],
    config_root: Path | None = None,
    pg_version: str | None = None,
    target_dsn: str | None = None,
    project: str | None = None,
    cwd: Path | None = None,
    now: _dt.datetime | None = None,
) -> dict[str, Any]:
    """The header of a report: what ran, on what, when. Safe to print: no credentials."""
    cwd = cwd or Path.cwd()
    where = next((p if p.is_dir() else p.parent for p in paths if p.exists()), cwd)
    when = (now or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc)
    return asdict(
        RunMeta(
            project=project or project_name(paths, config_root, cwd),
            command=command,
            git=git_info(where),
            pg_version=pg_version,
            target=target_label(target_dsn) if target_dsn else None,
            time=when.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            pgpreflight_version=__version__,
        )
    )
