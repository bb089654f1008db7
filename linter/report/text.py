"""Human output for terminals: `path:line:col: severity rule message`, the line, a caret, the hint.

Every field from the migrations (path, message, hint, source line) goes through `printable`, and
the whole output through `guard_lines`: a hostile file name or identifier can neither drive the
terminal nor forge a line a CI runner would execute.
"""

from __future__ import annotations

from pgpreflight.linter.printable import guard_lines, printable
from pgpreflight.linter.report import RenderOptions
from pgpreflight.linter.result import RunResult

_COLORS = {"error": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


EXCERPT_WIDTH = 240
"""Widest source excerpt shown: a line of a 19 MB one-line statement must not be printed whole
(twice, with the caret line)."""


def excerpt(line: str, column: int, width: int = EXCERPT_WIDTH) -> tuple[str, int]:
    """The part of `line` around `column` (1-based) that fits `width`, marked with `…` where it
    was cut, and the caret's offset in it."""
    before = printable(line[: column - 1].expandtabs(4))
    after = printable(line[column - 1 :].expandtabs(4))
    if len(before) + len(after) <= width:
        return before + after, len(before)
    keep_before = min(len(before), width // 3)
    head = before[len(before) - keep_before :]
    lead = "…" if keep_before < len(before) else ""
    room = width - len(lead) - len(head)
    tail = after[:room] + ("…" if len(after) > room else "")
    return lead + head + tail, len(lead) + len(head)


def _fixable(result: RunResult) -> str:
    """ruff's closing line: how many findings `lint --fix` (and `--unsafe-fixes`) would fix."""
    safe = sum(1 for f in result.findings if f.fix is not None and f.fix.applicability == "safe")
    unsafe = sum(1 for f in result.findings if f.fix is not None) - safe
    if not safe and not unsafe:
        return ""
    if not safe:
        return f"{unsafe} fixable with 'pgpreflight lint --fix --unsafe-fixes'."
    more = f" ({unsafe} more with --unsafe-fixes)" if unsafe else ""
    return f"{safe} fixable with 'pgpreflight lint --fix'{more}."


def render(result: RunResult, options: RenderOptions) -> str:
    c = options.color
    out: list[str] = []
    for f in result.findings:
        path, message = printable(f.path), printable(f.message)
        sev = f"{_COLORS[f.severity]}{f.severity}{_RESET}" if c else f.severity
        loc = f"{_BOLD}{path}:{f.line}:{f.column}:{_RESET}" if c else f"{path}:{f.line}:{f.column}:"
        rule = f"{_DIM}{f.rule}{_RESET}" if c else f.rule
        out.append(f"{loc} {sev} {rule} {message}")
        source = result.sources.get(f.path)
        if options.show_source and source is not None and source.text:
            text = source.lines.line_text(f.line)
            if text.strip():
                gutter = f"{f.line:>5} | "
                shown, caret = excerpt(text, f.column)
                out.append(gutter + shown)
                out.append(" " * (len(gutter) - 2) + "| " + " " * caret + "^")
        if f.hint:
            out.append(f"      = hint: {printable(f.hint)}")
        if f.fix is not None:
            kind = "fix" if f.fix.applicability == "safe" else "unsafe fix"
            out.append(f"      = {kind}: {printable(f.fix.description)}")
    counts = result.counts()
    total = sum(counts.values())
    files = len({s.display for m in result.reported_migrations() for s in m.sources})
    migrations = len(result.reported_migrations())
    if total:
        detail = ", ".join(_plural(counts[s], s) for s in ("error", "warning", "info") if counts[s])
        summary = f"Found {_plural(total, 'finding')} ({detail}) in {_plural(migrations, 'migration')} ({_plural(files, 'file')})."
    else:
        summary = f"All checks passed: {_plural(migrations, 'migration')} ({_plural(files, 'file')}), no findings."
    if out:
        out.append("")
    out.append(summary)
    fixable = _fixable(result)
    if fixable:
        out.append(fixable)
    return guard_lines("\n".join(out) + "\n")
