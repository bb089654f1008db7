"""Small helpers for rule tests: lint a snippet of SQL as a migration history and look at findings."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

from pgpreflight.linter.config import Config, validate
from pgpreflight.linter.engine import lint
from pgpreflight.linter.findings import Finding

DEFAULT_FILE = "202401011200__example.sql"
_FILE_MARKER = re.compile(r"^--\s*file:\s*(\S+)\s*$", re.M)


def write_history(sql: str, directory: Path, encoding: str = "utf-8") -> list[Path]:
    """Write `sql` as migration files: `-- file: NAME` lines start a new file."""
    parts = _FILE_MARKER.split(sql)
    files: list[Path] = []
    if parts[0].strip() or len(parts) == 1:
        files.append(_write(directory / DEFAULT_FILE, parts[0], encoding))
    for name, body in zip(parts[1::2], parts[2::2], strict=False):
        files.append(_write(directory / name, body.lstrip("\n"), encoding))
    return files


def _write(path: Path, text: str, encoding: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if encoding == "latin-1":
        data = text.encode("utf-8").decode("unicode_escape").encode("latin-1", "replace")
        path.write_bytes(data)
    else:
        path.write_text(text, encoding=encoding)
    return path


def make_config(root: Path, **values: Any) -> Config:
    config = Config(root=root)
    config.values = validate({k.replace("_", "-"): v for k, v in values.items()}, where="test")
    return config


def lint_findings(
    sql: str, rule: str | list[str] | None, tmp_path: Path, **config: Any
) -> list[Finding]:
    """Findings of `rule` (or all default rules) for `sql` written as migrations in `tmp_path`."""
    directory = tmp_path / "migrations"
    write_history(sql, directory)
    if rule is not None:
        config.setdefault("select", [rule] if isinstance(rule, str) else list(rule))
    result = lint([directory], make_config(tmp_path, **config))
    return result.findings


def ids(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git in a test repository as a fixed author, whatever the machine's git config."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Ana",
        "GIT_AUTHOR_EMAIL": "ana@example.com",
        "GIT_COMMITTER_NAME": "Ana",
        "GIT_COMMITTER_EMAIL": "ana@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env
    )
