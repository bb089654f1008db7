"""What synthesis reads from catalog expressions: the column values that make a partial index's
predicate true (or false), and the JSON keys that generated columns and index expressions read.

Both come from the expressions PostgreSQL prints (`pg_get_expr`), parsed with pglast:

- `satisfy(predicate)` turns `NOT (deleted OR removed) AND published_at IS NOT NULL` into
  `deleted = false, removed = false, published_at not null`: De Morgan over AND/OR/NOT, then one
  `Atom` per comparison of a column with a constant (`=`, `<>`, `<`, `<=`, `>`, `>=`, `IN`,
  `= ANY(ARRAY[...])`), `IS [NOT] NULL`, `IS [NOT] TRUE/FALSE` and bare boolean columns. Of an OR
  the first branch that can be made true is used. What it cannot read (function calls, LIKE) gives
  no atom: those rows are left as generated;
- `json_paths(expression)` finds `value ->> 'deleted'`, `value #>> '{state,current}'` and chains
  of `->`, so that a JSON column is generated with the keys its generated columns read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON_OPS = ("->", "->>", "#>", "#>>")
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>", "!=": "<>"}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "=": "<>", "<>": "=", "!=": "="}


@dataclass(frozen=True)
class Atom:
    """One column condition that, with the others of its predicate, makes the predicate hold."""

    column: str
    kind: str
    """`null`, `not null`, `equals` (the column takes `value`), `above` or `below` (`value` is a
    bound the column must exceed, or stay under)."""
    value: str | None = None
    """SQL text of the constant (`'Private'::community_visibility`, `true`, `0`)."""


def _parse_expression(text: str) -> Any:
    from pglast import parse_sql

    stmt: Any = parse_sql(f"SELECT 1 WHERE {text}")[0].stmt
    return stmt.whereClause


def _sql(node: Any) -> str:
    from pglast.stream import RawStream

    return str(RawStream()(node))


def _column(node: Any) -> str | None:
    """The column a node names, through casts: `(visibility)::text` is `visibility`."""
    from pglast import ast

    while isinstance(node, ast.TypeCast):
        node = node.arg
    if isinstance(node, ast.ColumnRef) and node.fields:
        last = node.fields[-1]
        return str(last.sval) if isinstance(last, ast.String) else None
    return None


def _has_column(node: Any) -> bool:
    from pglast.visitors import Visitor

    class Finder(Visitor):
        found = False

        def visit_ColumnRef(self, ancestors: Any, node: Any) -> None:
            self.found = True

    finder = Finder()
    finder(node)
    return finder.found


def satisfy(predicate: str, want: bool = True) -> list[Atom]:
    """Atoms that make `predicate` true (`want`) or false; [] when none can be read."""
    try:
        node = _parse_expression(predicate)
    except Exception:
        return []
    return _make(node, want) or []


def _make(node: Any, want: bool) -> list[Atom] | None:
    from pglast import ast
    from pglast.enums import BoolExprType, BoolTestType, NullTestType

    if isinstance(node, ast.BoolExpr):
        args = list(node.args or ())
        if node.boolop == BoolExprType.NOT_EXPR:
            return _make(args[0], not want)
        every = (node.boolop == BoolExprType.AND_EXPR) == want
        if every:  # AND made true, OR made false: every branch
            parts = [_make(a, want) for a in args]
            if all(p is None for p in parts):
                return None
            return [atom for p in parts if p for atom in p]
        for arg in args:  # OR made true, AND made false: one branch is enough
            part = _make(arg, want)
            if part:
                return part
        return None
    if isinstance(node, ast.NullTest):
        column = _column(node.arg)
        if column is None:
            return None
        is_null = (node.nulltesttype == NullTestType.IS_NULL) == want
        return [Atom(column, "null" if is_null else "not null")]
    if isinstance(node, ast.BooleanTest):
        column = _column(node.arg)
        if column is None:
            return None
        true = node.booltesttype in (BoolTestType.IS_TRUE, BoolTestType.IS_NOT_FALSE)
        return [Atom(column, "equals", "true" if true == want else "false")]
    if isinstance(node, (ast.ColumnRef, ast.TypeCast)) and _column(node) is not None:
        return [Atom(str(_column(node)), "equals", "true" if want else "false")]
    if isinstance(node, ast.A_Expr):
        return _comparison(node, want)
    return None


def _comparison(node: Any, want: bool) -> list[Atom] | None:
    from pglast import ast
    from pglast.enums import A_Expr_Kind

    op = str(node.name[-1].sval) if node.name else ""
    if node.kind in (A_Expr_Kind.AEXPR_IN, A_Expr_Kind.AEXPR_OP_ANY) and op == "=":
        column = _column(node.lexpr)
        values = node.rexpr
        while isinstance(values, ast.TypeCast):
            values = values.arg
        items = (
            list(values.elements or ())
            if isinstance(values, ast.A_ArrayExpr)
            else list(values)
            if isinstance(values, (list, tuple))
            else []
        )
        if column is None or not items or not want:
            return None
        return [Atom(column, "equals", _sql(items[0]))]
    if node.kind != A_Expr_Kind.AEXPR_OP or op not in _FLIP:
        return None
    left, right = _column(node.lexpr), _column(node.rexpr)
    if left is not None and not _has_column(node.rexpr):
        column, constant = left, node.rexpr
    elif right is not None and not _has_column(node.lexpr):
        column, constant, op = right, node.lexpr, _FLIP[op]
    else:
        return None
    if not want:
        op = _NEGATE[op]
    value = _sql(constant)
    if op in ("=", "<=", ">="):
        return [Atom(column, "equals", value)]
    if op == ">":
        return [Atom(column, "above", value)]
    if op == "<":
        return [Atom(column, "below", value)]
    return None  # <>: the generated values differ from one constant anyway


def json_paths(expression: str) -> list[tuple[str, tuple[str, ...], str]]:
    """(JSON column, key path, last operator) of every `->`/`->>`/`#>`/`#>>` chain with
    constant keys in `expression`, longest chains only."""
    from pglast import ast
    from pglast.visitors import Visitor

    try:
        node = _parse_expression(expression)
    except Exception:
        return []
    found: list[tuple[str, tuple[str, ...], str]] = []

    class Chains(Visitor):
        def visit_A_Expr(self, ancestors: Any, node: Any) -> None:
            path = _path(node)
            if path is not None:
                found.append(path)

    Chains()(ast.SelectStmt(whereClause=node))
    longest = [
        (column, keys, op)
        for column, keys, op in found
        if not any(
            c == column and len(k) > len(keys) and k[: len(keys)] == keys for c, k, _ in found
        )
    ]
    return list(dict.fromkeys(longest))


def _path(node: Any) -> tuple[str, tuple[str, ...], str] | None:
    from pglast import ast

    if not isinstance(node, ast.A_Expr) or not node.name:
        return None
    op = str(node.name[-1].sval)
    if op not in JSON_OPS:
        return None
    inner = node.lexpr
    while isinstance(inner, ast.TypeCast):
        inner = inner.arg
    base: tuple[str, tuple[str, ...], str] | None
    column = _column(inner)
    base = (column, (), op) if column is not None else _path(inner)
    if base is None:
        return None
    key = node.rexpr
    while isinstance(key, ast.TypeCast):
        key = key.arg
    if not isinstance(key, ast.A_Const) or not isinstance(key.val, ast.String):
        return None  # an array position or a computed key
    text = str(key.val.sval)
    if op in ("#>", "#>>"):
        keys = tuple(k.strip().strip('"') for k in text.strip("{}").split(",") if k.strip())
    else:
        keys = (text,)
    return base[0], base[1] + keys, op
