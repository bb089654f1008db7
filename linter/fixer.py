"""Applying the findings' fixes: `lint --fix`, `--unsafe-fixes` and `--diff`, as ruff does.

One pass applies every fix whose edits overlap no edit already taken in that pass (a fix's
edits go in together or not at all); the files are linted again with the fixed texts standing
in for them, and the next pass takes the fixes that were left over or that the first ones made
possible (a second CONCURRENTLY once the first one added the runner's marker). Nothing is
written until the passes settle, so `--diff` shows the same result `--fix` writes.

A fix is applied only to files `--fix` was asked to change (`may_change`), never through a
symbolic link, and a new file only where no file exists: a fix that would touch anything else is
left out whole. A fix after which
a file that parsed does not parse any more is left out too, and reported: it is a bug.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pgpreflight.linter.discovery import Overlay
from pgpreflight.linter.findings import Edit, Finding, Fix
from pgpreflight.linter.result import RunResult

LOG = logging.getLogger(__name__)

MAX_PASSES = 8
"""Passes before giving up on fixes that keep making more fixes (ruff stops at 100; one pass
here is a whole lint of the history)."""


def overlaps(a: Edit, b: Edit) -> bool:
    """Two edits of one file that cannot both apply: their ranges overlap, or one inserts at a
    point the other touches (two insertions at one point have no order)."""
    if a.path != b.path:
        return False
    if a.start == a.end or b.start == b.end:
        return a.start <= b.end and b.start <= a.end
    return a.start < b.end and b.start < a.end


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """`text` with non-overlapping `edits` applied, from the end so offsets stay true."""
    for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        text = text[: e.start] + e.replacement + text[e.end :]
    return text


def parses(text: str) -> bool:
    from pglast import parse_sql
    from pglast.parser import ParseError
    from pgpreflight.linter.parsing import blank_meta_commands, render_go_template

    try:
        parse_sql(render_go_template(blank_meta_commands(text)[0]))
    except (ParseError, RecursionError):
        return False
    return True


@dataclass
class Change:
    """One file `--fix` changes or creates: its text before (None for a new file) and after."""

    path: Path
    display: str
    before: str | None
    after: str


@dataclass
class Outcome:
    """What the passes did: the files changed, the findings fixed, the result of linting the
    fixed texts, and what was left out."""

    changes: dict[Path, Change] = field(default_factory=dict)
    fixed: int = 0
    result: RunResult | None = None
    hidden_unsafe: int = 0  # findings whose fix needs --unsafe-fixes
    settled: bool = True
    refused: list[str] = field(default_factory=list)

    @property
    def overlay(self) -> dict[Path, str]:
        return {path: change.after for path, change in self.changes.items()}


def real_path(display: str) -> Path:
    """The file an edit names: its path is the display path, relative to the working folder."""
    return (Path.cwd() / display).resolve()


def applicable(finding: Finding, unsafe: bool) -> Fix | None:
    fix = finding.fix
    if fix is None or (fix.applicability == "unsafe" and not unsafe):
        return None
    return fix


def run_passes(
    lint: Callable[[Overlay], RunResult],
    *,
    unsafe: bool,
    may_change: Callable[[RunResult], set[Path]],
    max_passes: int = MAX_PASSES,
) -> Outcome:
    """Lint, apply the fixes, lint the fixed texts again, until no fix applies.

    `lint(overlay)` runs the engine with `overlay` standing in for files; `may_change(result)`
    names the files `--fix` was asked to change."""
    outcome = Outcome()
    result = lint({})
    allowed = may_change(result)
    for _ in range(max_passes):
        taken = _one_pass(result, outcome, unsafe, allowed)
        if not taken:
            break
        # files this run created are its own to fix further (a split-off migration's lines)
        allowed |= {path for path, change in outcome.changes.items() if change.before is None}
        result = lint(outcome.overlay)
    else:
        outcome.settled = not any(applicable(f, unsafe) for f in result.findings)
    outcome.result = result
    outcome.hidden_unsafe = sum(
        1 for f in result.findings if f.fix is not None and applicable(f, unsafe) is None
    )
    return outcome


def _one_pass(result: RunResult, outcome: Outcome, unsafe: bool, allowed: set[Path]) -> int:
    """Apply the fixes of `result` that fit together; the number of findings they fix."""
    texts = {display: source.text for display, source in result.sources.items()}
    chosen: list[Fix] = []
    taken: list[Edit] = []
    fixed = 0
    seen: dict[Fix, bool] = {}
    for finding in sorted(result.findings, key=Finding.sort_key):
        fix = applicable(finding, unsafe)
        if fix is None:
            continue
        if fix in seen:  # two findings one fix answers (one SET for a section)
            fixed += seen[fix]
            continue
        ok = _fits(fix, texts, taken, outcome, allowed) and _keeps_parsing(fix, texts, outcome)
        seen[fix] = ok
        if ok:
            chosen.append(fix)
            taken.extend(fix.edits)
            fixed += 1
    by_path: dict[str, list[Edit]] = {}
    for e in taken:
        by_path.setdefault(e.path, []).append(e)
    for display, edits in by_path.items():
        path = real_path(display)
        if edits[0].new_file:
            outcome.changes[path] = Change(path, display, None, edits[0].replacement)
            continue
        before = outcome.changes[path].before if path in outcome.changes else texts[display]
        outcome.changes[path] = Change(path, display, before, apply_edits(texts[display], edits))
    outcome.fixed += fixed
    return fixed


def _fits(
    fix: Fix, texts: dict[str, str], taken: list[Edit], outcome: Outcome, allowed: set[Path]
) -> bool:
    for e in fix.edits:
        path = real_path(e.path)
        if e.new_file:
            if path.exists() or path in outcome.changes or e.path in texts:
                return False
            if any(t.path == e.path for t in taken):
                return False
        elif e.path not in texts or path not in allowed or e.end > len(texts[e.path]):
            return False
        elif (Path.cwd() / e.path).is_symlink():
            return False  # written through, it would change a file outside the project
        if any(overlaps(e, t) for t in taken):
            return False
    return True


def _keeps_parsing(fix: Fix, texts: dict[str, str], outcome: Outcome) -> bool:
    """A file that parsed before the fix parses after it; a new file parses."""
    by_path: dict[str, list[Edit]] = {}
    for e in fix.edits:
        by_path.setdefault(e.path, []).append(e)
    for display, edits in by_path.items():
        if not display.endswith(".sql"):
            continue
        if edits[0].new_file:
            ok = parses(edits[0].replacement)
        else:
            before = texts[display]
            ok = not parses(before) or parses(apply_edits(before, edits))
        if not ok:
            outcome.refused.append(f"{display}: the fix '{fix.description}' would not parse")
            LOG.debug("refused fix %s: %s would not parse", fix.description, display)
            return False
    return True


def unified_diff(change: Change) -> str:
    """The change as `git diff` shows it (`/dev/null` for a new file)."""
    before = [] if change.before is None else change.before.splitlines(keepends=True)
    after = change.after.splitlines(keepends=True)
    lines = list(
        difflib.unified_diff(
            before,
            after,
            fromfile="/dev/null" if change.before is None else f"a/{change.display}",
            tofile=f"b/{change.display}",
        )
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def write(changes: Iterable[Change]) -> None:
    """Write the fixed files (new ones with their folders), keeping a UTF-8 BOM the file had."""
    for change in changes:
        path = change.path
        data = change.after.encode("utf-8")
        if change.before is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("xb") as fh:  # never overwrite, even in a race
                fh.write(data)
            continue
        if path.read_bytes().startswith(b"\xef\xbb\xbf"):
            data = b"\xef\xbb\xbf" + data
        path.write_bytes(data)
