"""Bind the placeholders of an application query (`$1`, `:name`) to values from `pg_stats`.

Each placeholder is matched to the comparison it sits in and to the column on the other side;
the value depends on the comparison: `=`/IN a typical value (the most common one when the column
has few distinct values, else a middle histogram bound), `>`/`>=` the 90% quantile and `<`/`<=`
the 10% one (a selective range either way), BETWEEN the 45%-55% quantiles, LIKE/ILIKE a frequent
substring wrapped the way the query wraps it, LIMIT 20 and OFFSET 0. A placeholder we cannot
place becomes NULL, and the evidence says which.

The text is substituted at the positions PostgreSQL's own scanner finds, never with a regex
over the SQL (a `$1` inside a string literal stays as it is). Two forms come out: `sql` with the
values written as literals (the report, and our own scratch server), and `template` with `$n`
placeholders plus `params`, which is what is sent to a target: values read from the target are
bound by the server, never quoted by us.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pgpreflight.linter.explain.stats import ColumnStats, Value
from pgpreflight.linter.schema import SchemaModel


@dataclass
class Binding:
    sql: str
    values: dict[str, str] = field(default_factory=dict)
    """placeholder (`$1`, `:status`) -> SQL literal bound to it."""
    unbound: list[str] = field(default_factory=list)
    template: str = ""
    """`sql` with `$n` placeholders (numbered by us) in place of the values; see `params`."""
    params: list[str] = field(default_factory=list)


def placeholder_spans(sql: str) -> list[tuple[int, int, str]]:
    """(start, end, key) of each placeholder: `$1` from the scanner's PARAM tokens, `:name` from a
    `:` directly followed by a name (`::` is a cast token of its own)."""
    from pglast.parser import scan

    tokens = scan(sql)
    spans: list[tuple[int, int, str]] = []
    for i, tok in enumerate(tokens):
        if tok.name == "PARAM":
            spans.append((tok.start, tok.end + 1, sql[tok.start : tok.end + 1]))
        elif tok.name == "ASCII_58" and i + 1 < len(tokens):
            nxt = tokens[i + 1]
            if nxt.start == tok.end + 1 and (sql[nxt.start].isalpha() or sql[nxt.start] == "_"):
                spans.append((tok.start, nxt.end + 1, ":" + sql[nxt.start : nxt.end + 1]))
    return spans


def _key(node: Any) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Parameter):
        return "$" + str(node.this.this if isinstance(node.this, exp.Literal) else node.name)
    return ":" + str(node.this if isinstance(node.this, str) else node.name)


def _tables(tree: Any, schema: SchemaModel) -> tuple[dict[str, str], list[str]]:
    from sqlglot import exp

    aliases: dict[str, str] = {}
    ordered: list[str] = []
    for table in tree.find_all(exp.Table):
        name = f"{table.db}.{table.name}" if table.db else table.name
        key = schema.qualify(name)
        if key not in schema.tables:
            continue
        aliases[table.alias_or_name] = key
        aliases[table.name] = key
        if key not in ordered:
            ordered.append(key)
    return aliases, ordered


def _column_of(
    node: Any, aliases: dict[str, str], tables: list[str], schema: SchemaModel
) -> tuple[str, str] | None:
    from sqlglot import exp

    columns = list(node.find_all(exp.Column)) if not isinstance(node, exp.Column) else [node]
    for col in columns:
        if col.table and col.table in aliases:
            key = aliases[col.table]
            if col.name in schema.tables[key].columns:
                return key, col.name
        for key in tables:
            if col.name in schema.tables[key].columns:
                return key, col.name
    return None


def bind(
    sql: str,
    schema: SchemaModel,
    stats_for: Callable[[str, str], ColumnStats],
) -> Binding:
    """`sql` with every placeholder replaced by a literal chosen from the column's statistics."""
    from sqlglot import exp, parse_one

    spans = placeholder_spans(sql)
    binding = Binding(sql, template=sql)
    if not spans:
        return binding
    tree = parse_one(sql, dialect="postgres")
    aliases, tables = _tables(tree, schema)
    bounded = _bounded_both_ways(tree, aliases, tables, schema)
    values: dict[str, Value] = {}
    for node in tree.find_all(exp.Parameter, exp.Placeholder):
        key = _key(node)
        if key in values:
            continue
        value = _value_for(node, aliases, tables, schema, stats_for, bounded)
        if value is not None:
            values[key] = value
    out: list[str] = []
    template: list[str] = []
    numbers: dict[str, int] = {}
    last = 0
    for start, end, key in spans:
        out.append(sql[last:start])
        template.append(sql[last:start])
        if key in values:
            out.append(values[key].literal())
            if key not in numbers:
                binding.params.append(values[key].text)
                numbers[key] = len(binding.params)
            template.append(values[key].placeholder(numbers[key]))
        else:
            out.append("NULL")
            template.append("NULL")
            if key not in binding.unbound:
                binding.unbound.append(key)
        last = end
    out.append(sql[last:])
    template.append(sql[last:])
    binding.sql = "".join(out)
    binding.template = "".join(template)
    binding.values = {k: v.literal() for k, v in values.items()}
    return binding


def _bounded_both_ways(
    tree: Any, aliases: dict[str, str], tables: list[str], schema: SchemaModel
) -> set[tuple[str, str]]:
    """Columns with both a lower and an upper placeholder bound (`d >= $1 AND d < $2`): those get
    a narrow window in the middle, not two one-sided quantiles that would contradict each other."""
    from sqlglot import exp

    sides: dict[tuple[str, str], set[bool]] = {}
    for cmp in tree.find_all(exp.GT, exp.GTE, exp.LT, exp.LTE):
        if not list(cmp.find_all(exp.Parameter, exp.Placeholder)):
            continue
        col = cmp.this if isinstance(cmp.this, exp.Column) else cmp.expression
        if not isinstance(col, exp.Column):
            continue
        resolved = _column_of(col, aliases, tables, schema)
        if resolved is None:
            continue
        lower = isinstance(cmp, (exp.GT, exp.GTE)) == (cmp.this is col)
        sides.setdefault(resolved, set()).add(lower)
    return {k for k, v in sides.items() if len(v) == 2}


def _value_for(
    node: Any,
    aliases: dict[str, str],
    tables: list[str],
    schema: SchemaModel,
    stats_for: Callable[[str, str], ColumnStats],
    bounded: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]
) -> Value | None:
    from sqlglot import exp

    parent = node.parent
    wrapped_in_any = False
    concatenated = False
    while isinstance(
        parent, (exp.Paren, exp.Cast, exp.DPipe, exp.Any, exp.Lower, exp.Upper, exp.Anonymous)
    ):
        wrapped_in_any |= isinstance(parent, exp.Any)
        concatenated |= isinstance(parent, exp.DPipe)
        node, parent = parent, parent.parent
    if isinstance(parent, exp.Limit):
        return Value("20", "bigint", number=True)
    if isinstance(parent, exp.Offset):
        return Value("0", "bigint", number=True)
    if parent is None:
        return None
    others = [c for c in parent.iter_expressions() if c is not node]
    target = next(
        (o for o in others if list(o.find_all(exp.Column)) or isinstance(o, exp.Column)), None
    )
    if target is None:
        return None
    resolved = _column_of(target, aliases, tables, schema)
    if resolved is None:
        return None
    stats = stats_for(*resolved)
    if isinstance(parent, (exp.Like, exp.ILike)):
        piece = stats.frequent_substring() or "a"
        return Value(piece if concatenated else f"%{piece}%")
    if isinstance(parent, (exp.RegexpLike, exp.RegexpILike, exp.SimilarTo)):
        return Value(stats.frequent_substring() or "a")
    if isinstance(parent, exp.Between):
        low = parent.args.get("low")
        q = 0.45 if low is node else 0.55
        v = stats.quantile(q)
        return Value(v, stats.type) if v is not None else None
    if isinstance(parent, (exp.GT, exp.GTE, exp.LT, exp.LTE)):
        column_left = parent.this is target
        greater = isinstance(parent, (exp.GT, exp.GTE)) == column_left
        if resolved in bounded:
            v = stats.quantile(0.45 if greater else 0.55)
        else:
            v = stats.quantile(0.9 if greater else 0.1)
        return Value(v, stats.type) if v is not None else None
    few_values = bool(stats.mcf) and sum(stats.mcf) > 0.9
    v = stats.common if few_values else stats.selective
    if v is None:
        return None
    if wrapped_in_any:
        return Value(v, stats.type, array=True)
    if target is not None and not isinstance(target, exp.Column):
        return Value(v)  # compared with an expression such as lower(email): keep it untyped
    return Value(v, stats.type)
