"""Parse application queries with sqlglot and classify what each one asks of an index.

For every SELECT (or UPDATE/DELETE) scope of a query -- CTEs, subqueries, derived tables and
UNION branches are scopes of their own -- the conditions of WHERE and JOIN ... ON and the
ORDER BY of a query with LIMIT become `Predicate`s: which table and column (or expression) they
touch, and which kind of index access could serve them. Columns are resolved to tables through
the schema model (`ctx.schema_final`): a qualified column through its alias, an unqualified one
through the only table in scope that has it, a column of a CTE or derived table through the
select list that defines it, and a correlated column through the enclosing scope.

sqlglot is imported here and only here; `linter.queries.loading` decides whether this module is
needed at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.queries.loading import AppQuery

if TYPE_CHECKING:
    from pgpreflight.linter.schema import SchemaModel, Table

LOG = logging.getLogger(__name__)
_PYFORMAT = re.compile(r"%\((\w+)\)s")

EQUALITY = "equality"
RANGE = "range"
IN = "in"
PREFIX_LIKE = "prefix-like"
TRIGRAM = "trigram"
"""ILIKE, LIKE with a leading wildcard or an unknown pattern, regular expressions, SIMILAR TO."""
EXPRESSION = "expression"
"""`lower(email) = $1`: equality on an expression of a column (needs an expression index)."""
FULL_TEXT = "full-text"
ORDER_LIMIT = "order-limit"
JOIN = "join"
CONTAINMENT = "containment"
"""`tags @> $1`, `doc ? 'key'`: array or jsonb containment, served by GIN."""

KINDS = (
    EQUALITY,
    RANGE,
    IN,
    PREFIX_LIKE,
    TRIGRAM,
    EXPRESSION,
    FULL_TEXT,
    ORDER_LIMIT,
    JOIN,
    CONTAINMENT,
)


@dataclass(frozen=True)
class Predicate:
    """One thing a query asks an index for, resolved to a table of the schema model."""

    kind: str
    table: str
    """Qualified table name (`public.oficinas`)."""
    column: str | None
    """The column; None when the predicate is on an expression of several columns."""
    text: str
    """The predicate as written (normalised by sqlglot), for messages."""
    offset: int
    """Offset of the predicate's first column inside the query text."""
    expression: str | None = None
    """For EXPRESSION/TRIGRAM/FULL_TEXT on an expression: `lower(email)` without table aliases."""
    equal_columns: tuple[str, ...] = ()
    """Columns of the same table compared with `=` (or IN) in the same scope: an index whose
    leading columns are these can still serve this predicate on its next column."""
    order: tuple[tuple[str, bool], ...] = ()
    """ORDER_LIMIT: (column, descending) pairs in ORDER BY order."""
    join_with: tuple[str, str] | None = None
    """JOIN: the other side's (table, column)."""
    pattern: str | None = None
    """LIKE/ILIKE: the literal pattern when it is one."""


@dataclass
class QueryAnalysis:
    query: AppQuery
    predicates: list[Predicate] = field(default_factory=list)
    error: str | None = None
    """Why the query could not be parsed (the query is then skipped, reported as a finding)."""
    error_offset: int = 0
    unknown_tables: list[str] = field(default_factory=list)
    """Tables the query names that the schema model does not know (views, CTE-less typos...)."""
    tables: list[str] = field(default_factory=list)
    """Qualified names of every schema table the query reads or writes."""


def parse_query(query: AppQuery) -> tuple[Any, tuple[str, int] | None]:
    """The query's one sqlglot tree, or None and sqlglot's complaint (message, offset)."""
    from sqlglot import errors, parse

    try:
        parsed = [e for e in parse(query.text, dialect="postgres") if e is not None]
    except errors.ParseError as err:
        detail = err.errors[0] if err.errors else {}
        message = str(detail.get("description") or err).splitlines()[0]
        line, col = detail.get("line"), detail.get("col")
        offset = 0
        if isinstance(line, int) and isinstance(col, int):
            lines = query.text.split("\n")
            offset = sum(len(x) + 1 for x in lines[: line - 1]) + max(col - 1, 0)
        return None, (message, offset)
    except errors.SqlglotError as err:  # tokenizer errors and friends
        return None, (str(err).splitlines()[0], 0)
    if not parsed:
        return None, ("no statement", 0)
    if len(parsed) > 1:
        return None, ("more than one statement (end each query with ';')", 0)
    return parsed[0], None


def analyse(query: AppQuery, schema: SchemaModel) -> QueryAnalysis:
    """Parse one query and classify its predicates against `schema`."""
    from sqlglot import exp

    result = QueryAnalysis(query)
    tree, problem = parse_query(query)
    if problem is not None:
        result.error, result.error_offset = problem
        return result
    if isinstance(tree, exp.Command):
        result.error = "sqlglot does not understand this statement (parsed it as an opaque command)"
        return result
    _Classifier(result, schema).run(_as_select(tree))
    return result


def _as_select(tree: Any) -> Any:
    """UPDATE and DELETE find their rows like a SELECT over the same tables and WHERE; sqlglot's
    scope walker only knows SELECTs, so hand it that SELECT (node positions are kept)."""
    from sqlglot import exp

    if not isinstance(tree, (exp.Update, exp.Delete)) or not isinstance(tree.this, exp.Table):
        return tree
    select = exp.Select(expressions=[exp.Star()], from_=exp.From(this=tree.this.copy()))
    extra = tree.args.get("from") or tree.args.get("from_")
    tables = [extra.this] if isinstance(extra, exp.From) else []
    tables += list(tree.args.get("using") or [])
    joins = [exp.Join(this=t.copy()) for t in tables if isinstance(t, exp.Table)]
    if joins:
        select.set("joins", joins)
    if tree.args.get("where") is not None:
        select.set("where", tree.args["where"].copy())
    return select


def normalise_expression(text: str) -> str:
    """A comparison key for index expressions: lower case, no spaces, quotes or parentheses.

    `lower((email)::text)` from pglast's deparse and `LOWER(email)` from sqlglot both become
    `loweremail`; casts to text are dropped because PostgreSQL adds them on its own."""
    out = text.lower().replace("::text", "").replace("::character varying", "")
    for ch in ' \t\n"()':
        out = out.replace(ch, "")
    return out


class _Classifier:
    def __init__(self, result: QueryAnalysis, schema: SchemaModel) -> None:
        self.result = result
        self.schema = schema

    def run(self, tree: Any) -> None:
        from sqlglot import exp
        from sqlglot.optimizer.scope import traverse_scope

        try:
            scopes = list(traverse_scope(tree))
        except Exception as err:
            self.result.error = f"cannot resolve the query's scopes: {err}"
            return
        for scope in scopes:
            for source in scope.sources.values():
                if isinstance(source, exp.Table):
                    key = self._table_key(source)
                    if key is None:
                        name = source.name
                        if (
                            name
                            and name not in self.result.unknown_tables
                            and name not in scope.cte_sources
                        ):
                            self.result.unknown_tables.append(name)
                    elif key not in self.result.tables:
                        self.result.tables.append(key)
            self._scope(scope)

    # -- tables and columns ------------------------------------------------------------

    def _table_key(self, table: Any) -> str | None:
        name = table.name
        if not name:
            return None
        key = self.schema.qualify(f"{table.db}.{name}" if table.db else name)
        return key if key in self.schema.tables else None

    def _table(self, key: str) -> Table:
        return self.schema.tables[key]

    def resolve(self, column: Any, scope: Any, depth: int = 0) -> tuple[str, str] | None:
        """(qualified table, column) of a sqlglot Column in `scope`, or None."""
        from sqlglot import exp

        if depth > 8:
            return None
        name = column.name
        qualifier = column.table
        current = scope
        while current is not None:
            sources = current.sources
            if qualifier:
                if qualifier in sources:
                    return self._from_source(sources[qualifier], name, depth)
            else:
                hits = []
                for source in sources.values():
                    found = self._from_source(source, name, depth, probe=True)
                    if found is not None:
                        hits.append(found)
                if len(set(hits)) == 1:
                    return hits[0]
                if len(hits) > 1:
                    return None  # ambiguous: PostgreSQL would refuse it too
                # a SELECT-list alias used in ORDER BY is not a column of any table
                if isinstance(current.expression, exp.Select) and name in {
                    s.alias for s in current.expression.selects if s.alias
                }:
                    return None
            current = current.parent
        return None

    def _from_source(
        self, source: Any, name: str, depth: int, probe: bool = False
    ) -> tuple[str, str] | None:
        from sqlglot import exp

        if isinstance(source, exp.Table):
            key = self._table_key(source)
            if key is not None and name in self._table(key).columns:
                return key, name
            return None
        # A CTE or derived table: follow the select list that defines the column.
        expression = getattr(source, "expression", None)
        if not isinstance(expression, exp.Select):
            return None
        for select in expression.selects:
            inner = select.unalias() if isinstance(select, exp.Alias) else select
            if select.alias_or_name == name and isinstance(inner, exp.Column):
                return self.resolve(inner, source, depth + 1)
            if isinstance(select, exp.Star) or (
                isinstance(inner, exp.Column) and inner.name == "*"
            ):
                for inner_source in source.sources.values():
                    found = self._from_source(inner_source, name, depth + 1, probe=True)
                    if found is not None:
                        return found
        return None

    # -- conditions --------------------------------------------------------------------

    def _scope(self, scope: Any) -> None:
        from sqlglot import exp

        node = scope.expression
        conditions: list[Any] = []
        where = node.args.get("where")
        if where is not None:
            conditions.append(where.this)
        for join in node.args.get("joins") or ():
            on = join.args.get("on")
            if on is not None:
                conditions.append(on)
        leaves = [leaf for cond in conditions for leaf in _leaves(cond)]
        before = len(self.result.predicates)
        for leaf in leaves:
            self._leaf(leaf, scope)
        new = self.result.predicates[before:]
        # Columns with `=`/IN per table: the prefix an index may have before the column of a
        # range, ORDER BY or second equality.
        equal: dict[str, list[str]] = {}
        for p in new:
            if p.kind in (EQUALITY, IN) and p.column:
                equal.setdefault(p.table, [])
                if p.column not in equal[p.table]:
                    equal[p.table].append(p.column)
        for i, p in enumerate(new, start=before):
            if p.table in equal:
                others = tuple(c for c in equal[p.table] if c != p.column)
                self.result.predicates[i] = _replace(p, equal_columns=others)
        if (
            isinstance(node, exp.Select)
            and node.args.get("order") is not None
            and (
                node.args.get("limit") is not None
                or node.args.get("offset") is not None
                or node.args.get("fetch") is not None
            )
        ):
            self._order_limit(node, scope, equal)

    def _add(
        self, kind: str, resolved: tuple[str, str], node: Any, text: Any, **extra: Any
    ) -> None:
        table, column = resolved
        self.result.predicates.append(
            Predicate(
                kind=kind,
                table=table,
                column=column,
                text=_sql(text),
                offset=_offset(node),
                **extra,
            )
        )

    def _leaf(self, leaf: Any, scope: Any) -> None:
        from sqlglot import exp

        if isinstance(leaf, (exp.EQ, exp.NullSafeEQ)):
            self._equality(leaf, scope)
        elif isinstance(leaf, (exp.GT, exp.GTE, exp.LT, exp.LTE)):
            side = self._column_side(leaf, scope)
            if side is not None:
                col, resolved, _other = side
                self._add(RANGE, resolved, col, leaf)
        elif isinstance(leaf, exp.Between):
            col = _plain_column(leaf.this)
            found = self.resolve(col, scope) if col is not None else None
            if found is not None:
                self._add(RANGE, found, col, leaf)
        elif isinstance(leaf, exp.In):
            col = _plain_column(leaf.this)
            found = self.resolve(col, scope) if col is not None else None
            if found is not None:
                self._add(IN, found, col, leaf)
        elif isinstance(leaf, (exp.Like, exp.ILike)):
            self._like(leaf, scope, case_insensitive=isinstance(leaf, exp.ILike))
        elif isinstance(leaf, (exp.RegexpLike, exp.RegexpILike, exp.SimilarTo)):
            self._text_search(leaf, leaf.this, scope, pattern=None)
        elif isinstance(leaf, exp.MatchAgainst):
            for target in [leaf.this, *leaf.expressions]:
                if _local_columns(target):
                    self._full_text(leaf, target, scope)
                    break
        elif isinstance(leaf, (exp.ArrayContainsAll, exp.JSONBContains, exp.ArrayOverlaps)):
            col = _plain_column(leaf.this)
            found = self.resolve(col, scope) if col is not None else None
            if found is not None:
                self._add(CONTAINMENT, found, col, leaf)

    def _column_side(self, leaf: Any, scope: Any) -> tuple[Any, tuple[str, str], Any] | None:
        """The (column, resolved, other side) of a binary comparison of a column with a value."""
        for mine, other in ((leaf.this, leaf.expression), (leaf.expression, leaf.this)):
            col = _plain_column(mine)
            if col is None or _local_columns(other):
                continue
            resolved = self.resolve(col, scope)
            if resolved is not None:
                return col, resolved, other
        return None

    def _equality(self, leaf: Any, scope: Any) -> None:
        from sqlglot import exp

        left, right = leaf.this, leaf.expression
        lcol, rcol = _plain_column(left), _plain_column(right)
        if lcol is not None and rcol is not None:
            a, b = self.resolve(lcol, scope), self.resolve(rcol, scope)
            if a is not None and b is not None:
                if a[0] == b[0]:
                    return  # same table: `a = b` on one row is a filter no index serves
                # Is either side from an enclosing scope (a correlated subquery)? Then the other
                # side is compared with a value per execution: an equality, not a join.
                a_local = self._is_local(lcol, scope)
                b_local = self._is_local(rcol, scope)
                if a_local and b_local:
                    self._add(JOIN, a, lcol, leaf, join_with=b)
                    self._add(JOIN, b, rcol, leaf, join_with=a)
                elif a_local:
                    self._add(EQUALITY, a, lcol, leaf)
                elif b_local:
                    self._add(EQUALITY, b, rcol, leaf)
                return
        for mine, other in ((left, right), (right, left)):
            if _local_columns(other) and not isinstance(other, (exp.Subquery, exp.Select)):
                continue
            col = _plain_column(mine)
            if col is not None:
                resolved = self.resolve(col, scope)
                if resolved is not None:
                    kind = IN if isinstance(other, exp.Any) else EQUALITY
                    self._add(kind, resolved, col, leaf)
                    return
            columns = _local_columns(mine)
            if columns and not isinstance(mine, (exp.Subquery, exp.Select)):
                resolved_all = {self.resolve(c, scope) for c in columns}
                resolved_all.discard(None)
                if len({r[0] for r in resolved_all if r}) == 1:
                    first = next(iter(sorted(r for r in resolved_all if r)))
                    table = first[0]
                    column = first[1] if len(resolved_all) == 1 else None
                    self.result.predicates.append(
                        Predicate(
                            kind=EXPRESSION,
                            table=table,
                            column=column,
                            text=_sql(leaf),
                            offset=_offset(columns[0]),
                            expression=_unqualified_sql(mine),
                        )
                    )
                    return

    def _is_local(self, column: Any, scope: Any) -> bool:
        qualifier = column.table
        if qualifier:
            return qualifier in scope.sources
        return any(self._from_source(s, column.name, 0, probe=True) for s in scope.sources.values())

    def _like(self, leaf: Any, scope: Any, *, case_insensitive: bool) -> None:
        from sqlglot import exp

        pattern_node = leaf.expression
        pattern = (
            pattern_node.this
            if isinstance(pattern_node, exp.Literal) and pattern_node.is_string
            else None
        )
        if (
            not case_insensitive
            and pattern is not None
            and pattern[:1] not in ("%", "_")
            and _plain_column(leaf.this) is not None
        ):
            col = _plain_column(leaf.this)
            resolved = self.resolve(col, scope)
            if resolved is not None:
                self._add(PREFIX_LIKE, resolved, col, leaf, pattern=pattern)
            return
        self._text_search(leaf, leaf.this, scope, pattern=pattern)

    def _text_search(self, leaf: Any, target: Any, scope: Any, pattern: str | None) -> None:
        col = _plain_column(target)
        if col is not None:
            resolved = self.resolve(col, scope)
            if resolved is not None:
                self._add(TRIGRAM, resolved, col, leaf, pattern=pattern)
            return
        columns = _local_columns(target)
        resolved_all = {r for r in (self.resolve(c, scope) for c in columns) if r}
        if len({r[0] for r in resolved_all}) == 1:
            table, column = sorted(resolved_all)[0]
            self.result.predicates.append(
                Predicate(
                    kind=TRIGRAM,
                    table=table,
                    column=column if len(resolved_all) == 1 else None,
                    text=_sql(leaf),
                    offset=_offset(columns[0]),
                    expression=_unqualified_sql(target),
                    pattern=pattern,
                )
            )

    def _full_text(self, leaf: Any, target: Any, scope: Any) -> None:
        columns = _local_columns(target)
        resolved_all = {r for r in (self.resolve(c, scope) for c in columns) if r}
        if len({r[0] for r in resolved_all}) != 1:
            return
        table, column = sorted(resolved_all)[0]
        col = _plain_column(target)
        self.result.predicates.append(
            Predicate(
                kind=FULL_TEXT,
                table=table,
                column=column if len(resolved_all) == 1 else None,
                text=_sql(leaf),
                offset=_offset(columns[0]),
                expression=None if col is not None else _unqualified_sql(target),
            )
        )

    def _order_limit(self, node: Any, scope: Any, equal: dict[str, list[str]]) -> None:
        order: list[tuple[str, bool]] = []
        table: str | None = None
        first = None
        for ordered in node.args["order"].expressions:
            col = _plain_column(ordered.this)
            if col is None:
                return
            resolved = self.resolve(col, scope)
            if resolved is None or (table is not None and resolved[0] != table):
                return
            table = resolved[0]
            first = first or col
            order.append((resolved[1], bool(ordered.args.get("desc"))))
        if table is None or first is None:
            return
        self.result.predicates.append(
            Predicate(
                kind=ORDER_LIMIT,
                table=table,
                column=order[0][0],
                text=_sql(node.args["order"]),
                offset=_offset(first),
                order=tuple(order),
                equal_columns=tuple(equal.get(table, ())),
            )
        )


# -- helpers ------------------------------------------------------------------------------


def _replace(p: Predicate, **changes: Any) -> Predicate:
    from dataclasses import replace

    return replace(p, **changes)


def _leaves(condition: Any) -> Iterator[Any]:
    """The comparisons of a condition: through AND, OR and parentheses, never into NOT (a
    negated comparison is not something an index serves) nor into subqueries (own scopes)."""
    from sqlglot import exp

    if isinstance(condition, exp.Paren):
        yield from _leaves(condition.this)
    elif isinstance(condition, (exp.And, exp.Or)):
        yield from _leaves(condition.this)
        yield from _leaves(condition.expression)
    elif not isinstance(condition, exp.Not):
        yield condition


def _plain_column(node: Any) -> Any:
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Column) and node.name and node.name != "*":
        return node
    return None


def _local_columns(node: Any) -> list[Any]:
    """Columns in `node` outside nested subqueries (those belong to another scope)."""
    from sqlglot import exp

    found: list[Any] = []

    def walk(n: Any) -> None:
        if isinstance(n, (exp.Select, exp.Subquery, exp.Union)):
            return
        if isinstance(n, exp.Column):
            found.append(n)
            return
        for child in n.iter_expressions():
            walk(child)

    if node is not None:
        walk(node)
    return found


def _offset(node: Any) -> int:
    from sqlglot import exp

    for n in [node, *node.find_all(exp.Identifier)] if node is not None else []:
        meta = getattr(n, "meta", None) or {}
        if "start" in meta:
            return int(meta["start"])
        ident = getattr(n, "this", None)
        meta = getattr(ident, "meta", None) or {}
        if isinstance(meta, dict) and "start" in meta:
            return int(meta["start"])
    return 0


def _sql(node: Any) -> str:
    # sqlglot writes `:name` placeholders as `%(name)s`; show them as the application wrote them.
    text = _PYFORMAT.sub(r":\1", node.sql(dialect="postgres", comments=False))
    return text if len(text) <= 120 else text[:117] + "..."


def _unqualified_sql(node: Any) -> str:
    from sqlglot import exp

    copy = node.copy()
    for col in copy.find_all(exp.Column):
        col.set("table", None)
        col.set("db", None)
    return _PYFORMAT.sub(r":\1", copy.sql(dialect="postgres", comments=False))
