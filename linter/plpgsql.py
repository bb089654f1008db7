"""The SQL inside PL/pgSQL: statements of `DO` blocks found with their exact places in the file.

A `DO $$ ... $$` block runs when the migration runs, so an `ALTER TABLE` inside it takes the same
locks as one outside it; squawk treats the block as an opaque string. PostgreSQL's own PL/pgSQL
parser (pglast's `parse_plpgsql_json`) gives each embedded SQL statement with its text and line;
this module maps those back to file offsets, so rules see nested statements as ordinary
`Statement`s and report them at the right line and column inside the body.

`EXECUTE` of a constant string literal is parsed too (its SQL is known); any other `EXECUTE`
is dynamic SQL, listed as `DynamicSql` so that a rule can say it was not analysed.

`analyse_do` runs once per DO statement, when the section is parsed (linter/parsing.py), and
leaves its result on the statement (`Statement.do`): the model, the rules and the check all read
that one result.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pglast import ast
from pglast.parser import ParseError, parse_plpgsql_json
from pgpreflight.linter.migration import DoBody, DynamicSql, Statement
from pgpreflight.linter.parser import parse_sql

LOG = logging.getLogger(__name__)

# A tag's characters: ASCII letters, digits (not first), `_`, and anything not ASCII (the
# scanner takes every high-bit byte). Written with a negated class: the range `\x80-\uffff`
# costs 8 ms to compile on every run.
_DOLLAR_TAG = re.compile(r"\$(?:(?:[A-Za-z_]|[^\x00-\x7f])(?:[A-Za-z_0-9]|[^\x00-\x7f])*)?\$")


@dataclass(frozen=True)
class Body:
    """The source of a `DO` block or function body and where it sits in the file."""

    text: str
    # file offset of body character i is `offsets[i]` when the literal had escapes, otherwise
    # `start + i`
    start: int
    offsets: tuple[int, ...] | None = None

    def file_offset(self, i: int) -> int:
        if self.offsets is None:
            return self.start + i
        if not self.offsets:
            return self.start
        return self.offsets[min(max(i, 0), len(self.offsets) - 1)]


def _string_literal(file_text: str, loc: int, value: str) -> Body | None:
    """Where `value`, written as a string literal at file offset `loc`, starts in the file."""
    m = _DOLLAR_TAG.match(file_text, loc)
    if m:
        start = m.end()
        if file_text.startswith(value, start):
            return Body(value, start)
        return None
    if file_text.startswith("'", loc):
        # a plain '...' literal: doubled quotes stand for one; map each character back
        offsets: list[int] = []
        i = loc + 1
        while i < len(file_text) and len(offsets) < len(value):
            if file_text[i] == "'" and file_text.startswith("''", i):
                offsets.append(i)
                i += 2
                continue
            if file_text[i] == "'":
                break
            offsets.append(i)
            i += 1
        if len(offsets) == len(value):
            return Body(value, loc + 1, tuple(offsets))
    return None


def do_body(stmt: Statement) -> Body | None:
    """The PL/pgSQL body of a `DO` statement, or None for another language or an odd literal."""
    node = stmt.node
    if not isinstance(node, ast.DoStmt):
        return None
    code: ast.DefElem | None = None
    for item in node.args or ():
        if item.defname == "language" and str(getattr(item.arg, "sval", "")).lower() != "plpgsql":
            return None
        if item.defname == "as":
            code = item
    if code is None or not isinstance(code.arg, ast.String):
        return None
    text = stmt.source.sql
    loc = stmt.base + (
        code.location if isinstance(code.location, int) and code.location >= 0 else 0
    )
    # DefElem.location is the start of the literal in PostgreSQL 16+; search from it forward.
    for m in re.finditer(r"\$|'", text[loc : stmt.end_offset]):
        body = _string_literal(text, loc + m.start(), str(code.arg.sval or ""))
        if body is not None:
            return body
    return None


def parse_body(body: str) -> dict[str, Any]:
    """PostgreSQL's PL/pgSQL parse tree of a body, as pglast's JSON. Raises ParseError."""
    import json  # only a migration with a PL/pgSQL body needs it

    tag = "$pgpf$"
    while tag in body:
        tag = tag[:-1] + "x$"
    sql = f"CREATE FUNCTION pgpreflight_inline() RETURNS void LANGUAGE plpgsql AS {tag}{body}{tag}"
    try:
        tree = json.loads(parse_plpgsql_json(sql))
    except RecursionError:  # JSON nested deeper than the decoder follows
        raise ParseError("PL/pgSQL body nested too deeply for pgpreflight to analyse", 0) from None
    return tree[0]["PLpgSQL_function"]  # type: ignore[no-any-return]


def _walk(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every PL/pgSQL statement in tree order as (kind, fields). Iterative: a body nested
    hundreds of blocks deep must not end in a RecursionError."""
    stack: list[Any] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, list):
            stack.extend(reversed(current))
        elif isinstance(current, dict):
            children: list[tuple[str, str, Any]] = []
            for key, value in current.items():
                if key.startswith("PLpgSQL_stmt_") and isinstance(value, dict):
                    children.append(("stmt", key, value))
                elif isinstance(value, (dict, list)):
                    children.append(("node", key, value))
            # tree order: a statement comes before what it contains, siblings in order
            for what, key, value in reversed(children):
                stack.append(value)
                if what == "stmt":
                    stack.append(("yield", key, value))
        elif isinstance(current, tuple):
            yield current[1], current[2]


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in re.finditer(r"\n", text))
    return starts


def _locate(body: str, query: str, line_start: int) -> int:
    """Offset of `query` in `body`, searching from its line; PL/pgSQL blanks INTO clauses."""
    found = body.find(query, line_start)
    if found >= 0:
        return found
    head = re.split(r"\s{2,}", query.strip(), maxsplit=1)[0]
    found = body.find(head, line_start) if head else -1
    if found >= 0:
        return found
    pos = line_start
    while pos < len(body) and body[pos] in " \t":
        pos += 1
    return pos


def _constant_string(expression: str) -> str | None:
    """The value of an EXECUTE argument when it is one string literal, else None."""
    try:
        raws = parse_sql(f"SELECT {expression}")
    except ParseError:
        return None
    first = next(iter(raws), None)
    target: Any = getattr(getattr(first, "stmt", None), "targetList", None) or ()
    if len(target) != 1:
        return None
    val = target[0].val
    if isinstance(val, ast.A_Const) and isinstance(val.val, ast.String):
        return str(val.val.sval)
    return None


def _statements_of(parent: Statement, text: str, body_offset: Any) -> list[Statement]:
    """Parse `text` (SQL found inside a body) into statements placed at file offsets."""
    try:
        raws = parse_sql(text)
    except ParseError as err:
        LOG.debug("nested SQL does not parse: %s", err)
        return []
    out = []
    for raw in raws:
        if raw.stmt is None:
            continue
        start = raw.stmt_location or 0
        end = start + raw.stmt_len if raw.stmt_len else len(text)
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        piece = piece.strip()
        offset = body_offset(start + lead)
        end_offset = body_offset(start + lead + len(piece) - 1) + 1 if piece else offset
        if piece.endswith("'") and parent.source.sql.startswith("''", end_offset - 1):
            end_offset += 1  # the last quote was written doubled inside a quoted body
        statement = Statement(
            node=raw.stmt,
            text=piece,
            source=parent.source,
            offset=offset,
            end_offset=end_offset,
            section=parent.section,
            index=parent.index,
            base=body_offset(0),
            parent=parent,
        )
        statement.do = analyse_do(statement)
        out.append(statement)
    return out


def analyse_do(stmt: Statement) -> DoBody | None:
    """Read a DO statement's PL/pgSQL body once: its tree or parse error, the statements it runs
    (themselves analysed when they are DO blocks) and its dynamic SQL; None when `stmt` is no
    PL/pgSQL DO block."""
    body = do_body(stmt)
    if body is None:
        return None
    try:
        tree = parse_body(body.text)
    except ParseError as err:
        return DoBody(error=err)
    nested, dynamic = _nested_statements(stmt, body, tree)
    return DoBody(tree=tree, nested=nested, dynamic=dynamic)


def _nested_statements(
    stmt: Statement, body: Body, tree: dict[str, Any]
) -> tuple[list[Statement], list[DynamicSql]]:
    """The SQL statements a `DO` block runs, as `Statement`s, and its dynamic `EXECUTE`s.
    Statements nested in IF/LOOP/BEGIN blocks are included in source order."""
    lines = _line_starts(body.text)
    nested: list[Statement] = []
    dynamic: list[DynamicSql] = []
    cursor = 0
    for kind, fields in _walk(tree.get("action")):
        lineno = int(fields.get("lineno", 1) or 1)
        line_start = max(cursor, lines[min(lineno, len(lines)) - 1]) if lineno else cursor
        if kind == "PLpgSQL_stmt_execsql":
            query = fields["sqlstmt"]["PLpgSQL_expr"]["query"]
            at = _locate(body.text, query, line_start)
            cursor = at
            nested.extend(_statements_of(stmt, query, lambda i, at=at: body.file_offset(at + i)))
        elif kind == "PLpgSQL_stmt_dynexecute":
            expression = fields["query"]["PLpgSQL_expr"]["query"]
            at = _locate(body.text, expression, line_start)
            cursor = at
            value = _constant_string(expression)
            literal = _string_literal(body.text, at, value) if value is not None else None
            if value is not None and literal is not None:
                nested.extend(
                    _statements_of(
                        stmt, value, lambda i, lit=literal: body.file_offset(lit.file_offset(i))
                    )
                )
            else:
                dynamic.append(DynamicSql(stmt, body.file_offset(at), expression))
    return nested, dynamic
