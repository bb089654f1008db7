"""Columns of `CREATE TABLE ... AS SELECT`: names and types read off the query.

PostgreSQL derives them from the planned query; here the common shapes are followed (columns of
known tables, `*` and `alias.*`, casts, literals, `count`, `coalesce`, `now()`), and anything else
gets the type `unknown`, which the caller reports as unmodelled. Knowing at least the names keeps
later `ALTER TABLE ... ADD PRIMARY KEY (a, b)` on such a table from looking like an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pglast import ast

from . import names as N
from .objects import Column, Table

UNKNOWN = "unknown"

_FUNCTION_TYPES = {
    "count": "bigint",
    "now": "timestamp with time zone",
    "clock_timestamp": "timestamp with time zone",
    "gen_random_uuid": "uuid",
    "lower": "text",
    "upper": "text",
    "btrim": "text",
    "concat": "text",
    "to_tsvector": "tsvector",
}


def derive_columns(
    query: Any,
    lookup: Callable[[Any], Table | None],
    format_type: Callable[[Any], str],
) -> list[Column]:
    """The columns a SELECT produces; `lookup` resolves a RangeVar to a known table."""
    while isinstance(query, ast.SelectStmt) and query.larg is not None:
        query = query.larg  # UNION / INTERSECT / EXCEPT: the first branch names the columns
    if not isinstance(query, ast.SelectStmt) or not query.targetList:
        return []
    aliases: dict[str, Table] = {}
    order: list[Table] = []
    for item in query.fromClause or ():
        _collect(item, lookup, aliases, order)
    columns: list[Column] = []
    for target in query.targetList:
        value = target.val
        if isinstance(value, ast.ColumnRef) and isinstance((value.fields or ())[-1], ast.A_Star):
            qualifier = N.strings(value.fields)
            tables = [aliases[qualifier[-1]]] if qualifier and qualifier[-1] in aliases else order
            for table in tables:
                columns.extend(Column(c.name, c.type) for c in table.columns.values())
            continue
        name = target.name or N.figure_colname(value) or "?column?"
        columns.append(Column(str(name), _type_of(value, aliases, order, format_type)))
    return columns


def _collect(
    item: Any, lookup: Callable[[Any], Table | None], aliases: dict[str, Table], order: list[Table]
) -> None:
    if isinstance(item, ast.RangeVar):
        table = lookup(item)
        if table is not None:
            aliases[str(item.alias.aliasname) if item.alias else str(item.relname)] = table
            order.append(table)
    elif isinstance(item, ast.JoinExpr):
        _collect(item.larg, lookup, aliases, order)
        _collect(item.rarg, lookup, aliases, order)


def _type_of(
    value: Any, aliases: dict[str, Table], order: list[Table], format_type: Callable[[Any], str]
) -> str:
    if isinstance(value, ast.ColumnRef):
        parts = N.strings(value.fields)
        if not parts:
            return UNKNOWN
        tables = [aliases[parts[-2]]] if len(parts) > 1 and parts[-2] in aliases else order
        for table in tables:
            column = table.columns.get(parts[-1])
            if column is not None:
                return column.type
        return UNKNOWN
    if isinstance(value, ast.TypeCast) and value.typeName is not None:
        return format_type(value.typeName)
    if isinstance(value, ast.A_Const):
        constant = value.val
        if isinstance(constant, ast.Integer):
            return "integer"
        if isinstance(constant, ast.String):
            return "text"
        if isinstance(constant, ast.Boolean):
            return "boolean"
        if isinstance(constant, ast.Float):
            return "numeric"
        return UNKNOWN
    if isinstance(value, ast.FuncCall):
        name = N.split_name(value.funcname)[1]
        if name == "coalesce" and value.args:
            return _type_of(value.args[0], aliases, order, format_type)
        return _FUNCTION_TYPES.get(name, UNKNOWN)
    if isinstance(value, ast.CoalesceExpr) and value.args:
        return _type_of(value.args[0], aliases, order, format_type)
    if isinstance(value, ast.SQLValueFunction):
        operation = value.op.name if value.op is not None else ""
        return "timestamp with time zone" if "TIMESTAMP" in operation else UNKNOWN
    return UNKNOWN
