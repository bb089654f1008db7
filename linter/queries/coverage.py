"""Which index of the schema model can serve a predicate, and which one to create when none can.

The matching follows what PostgreSQL's planner can actually use (see "Indexes" in the manual,
11.2 Index Types, 11.3 Multicolumn Indexes, 11.7 Indexes on Expressions, F.35 pg_trgm):

- btree serves `=`, ranges, `IN`/`= ANY` and ORDER BY on a column when every index column before
  it is constrained by `=`/IN in the same query (the leading-column rule); hash serves `=` on
  its only column; BRIN serves ranges.
- `LIKE 'abc%'` needs a btree with a `*_pattern_ops` operator class or the "C" collation
  (under any other collation the planner cannot turn the prefix into a range), or a trigram index.
- ILIKE, `LIKE '%abc%'`, `~`, `~*` need GIN `gin_trgm_ops` or GiST `gist_trgm_ops`; a GIN index
  serves a condition on any of its columns.
- `lower(email) = $1` needs an index on exactly that expression.
- Full-text `@@` needs a GIN/GiST index on the tsvector column or on the same `to_tsvector(...)`.
- A JOIN condition is served when either side has an index (the planner can drive a nested loop
  from the other side); ORDER BY ... LIMIT when a btree's columns, after the `=`-constrained
  prefix, are the ORDER BY columns in order, all in the index's direction or all reversed.

Partial indexes count: the schema model cannot prove that the query's WHERE implies the index
predicate, and a false "missing index" warning costs reviewers more than a missed one.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgpreflight.linter.queries.predicates import (
    CONTAINMENT,
    EQUALITY,
    EXPRESSION,
    FULL_TEXT,
    IN,
    JOIN,
    ORDER_LIMIT,
    PREFIX_LIKE,
    RANGE,
    TRIGRAM,
    Predicate,
    normalise_expression,
)
from pgpreflight.linter.schema import Index, SchemaModel, display

TRGM_OPCLASSES = ("gin_trgm_ops", "gist_trgm_ops")
PATTERN_OPCLASSES = ("text_pattern_ops", "varchar_pattern_ops", "bpchar_pattern_ops")
FILTER_KINDS = (EQUALITY, RANGE, IN, PREFIX_LIKE, EXPRESSION, JOIN)
"""Kinds reported by `filter-column-without-index`; ORDER BY ... LIMIT, full-text and
containment gaps only by the umbrella rule `query-without-supporting-index`."""


@dataclass(frozen=True)
class Gap:
    """A predicate no index serves, with the index that would."""

    predicate: Predicate
    suggestion: str
    """`CREATE INDEX CONCURRENTLY ...;` that would serve it."""
    needs_extension: str | None = None
    """`pg_trgm` when the suggestion needs an extension the schema does not have."""


def _element_matches(index: Index, position: int, predicate: Predicate) -> bool:
    element = index.elements[position]
    if predicate.expression is not None and predicate.kind in (EXPRESSION, TRIGRAM, FULL_TEXT):
        return element.expression is not None and normalise_expression(
            str(element.expression)
        ) == normalise_expression(predicate.expression)
    return element.column is not None and element.column == predicate.column


def _btree_position_ok(index: Index, predicate: Predicate, position: int) -> bool:
    """Every column before `position` is constrained by `=`/IN in the query."""
    before = index.elements[:position]
    return all(e.column is not None and e.column in predicate.equal_columns for e in before)


def serves(index: Index, predicate: Predicate) -> bool:
    method = index.method.lower()
    kind = predicate.kind
    positions = range(len(index.elements))
    if kind == TRIGRAM:
        return method in ("gin", "gist") and any(
            _element_matches(index, i, predicate)
            and (index.elements[i].opclass or "") in TRGM_OPCLASSES
            for i in positions
        )
    if kind == FULL_TEXT:
        return method in ("gin", "gist") and any(
            _element_matches(index, i, predicate) for i in positions
        )
    if kind == CONTAINMENT:
        return method in ("gin", "gist") and any(
            _element_matches(index, i, predicate) for i in positions
        )
    if kind == PREFIX_LIKE:
        if method in ("gin", "gist") and any(
            _element_matches(index, i, predicate)
            and (index.elements[i].opclass or "") in TRGM_OPCLASSES
            for i in positions
        ):
            return True
        return method == "btree" and any(
            _element_matches(index, i, predicate)
            and _btree_position_ok(index, predicate, i)
            and (
                (index.elements[i].opclass or "") in PATTERN_OPCLASSES
                or (index.elements[i].collation or "").strip('"').lower() in ("c", "posix")
            )
            for i in positions
        )
    if kind == ORDER_LIMIT:
        return method == "btree" and _serves_order(index, predicate)
    if kind in (EQUALITY, IN, JOIN, EXPRESSION):
        if method == "hash":
            return kind != IN and len(index.elements) == 1 and _element_matches(index, 0, predicate)
        if method == "btree":
            return any(
                _element_matches(index, i, predicate) and _btree_position_ok(index, predicate, i)
                for i in positions
            )
        return False
    if kind == RANGE:
        if method == "brin":
            return any(_element_matches(index, i, predicate) for i in positions)
        return method == "btree" and any(
            _element_matches(index, i, predicate) and _btree_position_ok(index, predicate, i)
            for i in positions
        )
    return False


def _serves_order(index: Index, predicate: Predicate) -> bool:
    elements = list(index.elements)
    i = 0
    while (
        i < len(elements)
        and elements[i].column in predicate.equal_columns
        and (elements[i].column not in [c for c, _ in predicate.order])
    ):
        i += 1
    rest = elements[i:]
    if len(rest) < len(predicate.order):
        return False
    flips = set()
    for element, (column, desc) in zip(rest, predicate.order, strict=False):
        if element.column != column:
            return False
        flips.add(element.descending != desc)
    return len(flips) == 1  # all in index order, or all reversed (a backward scan)


def find_serving(schema: SchemaModel, predicate: Predicate) -> Index | None:
    table = schema.tables.get(predicate.table)
    if table is None:
        return None
    for index in table.indexes.values():
        if serves(index, predicate):
            return index
    return None


def gap(schema: SchemaModel, predicate: Predicate) -> Gap | None:
    """None when some index serves `predicate` (or the kind needs none); else the suggestion."""
    if find_serving(schema, predicate) is not None:
        return None
    if predicate.kind == JOIN and predicate.join_with is not None:
        other_table, other_column = predicate.join_with
        other = Predicate(
            kind=JOIN, table=other_table, column=other_column, text=predicate.text, offset=0
        )
        if find_serving(schema, other) is not None:
            return None
    suggestion, extension = suggest(schema, predicate)
    return Gap(predicate, suggestion, extension)


def _index_name(schema: SchemaModel, table: str, parts: list[str], suffix: str = "") -> str:
    import re

    base = "_".join(["idx", table.split(".", 1)[1], *parts]) + (f"_{suffix}" if suffix else "")
    base = re.sub(r"[^a-z0-9_]+", "_", base.lower()).strip("_")[:63]
    existing = schema.tables[table].indexes if table in schema.tables else {}
    name, n = base, 2
    while name in existing:
        name = f"{base[:60]}_{n}"
        n += 1
    return name


def suggest(schema: SchemaModel, predicate: Predicate) -> tuple[str, str | None]:
    """The `CREATE INDEX CONCURRENTLY` statement that serves `predicate`."""
    table = predicate.table
    shown = display(table)
    column = predicate.column or ""
    kind = predicate.kind
    extension = None
    if kind == TRIGRAM:
        target = predicate.expression or column
        label = (
            column if predicate.expression is None else normalise_expression(predicate.expression)
        )
        name = _index_name(schema, table, [label], "trgm")
        element = f"({target})" if predicate.expression else target
        if "pg_trgm" not in schema.extensions:
            extension = "pg_trgm"
        return (
            f"CREATE INDEX CONCURRENTLY {name} ON {shown} USING gin ({element} gin_trgm_ops);",
            extension,
        )
    if kind == FULL_TEXT:
        target = f"({predicate.expression})" if predicate.expression else column
        name = _index_name(schema, table, [column or "document"], "fts")
        return f"CREATE INDEX CONCURRENTLY {name} ON {shown} USING gin ({target});", None
    if kind == CONTAINMENT:
        name = _index_name(schema, table, [column], "gin")
        return f"CREATE INDEX CONCURRENTLY {name} ON {shown} USING gin ({column});", None
    if kind == PREFIX_LIKE:
        name = _index_name(schema, table, [column], "pattern")
        return f"CREATE INDEX CONCURRENTLY {name} ON {shown} ({column} text_pattern_ops);", None
    if kind == EXPRESSION and predicate.expression:
        name = _index_name(schema, table, [normalise_expression(predicate.expression)])
        return f"CREATE INDEX CONCURRENTLY {name} ON {shown} (({predicate.expression}));", None
    if kind == ORDER_LIMIT:
        prefix = [c for c in predicate.equal_columns if c not in [o for o, _ in predicate.order]]
        cols = [*prefix, *(f"{c} DESC" if d else c for c, d in predicate.order)]
        name = _index_name(schema, table, [*prefix, *(c for c, _ in predicate.order)])
        return f"CREATE INDEX CONCURRENTLY {name} ON {shown} ({', '.join(cols)});", None
    cols = [column]
    if kind == RANGE and predicate.equal_columns:
        cols = [*predicate.equal_columns, column]
    name = _index_name(schema, table, cols)
    return f"CREATE INDEX CONCURRENTLY {name} ON {shown} ({', '.join(cols)});", None


def subcase(predicate: Predicate) -> str:
    """Which named sub-rule reports a gap of this predicate kind."""
    if predicate.kind == TRIGRAM:
        return "text-search-without-trgm-index"
    if predicate.kind in FILTER_KINDS:
        return "filter-column-without-index"
    return "query-without-supporting-index"
