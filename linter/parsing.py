"""Parsing a section with pglast, PostgreSQL's own parser, so that a syntax error costs one
statement and not the whole file.

pglast stops at the first error; a migration linter must go on, so on error the section is split
at top-level semicolons (found by PostgreSQL's scanner, which knows dollar quotes and comments)
and each piece is parsed alone.
"""

from __future__ import annotations

import re
from typing import Any

from pglast import ast
from pglast.parser import ParseError, scan, split
from pgpreflight.linter.migration import Section, SourceFile, Statement, SyntaxProblem
from pgpreflight.linter.parser import child_getter, parse_sql
from pgpreflight.linter.plpgsql import analyse_do

MAX_DEPTH = 120
"""Deepest statement (in parse-tree levels) pgpreflight analyses. Real migrations stay far below:
the deepest of the 11,504 statements in five public histories (lemmy, crates.io, kratos,
concourse, hatchet) is 15 levels. Every walker and pglast's printer recurse once or more per
level, so a machine-made statement nested hundreds deep would otherwise end in a RecursionError
somewhere in the replay or the rules."""
MAX_STATEMENT_CHARS = 1024 * 1024
"""Longest statement pgpreflight parses (1 MiB). The parse tree of a statement takes about a
hundred times its size in memory: a 19 MB INSERT took 2.4 GB. Migrations that long are data
loads, which no reviewer reads either; they are reported, not analysed."""
TOO_DEEP = (
    f"statement nested more than {MAX_DEPTH} levels deep: too deep for pgpreflight to analyse; "
    "simplify or split the expression"
)

_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.S)
_META_COMMAND = re.compile(r"^[ \t]*\\.*$", re.M)


def blank_meta_commands(text: str) -> tuple[str, list[tuple[int, str]]]:
    """Replace psql meta-command lines (`\\i file`, `\\set x`) with spaces of the same length.

    PostgreSQL's parser does not know them; keeping the length keeps every offset exact.
    """
    found: list[tuple[int, str]] = []
    if "\\" not in text:  # no backslash, no meta-command: spares a regex pass over every file
        return text, found

    def repl(m: re.Match[str]) -> str:
        found.append((m.start(), m.group(0).strip()))
        return " " * len(m.group(0))

    return _META_COMMAND.sub(repl, text), found


# A Go template action: `{{` then a field, a variable or a keyword or function of text/template
# (an SQL array literal such as '{{1,2},{3,4}}' is none), in double quotes when it names an object.
GO_TEMPLATE_ACTION = re.compile(
    r'(?P<quote>")?\{\{-?\s*(?P<body>(?:[.$]|(?:index|if|else|end|range|with|template|define|'
    r"block|printf?|len|not|and|or|eq|ne)\b).*?)\s*-?\}\}(?(quote)\")",
    re.S,
)
_OPTION = re.compile(r'^index\s+\.Options\s+"(?P<key>[A-Za-z_][A-Za-z0-9_]*)"$')


def render_go_template(text: str) -> str:
    """pop's Go template actions as SQL of the same length: `{{ index .Options "Namespace" }}`
    (quoted or not) becomes the identifier `namespace` and spaces (the value is only known when
    the runner runs), any other action spaces. Keeping the length keeps every offset exact."""

    def repl(m: re.Match[str]) -> str:
        option = _OPTION.match(m.group("body"))
        word = option.group("key").lower() if option else ""
        return word + re.sub(r"[^\n]", " ", m.group(0)[len(word) :])

    return GO_TEMPLATE_ACTION.sub(repl, text)


def _error_offset(err: ParseError, length: int) -> int:
    loc = err.args[1] if len(err.args) > 1 and isinstance(err.args[1], int) else 0
    return max(0, min(loc, length))


def _chunks(text: str) -> tuple[list[tuple[int, int]], tuple[str, int] | None]:
    """Top-level statement spans of `text`; a scanner error ends the spans early."""
    scan_error: tuple[str, int] | None = None
    try:
        tokens = scan(text)
        limit = len(text)
    except ParseError as err:
        limit = _error_offset(err, len(text))
        scan_error = (str(err.args[0]), limit)
        try:
            tokens = scan(text[:limit])
        except ParseError:
            tokens = []
    spans: list[tuple[int, int]] = []
    start = 0
    for tok in tokens:
        if tok.name == "ASCII_59":
            spans.append((start, tok.start))
            start = tok.end + 1
    if start < limit and scan_error is None:  # the piece the scanner choked on is the error
        spans.append((start, limit))
    return spans, scan_error


_NESTING = re.compile(r"[(+\-*/<>=|&%^:~!@#]|\b(?:case|not|is|collate|at)\b", re.I)
"""What opens a level of the parse tree: a parenthesis, an operator, a cast, CASE, NOT, IS..."""


def _may_be_too_deep(text: str) -> bool:
    """Cheap gate before the walk: every parse-tree level past a statement's fixed frame needs a
    nesting token, and one token (a parenthesised subquery) opens at most about four levels.
    Only a statement with that many tokens can be too deep; most statements are not walked."""
    return len(text) > 2 * MAX_DEPTH and len(_NESTING.findall(text)) * 4 + 20 > MAX_DEPTH


def depth_exceeds(node: object, limit: int = MAX_DEPTH) -> bool:
    """True when the parse tree under `node` is more than `limit` nodes deep (iterative: this
    must not recurse on the very trees it guards against)."""
    stack: list[tuple[object, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, tuple):
            stack.extend((item, depth) for item in current)
            continue
        if not isinstance(current, ast.Node):
            continue
        if depth > limit:
            return True
        children = child_getter(type(current))
        if children is not None:
            stack.extend((value, depth + 1) for value in children(current) if value is not None)
    return False


def _large_spans(text: str) -> tuple[list[tuple[int, int]], tuple[str, int] | None]:
    """Statement spans of a large section from PostgreSQL's scanner in C, without a Python token
    per token (a megabyte of VALUES is a million tokens)."""
    try:
        slices = split(text, with_parser=False, only_slices=True)
    except ParseError:
        return _chunks(text)
    return [(sl.start or 0, sl.stop or len(text)) for sl in slices], None


def _too_large(chars: int) -> str:
    return (
        f"statement of {chars / 1048576:.1f} MiB is larger than the "
        f"{MAX_STATEMENT_CHARS // 1048576} MiB pgpreflight analyses: not checked; load data "
        "outside migrations, or in smaller statements"
    )


def skip_noise(text: str, pos: int) -> int:
    m = _LEADING_NOISE.match(text, pos)
    return m.end() if m else pos


def parse_section(section: Section) -> None:
    """Fill `section`'s statements and syntax errors from its slice of the file."""
    statements: list[Statement] = []
    syntax_errors: list[SyntaxProblem] = []
    has_code = _parse_into(section, statements, syntax_errors)
    section.fill(statements, syntax_errors, has_code)


def _parse_into(
    section: Section, statements: list[Statement], syntax_errors: list[SyntaxProblem]
) -> bool:
    source = section.source
    body, _ = blank_meta_commands(source.sql[section.start : section.end])
    base = section.start
    pieces: list[tuple[object, int, int, int]] = []  # node, start, end, parse base (in body)
    try:
        if len(body) > MAX_STATEMENT_CHARS:
            raise ParseError("too large to parse whole", 0)  # statement by statement, below
        for raw in parse_sql(body):
            start = raw.stmt_location or 0
            end = start + raw.stmt_len if raw.stmt_len else len(body)
            pieces.append((raw.stmt, start, end, 0))
    except (ParseError, RecursionError):
        pieces = []
        spans, scan_error = _large_spans(body) if len(body) > MAX_STATEMENT_CHARS else _chunks(body)
        for span_start, span_end in spans:
            chunk = body[span_start:span_end]
            if not chunk.strip() or skip_noise(chunk, 0) >= len(chunk):
                continue
            if len(chunk) > MAX_STATEMENT_CHARS:
                loc = span_start + skip_noise(chunk, 0)
                syntax_errors.append(
                    SyntaxProblem(_too_large(len(chunk)), source, base + loc, section.kind)
                )
                continue
            try:
                raws = parse_sql(chunk)
            except ParseError as err:
                loc = span_start + _error_offset(err, len(chunk))
                syntax_errors.append(
                    SyntaxProblem(str(err.args[0]), source, base + loc, section.kind)
                )
                continue
            except RecursionError:
                loc = span_start + skip_noise(chunk, 0)
                syntax_errors.append(SyntaxProblem(TOO_DEEP, source, base + loc, section.kind))
                continue
            for raw in raws:
                start = span_start + (raw.stmt_location or 0)
                end = start + raw.stmt_len if raw.stmt_len else span_end
                pieces.append((raw.stmt, start, end, span_start))
        if scan_error is not None:
            message, loc = scan_error
            syntax_errors.append(SyntaxProblem(message, source, base + loc, section.kind))
    for node, start, end, parse_base in pieces:
        start = skip_noise(body, start)
        text = body[start:end].rstrip()
        if _may_be_too_deep(text) and depth_exceeds(node):
            syntax_errors.append(SyntaxProblem(TOO_DEEP, source, base + start, section.kind))
            continue
        statement = Statement(
            node=node,  # type: ignore[arg-type]
            text=text,
            source=source,
            offset=base + start,
            end_offset=base + start + len(text),
            section=section.kind,
            index=len(statements),
            base=base + parse_base,
        )
        if isinstance(node, ast.DoStmt):
            statement.do = analyse_do(statement)
        statements.append(statement)
    return bool(pieces) or bool(syntax_errors)


def comment_spans(source: SourceFile) -> list[tuple[int, int]]:
    """(start, end) of every comment in the file, from PostgreSQL's scanner.

    Where the scanner gives up (an unterminated string), the comments before that point still count.
    """
    text = source.text
    if len(text) <= MAX_STATEMENT_CHARS:
        return _comments_in(text, 0)
    # A large file is scanned piece by piece, and a statement too large to analyse is passed
    # over: a Python token for each of its million values would take gigabytes, and a comment
    # inside a statement nobody analyses suppresses nothing.
    spans, _ = _large_spans(text)
    found: list[tuple[int, int]] = []
    done = 0
    for start, end in [*spans, (len(text), len(text))]:
        found.extend(_comments_in(text[done:start], done))  # between statements
        if end - start <= MAX_STATEMENT_CHARS:
            found.extend(_comments_in(text[start:end], start))
        done = max(done, end)
    return found


def without_comments(sql: str) -> str:
    """`sql` on one line, its comments left out: a preview a column wide should show the
    statement, not the comment above it."""
    kept, at = [], 0
    for start, end in _comments_in(sql, 0):
        kept.append(sql[at:start])
        at = end
    kept.append(sql[at:])
    return " ".join(" ".join(kept).split())


def scan_tokens(text: str) -> list[Any]:
    """PostgreSQL's scanner's tokens of `text` (character offsets); where it gives up (an
    unterminated string), the tokens before that point."""
    try:
        return list(scan(text))
    except ParseError as err:
        try:
            return list(scan(text[: _error_offset(err, len(text))]))
        except ParseError:
            return []


def _comments_in(text: str, base: int) -> list[tuple[int, int]]:
    """Comments of `text` (offsets shifted by `base`); where the scanner gives up, those before."""
    tokens = scan_tokens(text)
    return [
        (base + t.start, base + t.end + 1) for t in tokens if t.name in ("SQL_COMMENT", "C_COMMENT")
    ]
