"""Who wrote each migration and who reviewed it, from git: the checklist's "reviewed by another
developer" item.

The author is the author of the commit that added the file; reviewers are the `Reviewed-by:` and
`Approved-by:` trailers of every commit that touched it, plus any `--reviewed-by NAME`. A trailer
naming the author (by name or e-mail) does not count: a review is by *another* developer.

Only names are kept: the e-mail addresses serve to tell the author from a reviewer and are then
dropped, because the HTML page and the pull-request comment are read by people who should not
harvest colleagues' addresses from them (a name is enough to know who reviewed).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_FIELD, _RECORD = "\x1f", "\x1e"
_FORMAT = (
    _FIELD.join(
        ["%H", "%an", "%ae", "%aI", "%(trailers:key=Reviewed-by,key=Approved-by,separator=%x1d)"]
    )
    + _RECORD
)


def _git(args: list[str], cwd: Path, timeout: float = 20) -> str | None:
    """git's output, or None when git or the repository is unavailable."""
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _log(path: Path) -> list[dict[str, Any]] | None:
    """Commits touching `path`, newest first; None when git or the repository is unavailable."""
    out = _git(["log", "--follow", f"--format={_FORMAT}", "--", path.name], path.parent)
    if out is None:
        return None
    records = (record.strip("\n").split(_FIELD) for record in out.split(_RECORD))
    return [_commit(parts) for parts in records if len(parts) == 5]


def _commit(fields: list[str]) -> dict[str, Any]:
    sha, name, email, date, trailers = fields
    found = []
    for line in trailers.split("\x1d"):
        key, sep, value = line.partition(":")
        if sep and value.strip():
            found.append({"key": key.strip(), "value": value.strip()})
    return {"commit": sha[:10], "author": f"{name} <{email}>", "date": date, "trailers": found}


def _logs(paths: list[Path]) -> dict[Path, list[dict[str, Any]]] | None:
    """Commits touching each of `paths`, newest first, from one `git log` for all of them: a
    history of hundreds of migrations took a process per file. A file whose oldest commit here
    renamed it is left out, for `_log` (`--follow`) to trace alone. None when git or the
    repository is unavailable: then no file is looked up alone either."""
    if not paths:
        return {}
    resolved = {p: p.resolve() for p in paths}
    top = _git(["rev-parse", "--show-toplevel"], next(iter(resolved.values())).parent)
    if top is None:
        return None
    root = Path(top.strip()).resolve()
    inside = {
        p: r.relative_to(root).as_posix() for p, r in resolved.items() if r.is_relative_to(root)
    }
    folders = sorted({str(Path(rel).parent) for rel in inside.values()})
    fmt = f"--format=%x1e{_FORMAT[:-1]}{_FIELD}"
    out = _git(["log", "-M", "--name-status", fmt, "--", *folders], root, timeout=60)
    if out is None:
        return None
    touched: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for record in out.split(_RECORD)[1:]:
        parts = record.split(_FIELD)
        if len(parts) != 6:
            continue
        commit = _commit(parts[:5])
        for line in parts[5].strip("\n").splitlines():
            status, *names = line.split("\t")
            if names:
                touched.setdefault(names[-1], []).append((status[:1], commit))
    logs: dict[Path, list[dict[str, Any]]] = {}
    for path, rel in inside.items():
        history = touched.get(rel, [])
        if history and history[-1][0] == "R":
            continue  # renamed: its older commits are under another name
        logs[path] = [c for _, c in history]
    return logs


def display_name(who: str) -> str:
    """`Ana Lima <ana@example.com>` -> `Ana Lima`; a bare address keeps its local part only."""
    name = re.sub(r"\s*<[^>]*>\s*", " ", who).strip()
    if not name:
        m = re.search(r"<([^@>]*)@", who)
        name = m.group(1) if m else who
    if "@" in name and " " not in name:
        name = name.split("@", 1)[0]
    return name


def _same_person(a: str, b: str) -> bool:
    def keys(who: str) -> set[str]:
        m = re.match(r"\s*(.*?)\s*(?:<([^>]*)>)?\s*$", who)
        name, email = (m.group(1), m.group(2)) if m else (who, None)
        return {k.lower() for k in (name, email) if k}

    return bool(keys(a) & keys(b))


def _unique(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        if name not in out:
            out.append(name)
    return out


def collect(migrations: list[Any], reviewed_by: list[str] | None = None) -> dict[str, Any]:
    """Per migration id: author, commits with their review trailers, and the reviewers that count.

    `migrations` are `linter.migration.Migration` objects (only the reported ones are looked up).
    """
    out: dict[str, Any] = {
        "reviewed_by_option": list(reviewed_by or []),
        "git": True,
        "migrations": {},
    }
    reported = [m for m in migrations if getattr(m, "reported", True)]
    logs = _logs([Path(s.path) for m in reported for s in m.sources])
    for m in reported:
        commits: list[dict[str, Any]] = []
        git_ok = True
        for source in m.sources:
            path = Path(source.path)
            log = None if logs is None else logs[path] if path in logs else _log(path)
            if log is None:
                git_ok = False
                continue
            commits.extend(c for c in log if c not in commits)
        if not git_ok and not commits:
            out["git"] = False
        author = commits[-1]["author"] if commits else None
        reviewers: list[str] = []
        for c in commits:
            for t in c["trailers"]:
                value = t["value"]
                if (author is None or not _same_person(value, author)) and value not in reviewers:
                    reviewers.append(value)
        for name in reviewed_by or []:
            if name not in reviewers:
                reviewers.append(name)
        out["migrations"][m.id] = {
            "author": display_name(author) if author else None,
            "committed": bool(commits),
            "commits": [
                {
                    **c,
                    "author": display_name(c["author"]),
                    "trailers": [{**t, "value": display_name(t["value"])} for t in c["trailers"]],
                }
                for c in commits[:20]
            ],
            "reviewers": _unique(display_name(r) for r in reviewers),
        }
    return out
