"""The few git facts pgpreflight needs, asked of the `git` command (no library does this better).

Changed-only CI runs need the files changed since a ref and the migrations that existed there;
the report needs authors and review trailers.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pgpreflight.linter.errors import PgPreflightError


def _git(args: list[str], cwd: Path) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as err:
        raise PgPreflightError("git is not installed, but --changed-since needs it") from err
    if proc.returncode != 0:
        detail = (
            proc.stderr.strip().splitlines()[-1]
            if proc.stderr.strip()
            else f"exit {proc.returncode}"
        )
        raise PgPreflightError(f"git {' '.join(args[:2])} failed in {cwd}: {detail}")
    return proc.stdout


def toplevel(cwd: Path) -> Path:
    return Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())


def verify_ref(ref: str, cwd: Path) -> None:
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    except PgPreflightError as err:
        raise PgPreflightError(
            f"--changed-since: '{ref}' is not a commit in this repository "
            "(in CI, fetch it first: git fetch origin main --depth=50)"
        ) from err


def changed_files(ref: str, cwd: Path) -> set[Path]:
    """Files added, modified or renamed since `ref` (committed or not), plus untracked ones."""
    top = toplevel(cwd)
    verify_ref(ref, cwd)
    names = _git(["diff", "--name-only", "--diff-filter=AMR", ref, "--"], top).splitlines()
    names += _git(["ls-files", "--others", "--exclude-standard"], top).splitlines()
    return {(top / n).resolve() for n in names if n}


def files_at(ref: str, cwd: Path) -> set[Path]:
    """Every file tracked at `ref`, as paths in the current work tree."""
    top = toplevel(cwd)
    return {
        (top / n).resolve()
        for n in _git(["ls-tree", "-r", "--name-only", ref], top).splitlines()
        if n
    }
