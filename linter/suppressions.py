"""Inline suppressions, read from the comments PostgreSQL's scanner finds (not a regex over text,
so a `--` inside a string literal never counts).

    -- pgpreflight: ignore[rule-a, rule-b] reason     (this statement: same line or just above)
    -- pgpreflight: ignore-file[rule-a] reason        (the whole file)
    -- squawk-ignore rule-x                            (squawk's comment, mapped to our rules)
    -- safety-assured:start ... -- safety-assured:end  (diesel-guard's block: every rule, for
                                                         the statements between the two lines;
                                                         never reported as unused, it also serves
                                                         diesel-guard's own checks)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import SourceFile, Statement
from pgpreflight.linter.parsing import comment_spans

_DIRECTIVE = re.compile(r"^--\s*pgpreflight\s*:\s*(?P<rest>.*)$", re.I | re.S)
_IGNORE = re.compile(
    r"^(?P<kind>ignore-file|ignore)\s*\[(?P<rules>[^\]]*)\]\s*(?P<reason>.*)$", re.I | re.S
)
_SQUAWK = re.compile(r"^--\s*squawk-ignore(?P<file>-file)?\b\s*(?P<rules>.*)$", re.I)
_ASSURED = re.compile(r"^--\s*safety-assured\s*:\s*(?P<edge>start|end)\b", re.I)
# What every directive above holds (case folded): a file without any of them has none.
_WORDS = ("pgpreflight", "squawk-ignore", "safety-assured")
# Directives that are not suppressions but belong to other features.
OTHER_DIRECTIVES = ("query",)
REASON_PLACEHOLDER = "<reason>"
"""What the editor's "suppress" action writes for the user to replace. It reads as no reason, so
a suppression left unfilled is still reported (suppression-without-reason)."""


@dataclass
class Suppression:
    source: SourceFile
    offset: int
    rules: tuple[str, ...]
    reason: str
    file_level: bool
    squawk: bool = False
    malformed: str | None = None
    # Lines of the statement it applies to; None for file-level ones.
    target: tuple[int, int] | None = None
    used: set[str] = field(default_factory=set)
    # a `safety-assured` block: every rule, on the lines from its start comment to its end
    block: bool = False

    @property
    def line(self) -> int:
        return self.source.lines.position(self.offset)[0]

    def covers(self, finding: Finding, our_rules: set[str]) -> bool:
        if finding.path != self.source.display:
            return False
        if self.block:
            return self.target is not None and self.target[0] <= finding.line <= self.target[1]
        if finding.rule not in our_rules:
            return False
        if self.file_level:
            return True
        return self.target is not None and self.target[0] <= finding.line <= self.target[1]


def _parse_comment(source: SourceFile, start: int, end: int) -> Suppression | None:
    text = source.text[start:end].strip()
    if not text.startswith("--"):
        return None
    m = _DIRECTIVE.match(text)
    if m:
        rest = m.group("rest").strip()
        if rest.split(" ", 1)[0].lower() in OTHER_DIRECTIVES:
            return None
        ig = _IGNORE.match(rest)
        if not ig:
            return Suppression(
                source,
                start,
                (),
                "",
                False,
                malformed=(
                    "expected 'pgpreflight: ignore[rule-id, ...] reason' or "
                    "'pgpreflight: ignore-file[rule-id, ...] reason'"
                ),
            )
        rules = tuple(r.strip() for r in ig.group("rules").split(",") if r.strip())
        if not rules:
            return Suppression(
                source, start, (), "", False, malformed="names no rule between the brackets"
            )
        reason = ig.group("reason").strip()
        return Suppression(
            source,
            start,
            rules,
            "" if reason == REASON_PLACEHOLDER else reason,
            ig.group("kind").lower() == "ignore-file",
        )
    sq = _SQUAWK.match(text)
    if sq:
        rules = tuple(r.strip() for r in re.split(r"[,\s]+", sq.group("rules")) if r.strip())
        # squawk's comments carry no reason field; the team already accepted them there.
        return Suppression(
            source, start, rules, "squawk-ignore", bool(sq.group("file")), squawk=True
        )
    return None


def has_directives(source: SourceFile) -> bool:
    """Whether `source` may hold a suppression at all: most files hold none, and their
    statements need not even be parsed to know it."""
    lowered = source.text.lower()
    return any(word in lowered for word in _WORDS)


def collect(source: SourceFile, statements: list[Statement]) -> list[Suppression]:
    """Every suppression comment in `source`, each bound to the lines of the statement it covers.

    A comment sharing its line with code covers the statement on that line; a comment on its
    own line covers the next code after it (skipping blank lines and other comments). Code that
    failed to parse has no statement, so the covered range falls back to that one line.
    """
    found: list[Suppression] = []
    if not has_directives(source):
        return found  # no directive anywhere: the file is not scanned for comments at all
    ordered = sorted((s for s in statements if s.source is source), key=lambda s: s.offset)
    spans = comment_spans(source)
    text = source.text

    def statement_lines(line: int) -> tuple[int, int]:
        for stmt in ordered:
            if stmt.line <= line <= stmt.end_line:
                return (stmt.line, stmt.end_line)
        return (line, line)

    def next_code(offset: int) -> int | None:
        i = 0
        while True:
            while offset < len(text) and text[offset].isspace():
                offset += 1
            while i < len(spans) and spans[i][1] <= offset:
                i += 1
            if i < len(spans) and spans[i][0] == offset:
                offset = spans[i][1]
                continue
            return offset if offset < len(text) else None

    block_start: int | None = None
    for start, end in spans:
        edge = _ASSURED.match(source.text[start:end].strip())
        if edge and edge.group("edge").lower() == "start":
            if block_start is not None:
                found.append(_unclosed(source, block_start, "starts again before its end"))
            block_start = start
            continue
        if edge:
            if block_start is None:
                found.append(
                    Suppression(
                        source,
                        start,
                        (),
                        "",
                        False,
                        malformed="'safety-assured:end' without a 'safety-assured:start' before it",
                    )
                )
                continue
            lines = (source.lines.position(block_start)[0], source.lines.position(start)[0])
            found.append(
                Suppression(
                    source, block_start, (), "safety-assured", False, target=lines, block=True
                )
            )
            block_start = None
            continue
        sup = _parse_comment(source, start, end)
        if sup is None:
            continue
        if not sup.file_level and sup.malformed is None:
            line = sup.line
            line_start = source.lines.offset(line)
            if text[line_start:start].strip():
                sup.target = statement_lines(line)
            else:
                code = next_code(end)
                if code is not None:
                    sup.target = statement_lines(source.lines.position(code)[0])
        found.append(sup)
    if block_start is not None:
        found.append(_unclosed(source, block_start, "has no 'safety-assured:end'"))
    return found


def _unclosed(source: SourceFile, offset: int, what: str) -> Suppression:
    return Suppression(source, offset, (), "", False, malformed=f"'safety-assured:start' {what}")
