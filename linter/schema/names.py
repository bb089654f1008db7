"""How PostgreSQL spells things: type names (`format_type`), generated object names
(`makeObjectName`/`ChooseRelationName`) and expression text.

Matching PostgreSQL's own choices matters because migrations drop unnamed constraints by the
name PostgreSQL gave them (`ALTER TABLE t DROP CONSTRAINT t_email_key`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from pglast import ast
from pglast.stream import RawStream
from pgpreflight.linter.names import DEFAULT_SCHEMA
from pgpreflight.linter.parser import child_getter

NAMEDATALEN = 64
NodeT = TypeVar("NodeT", bound=ast.Node)

_BUILTIN_TYPES = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "varchar": "character varying",
    "bpchar": "character",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timetz": "time with time zone",
    "time": "time without time zone",
    "varbit": "bit varying",
    "decimal": "numeric",
}
_SERIAL_TYPES = {
    "serial": "integer",
    "serial4": "integer",
    "bigserial": "bigint",
    "serial8": "bigint",
    "smallserial": "smallint",
    "serial2": "smallint",
}
# Interval field masks (src/include/utils/datetime.h) to the words format_type prints.
_MONTH, _YEAR, _DAY, _HOUR, _MINUTE, _SECOND = 1 << 1, 1 << 2, 1 << 3, 1 << 10, 1 << 11, 1 << 12
_INTERVAL_FIELDS = {
    _YEAR: " year",
    _MONTH: " month",
    _DAY: " day",
    _HOUR: " hour",
    _MINUTE: " minute",
    _SECOND: " second",
    _YEAR | _MONTH: " year to month",
    _DAY | _HOUR: " day to hour",
    _DAY | _HOUR | _MINUTE: " day to minute",
    _DAY | _HOUR | _MINUTE | _SECOND: " day to second",
    _HOUR | _MINUTE: " hour to minute",
    _HOUR | _MINUTE | _SECOND: " hour to second",
    _MINUTE | _SECOND: " minute to second",
}
_INTERVAL_FULL_RANGE = 0x7FFF


def deparse(node: Any) -> str:
    """SQL text of an expression or statement node, as pglast prints it."""
    return str(RawStream()(node))


def strings(nodes: Iterable[Any] | None) -> list[str]:
    """The `sval`s of a list of `String` nodes (qualified names in pglast's AST)."""
    return [str(n.sval) for n in nodes or () if isinstance(n, ast.String)]


def split_name(names: Iterable[Any] | None) -> tuple[str | None, str]:
    """`(schema, name)` from a list of `String` nodes such as `['public', 'mood']`."""
    parts = strings(names)
    if not parts:
        return None, ""
    return (parts[-2] if len(parts) > 1 else None), parts[-1]


def serial_base(type_name: ast.TypeName) -> str | None:
    """The integer type behind `serial`/`bigserial`/`smallserial`, or None."""
    schema, name = split_name(type_name.names)
    if schema in (None, "pg_catalog") and not type_name.arrayBounds and not type_name.typmods:
        return _SERIAL_TYPES.get(name)
    return None


def _typmod_values(type_name: ast.TypeName) -> list[str]:
    values = []
    for mod in type_name.typmods or ():
        if isinstance(mod, ast.A_Const) and mod.val is not None:
            val = mod.val
            values.append(str(getattr(val, "ival", None) or getattr(val, "sval", "") or 0))
        elif isinstance(mod, ast.ColumnRef):
            values.append(".".join(strings(mod.fields)))
        else:
            values.append(deparse(mod))
    return values


def format_type(
    type_name: ast.TypeName, user_types: Callable[[str], str | None] | None = None
) -> str:
    """The type as PostgreSQL's `format_type()` prints it.

    `user_types` maps a type name that is not built in to its qualified name, so types in the
    default schema print bare and the others print qualified, as with the default search_path.
    """
    schema, name = split_name(type_name.names)
    mods = _typmod_values(type_name)
    builtin = schema in (None, "pg_catalog")
    if builtin and name in _BUILTIN_TYPES:
        base = _BUILTIN_TYPES[name]
        if name in ("timestamptz", "timestamp", "timetz", "time"):
            word, _, zone = base.partition(" ")
            text = f"{word}({mods[0]}) {zone}" if mods else base
        elif name == "interval":
            text = base
        else:
            text = f"{base}({','.join(mods)})" if mods else base
    elif builtin and name == "interval":
        text = "interval"
        if mods:
            mask = int(mods[0]) if mods[0].isdigit() else _INTERVAL_FULL_RANGE
            fields = "" if mask == _INTERVAL_FULL_RANGE else _INTERVAL_FIELDS.get(mask, "")
            precision = f"({mods[1]})" if len(mods) > 1 else ""
            text = f"interval{fields}{precision}"
    else:
        if schema is None or schema == "pg_catalog":
            qualified = user_types(name) if user_types else None
            shown = name
            if qualified is not None and not qualified.startswith(DEFAULT_SCHEMA + "."):
                shown = qualified
        else:
            shown = name if schema == DEFAULT_SCHEMA else f"{schema}.{name}"
        text = f"{shown}({','.join(mods)})" if mods else shown
    if type_name.pct_type:
        text += "%TYPE"
    if type_name.arrayBounds:
        text += "[]"
    return text


def make_object_name(name1: str, name2: str | None, label: str | None) -> str:
    """PostgreSQL's `makeObjectName`: `name1_name2_label`, each part shortened to fit 63 bytes."""
    overhead = 0
    name1_len = len(name1.encode())
    name2_len = 0
    if name2:
        name2_len = len(name2.encode())
        overhead += 1
    if label:
        overhead += len(label.encode()) + 1
    available = NAMEDATALEN - 1 - overhead
    while name1_len + name2_len > available:
        if name1_len > name2_len:
            name1_len -= 1
        else:
            name2_len -= 1
    parts = [_clip(name1, name1_len)]
    if name2:
        parts.append(_clip(name2, name2_len))
    if label:
        parts.append(label)
    return "_".join(parts)


def truncate_identifier(name: str) -> str:
    """Identifiers are cut to 63 bytes, as PostgreSQL does when it reads them."""
    return _clip(name, NAMEDATALEN - 1)


def _clip(text: str, max_bytes: int) -> str:
    """Shorten to at most `max_bytes` UTF-8 bytes without splitting a character (pg_mbcliplen)."""
    raw = text.encode()
    if len(raw) <= max_bytes:
        return text
    return raw[:max_bytes].decode(errors="ignore")


def choose_name(name1: str, name2: str | None, label: str, taken: Callable[[str], bool]) -> str:
    """`ChooseRelationName`/`ChooseConstraintName`: the first free of `label`, `label1`, ..."""
    candidate = make_object_name(name1, name2, label)
    number = 0
    while taken(candidate):
        number += 1
        candidate = make_object_name(name1, name2, f"{label}{number}")
    return candidate


def column_name_addition(names: Iterable[str]) -> str:
    """`ChooseIndexNameAddition`: column names joined by `_`, stopping once the result is long."""
    result = ""
    for name in names:
        result = name if not result else f"{result}_{name}"
        if len(result.encode()) >= NAMEDATALEN:
            break
    return result


def index_column_name(element: ast.IndexElem) -> str:
    """The name `ChooseIndexColumnNames` gives an index column: its name or `FigureIndexColname`."""
    if element.indexcolname:
        return str(element.indexcolname)
    if element.name:
        return str(element.name)
    return figure_colname(element.expr) or "expr"


def figure_colname(node: Any) -> str | None:
    """A subset of PostgreSQL's `FigureColnameInternal` (the name of an unnamed expression)."""
    if isinstance(node, ast.ColumnRef):
        names = strings(node.fields)
        return names[-1] if names else None
    if isinstance(node, ast.FuncCall):
        return split_name(node.funcname)[1]
    if isinstance(node, ast.TypeCast):
        inner = figure_colname(node.arg)
        if inner is not None:
            return inner
        return split_name(node.typeName.names)[1] if node.typeName else None
    if isinstance(node, ast.CoalesceExpr):
        return "coalesce"
    if isinstance(node, ast.CaseExpr):
        return "case"
    if isinstance(node, ast.MinMaxExpr):
        return "greatest" if node.op == 0 else "least"
    if isinstance(node, ast.SQLValueFunction):
        return None
    if isinstance(node, ast.CollateClause):
        return figure_colname(node.arg)
    return None


def nodes_of(node: Any, kind: type[NodeT]) -> Iterator[NodeT]:
    """Every node of type `kind` in a tree, depth first, parents before children. A loop over
    a stack, not nested generators: a long history's views are trees of thousands of nodes,
    and recursion through one generator per node was a tenth of a cold lint."""
    stack = [node]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        if isinstance(item, ast.Node):
            if isinstance(item, kind):
                yield item
            children = child_getter(type(item))
            if children is not None:
                extend(children(item))
        elif isinstance(item, (tuple, list)):
            extend(reversed(item))


def referenced_columns(node: Any) -> list[str]:
    """Distinct column names an expression refers to, in order of first use."""
    found: list[str] = []
    for ref in nodes_of(node, ast.ColumnRef):
        names = strings(ref.fields)
        if names and names[-1] not in found:
            found.append(names[-1])
    return found
