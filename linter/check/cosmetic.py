"""Which round-trip differences are cosmetic: the same schema, written another way.

A DOWN that restores a PL/pgSQL function from a copy with other whitespace, comments or
parentheses, a CHECK written `a AND (b AND c)` instead of `a AND b AND c`, a view or default that
froze a `'now'` literal when it was created, a serial sequence that a table rebuild named
`t_id_seq1` instead of `t_id_seq`: the catalog text differs, the schema does not. `grade` says so
for each difference, with the reason; the round trip then fails only on the others (see
`linter.check.roundtrip`), and still shows these.

Definitions are compared by parse tree (pglast; `pglast.parse_plpgsql` for PL/pgSQL bodies,
whose embedded SQL expressions are parsed in turn), with nested AND/OR flattened as PostgreSQL's
planner does. Only the objects that differ are parsed, so a round trip that passes costs nothing
here.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from typing import Any

from pgpreflight.linter.check.catalog import Snapshot

LOG = logging.getLogger(__name__)

Difference = tuple[str, str, str, Any, Any]
"""(kind, name, change, expected attrs, actual attrs), as `catalog.compare` gives them."""

WHITESPACE = "differs only in whitespace or comments"
PARSE_TREE = "same parse tree: only parentheses, AND/OR nesting, case or layout differ"
FROZEN_NOW = "a 'now' literal frozen when it was created (the time differs, nothing else)"
KEPT_EXTENSION = (
    "UP creates it only if missing (CREATE EXTENSION IF NOT EXISTS): it may have been there "
    "before and other objects may use it, so DOWN keeps it, as down-does-not-revert advises"
)

# attribute -> how its text is parsed: a whole statement, an expression, or a constraint clause
_STATEMENT_ATTRS = {("index", "definition"), ("trigger", "definition")}
_VIEW_KINDS = ("view", "materialized view")
_EXPRESSION_ATTRS = {("column", "default"), ("policy", "using"), ("policy", "with_check")}


def grade(
    expected: Snapshot,
    actual: Snapshot,
    diffs: list[Difference],
    kept_extensions: frozenset[str] = frozenset(),
) -> list[str | None]:
    """For each difference, why it is cosmetic, or None when it is real. `kept_extensions` are
    the extensions UP creates only if missing: one of them left behind by DOWN is not a
    failure."""
    renamed = _serial_renames(diffs)
    out: list[str | None] = []
    for kind, name, change, exp, act in diffs:
        if kind == "extension" and change == "extra" and name in kept_extensions:
            out.append(KEPT_EXTENSION)
        elif kind == "sequence" and change in ("missing", "extra"):
            pair = renamed.get(name)
            out.append(_serial_reason(*pair) if pair else None)
        elif change == "changed":
            out.append(_changed_reason(kind, exp, act, renamed))
        else:
            out.append(None)
    return out


# -- serial sequences renamed by a rebuild -------------------------------------------------


def _serial_renames(diffs: list[Difference]) -> dict[str, tuple[str, str, str]]:
    """Sequence name -> (owning column, expected name, actual name) for every sequence owned by
    a column that is missing under one name and extra under another, all else equal."""
    missing = {
        name: exp
        for kind, name, change, exp, _ in diffs
        if kind == "sequence" and change == "missing" and exp.get("owned_by")
    }
    extra = {
        name: act
        for kind, name, change, _, act in diffs
        if kind == "sequence" and change == "extra" and act.get("owned_by")
    }
    out: dict[str, tuple[str, str, str]] = {}
    for old, exp in missing.items():
        for new, act in extra.items():
            if new not in out and act == exp:
                pair = (str(exp["owned_by"]), old, new)
                out[old] = out[new] = pair
                break
    return out


def _serial_reason(column: str, old: str, new: str) -> str:
    return f"the sequence of serial column {column} is named {new} instead of {old} (a rebuild)"


_NEXTVAL = re.compile(r"nextval\('((?:[^']|'')*)'::regclass\)")


def _default_renamed(
    exp: Any, act: Any, renamed: dict[str, tuple[str, str, str]]
) -> tuple[str, str, str] | None:
    """The rename that explains two `nextval('seq'::regclass)` defaults, if any."""
    a, b = _NEXTVAL.fullmatch(str(exp or "")), _NEXTVAL.fullmatch(str(act or ""))
    if a is None or b is None:
        return None
    pair = renamed.get(_last_part(a.group(1)))
    if pair is not None and {pair[1], pair[2]} == {_last_part(a.group(1)), _last_part(b.group(1))}:
        return pair
    return None


def _last_part(regclass_text: str) -> str:
    """`public.t_id_seq` -> `t_id_seq`, the way `catalog.qualify` names a public sequence."""
    text = regclass_text.replace("''", "'")
    return text[len("public.") :] if text.startswith("public.") else text


# -- definitions ---------------------------------------------------------------------------


def _changed_reason(
    kind: str, exp: dict[str, Any], act: dict[str, Any], renamed: dict[str, tuple[str, str, str]]
) -> str | None:
    reasons: list[str] = []
    for attr in exp:
        a, b = exp.get(attr), act.get(attr)
        if kind == "column" and attr == "default" and (pair := _default_renamed(a, b, renamed)):
            reason: str | None = _serial_reason(*pair)
        elif isinstance(a, str) and isinstance(b, str):
            reason = same_text(kind, attr, a, b)
        else:
            reason = None
        if reason is None:
            return None
        if reason not in reasons:
            reasons.append(reason)
    return "; ".join(reasons) if reasons else None


def same_text(kind: str, attr: str, a: str, b: str) -> str | None:
    """Why two catalog texts of an object's attribute are the same definition, or None."""
    body = kind == "function"  # its body is a dollar-quoted string of code
    if _tokens(a, body) is not None and _tokens(a, body) == _tokens(b, body):
        return WHITESPACE
    if _canonical(kind, attr, a) is not None and _canonical(kind, attr, a) == _canonical(
        kind, attr, b
    ):
        return PARSE_TREE
    a_now, b_now = _thaw(a), _thaw(b)
    if (a_now, b_now) != (a, b) and (
        a_now == b_now
        or (
            _canonical(kind, attr, a_now) is not None
            and _canonical(kind, attr, a_now) == _canonical(kind, attr, b_now)
        )
    ):
        return FROZEN_NOW
    return None


def _tokens(text: str, code_in_dollars: bool = False, in_body: bool = False) -> list[str] | None:
    """The SQL tokens of `text` without whitespace and comments (None: it does not scan). With
    `code_in_dollars`, a dollar-quoted string (a function's body) is split into its tokens too,
    and so is a string in that body that holds an SQL statement (dynamic SQL it EXECUTEs)."""
    from pglast import parser

    try:
        tokens = parser.scan(text)
    except Exception:  # pglast raises its own ParseError, or worse on odd input
        return None
    out: list[str] = []
    for t in tokens:
        if t.name in ("SQL_COMMENT", "C_COMMENT"):
            continue
        word = text[t.start : t.end + 1]
        if in_body and t.name == "SCONST" and (sql := _statement_in_string(word)) is not None:
            out.extend(["'", *sql, "'"])
            continue
        tag = re.match(r"\$[A-Za-z_0-9]*\$", word) if code_in_dollars else None
        inner = (
            _tokens(word[tag.end() : -tag.end()], in_body=True)
            if tag and len(word) >= 2 * tag.end()
            else None
        )
        out.extend([tag.group(0), *inner, tag.group(0)] if tag and inner is not None else [word])
    return out


_STATEMENT_START = {"select", "with", "insert", "update", "delete", "merge", "create", "alter"}
_STATEMENT_START |= {"drop", "truncate", "grant", "revoke", "comment", "lock", "analyze"}


def _statement_in_string(word: str) -> list[str] | None:
    """The tokens of a plain '...' string that holds an SQL statement, else None: whitespace
    and comments in it mean nothing to the EXECUTE that runs it, unlike in a string of data."""
    if not (word.startswith("'") and word.endswith("'")) or len(word) < 2:
        return None
    sql = _tokens(word[1:-1].replace("''", "'"))
    return sql if sql and sql[0].lower() in _STATEMENT_START else None


_TIMESTAMP = re.compile(
    r"'(\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:[+-]\d{2}(?::?\d{2})?)?'"
)


def _thaw(text: str) -> str:
    """`text` with every date or timestamp literal of about now (today, give or take a day)
    replaced by `'now'`: what a `'now'` or `CURRENT_DATE`-like literal froze to when the object
    was created during this check."""
    today = datetime.date.today()

    def replace(m: re.Match[str]) -> str:
        try:
            day = datetime.date.fromisoformat(m.group(1))
        except ValueError:
            return m.group(0)
        return "'now'" if abs((day - today).days) <= 1 else m.group(0)

    return _TIMESTAMP.sub(replace, text)


def _canonical(kind: str, attr: str, text: str) -> str | None:
    """The definition printed back from its parse tree with AND/OR flattened; None when it does
    not parse (it is then compared as text only)."""
    try:
        if kind == "function" and attr == "definition":
            return _function(text)
        if (kind, attr) in _STATEMENT_ATTRS or (kind in _VIEW_KINDS and attr == "definition"):
            return _statements(text)
        if kind == "constraint" and attr == "definition":
            return _statements(f"ALTER TABLE t ADD CONSTRAINT c {text}")
        if (kind, attr) in _EXPRESSION_ATTRS:
            return _statements(f"SELECT {text}")
    except Exception:  # a text pglast cannot parse or print: compare it as text
        LOG.debug("cosmetic: cannot parse %s %s", kind, attr, exc_info=True)
    return None


def _statements(sql: str) -> str:
    from pglast import parse_sql
    from pglast.stream import RawStream

    return ";\n".join(RawStream()(_flatten(raw.stmt)) for raw in parse_sql(sql))


def _flatten(node: Any) -> Any:
    """`a AND (b AND c)` as `a AND b AND c` (and OR alike), everywhere in the tree."""
    from pglast import ast

    if isinstance(node, tuple):
        return tuple(_flatten(n) for n in node)
    if not isinstance(node, ast.Node):
        return node
    for attr in node:
        value = getattr(node, attr)
        if isinstance(value, (ast.Node, tuple)):
            setattr(node, attr, _flatten(value))
    if isinstance(node, ast.BoolExpr) and node.args:
        args: list[Any] = []
        for arg in node.args:
            if isinstance(arg, ast.BoolExpr) and arg.boolop == node.boolop and arg.args:
                args.extend(arg.args)
            else:
                args.append(arg)
        node.args = tuple(args)
    return node


def _function(definition: str) -> str:
    """A function as its header (printed back without the body) and its body: a PL/pgSQL body
    as pglast's PL/pgSQL tree (line numbers left out, every SQL expression canonical), an SQL
    body as its statements, any other language as tokens."""
    from pglast import ast, parse_plpgsql, parse_sql
    from pglast.stream import RawStream

    stmt = parse_sql(definition)[0].stmt
    assert isinstance(stmt, ast.CreateFunctionStmt)
    language = next(
        (str(o.arg.sval).lower() for o in stmt.options or () if o.defname == "language"), ""
    )
    body = next((o for o in stmt.options or () if o.defname == "as"), None)
    header_options = tuple(o for o in stmt.options or () if o.defname != "as")
    stmt.options = header_options
    header = RawStream()(stmt)
    if body is None:  # an SQL-standard body (BEGIN ATOMIC / RETURN) is in the header already
        return header
    source = "".join(str(s.sval) for s in body.arg if isinstance(s, ast.String))
    if language == "plpgsql":
        tree = _plpgsql_canonical(parse_plpgsql(definition))
        return header + "\n" + json.dumps(tree, sort_keys=True)
    if language == "sql":
        return header + "\n" + _statements(source)
    return header + "\n" + " ".join(_tokens(source) or [source])


_PLAIN_EXPR_MODE = 2  # RawParseMode RAW_PARSE_PLPGSQL_EXPR
_ASSIGN_MODES = (3, 4, 5)  # RAW_PARSE_PLPGSQL_ASSIGN1..3: "target := expression"


def _plpgsql_canonical(tree: Any) -> Any:
    if isinstance(tree, list):
        return [_plpgsql_canonical(v) for v in tree]
    if not isinstance(tree, dict):
        return tree
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if key in ("lineno", "location"):
            continue
        if key == "PLpgSQL_expr" and isinstance(value, dict) and "query" in value:
            value = dict(value, query=_plpgsql_query(str(value["query"]), value.get("parseMode")))
        out[key] = _plpgsql_canonical(value)
    return out


def _plpgsql_query(query: str, mode: Any) -> str:
    """An expression or statement embedded in PL/pgSQL, canonical when it parses as SQL."""
    try:
        if mode == _PLAIN_EXPR_MODE:
            return _statements(f"SELECT {query}")
        if mode in _ASSIGN_MODES and ":=" in query:
            target, _, expression = query.partition(":=")
            return (
                " ".join(_tokens(target) or [target]) + " := " + _statements(f"SELECT {expression}")
            )
        if mode in (None, 0):
            return _statements(query)
    except Exception:  # INTO targets, cursor arguments...: fall back to the tokens
        LOG.debug("cosmetic: PL/pgSQL query %r kept as tokens", query, exc_info=True)
    return " ".join(_tokens(query) or [query])
