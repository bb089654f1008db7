"""Application queries: where they come from, what they ask of an index, and which index serves it.

- `loading`     the `queries` files of the configuration and `pgpreflight: query` blocks in
                migrations (no sqlglot: deciding that there is nothing to do stays cheap);
- `predicates`  sqlglot parsing, scope and column resolution, predicate classification;
- `coverage`    which index of the schema model serves a predicate, and the one to create.

The analysis is computed once per lint run and shared by the three rules that report it
(`query-without-supporting-index` and its two named sub-cases), the way the engine shares facts:
`analysis_for(ctx)` caches it on the schema model the rules are handed.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.queries.loading import AppQuery, collect

if TYPE_CHECKING:
    from pgpreflight.linter.config import Config
    from pgpreflight.linter.migration import Migration
    from pgpreflight.linter.queries.coverage import Gap
    from pgpreflight.linter.queries.predicates import QueryAnalysis
    from pgpreflight.linter.schema import SchemaModel

__all__ = ["AppQuery", "QueryReport", "analyse_queries", "analysis_for", "collect"]


@dataclass
class QueryReport:
    """Every application query of a run, analysed, with the predicates no index serves."""

    analyses: list[QueryAnalysis] = field(default_factory=list)
    gaps: list[tuple[QueryAnalysis, Gap]] = field(default_factory=list)

    @property
    def queries(self) -> list[AppQuery]:
        return [a.query for a in self.analyses]

    def to_dict(self) -> dict[str, Any]:
        return {
            "queries": [
                {
                    "where": a.query.where,
                    "error": a.error,
                    "tables": a.tables,
                    "predicates": [
                        {"kind": p.kind, "table": p.table, "column": p.column, "text": p.text}
                        for p in a.predicates
                    ],
                }
                for a in self.analyses
            ],
            "gaps": [
                {
                    "where": a.query.where,
                    "predicate": g.predicate.text,
                    "kind": g.predicate.kind,
                    "suggestion": g.suggestion,
                }
                for a, g in self.gaps
            ],
        }


def analyse_queries(queries: list[AppQuery], schema: SchemaModel) -> QueryReport:
    """Parse and classify `queries` against `schema`; imports sqlglot only when there are some."""
    report = QueryReport()
    if not queries:
        return report
    from dataclasses import replace

    from pgpreflight.linter.queries.coverage import gap
    from pgpreflight.linter.queries.predicates import EQUALITY, IN, ORDER_LIMIT, analyse

    for query in queries:
        analysis = analyse(query, schema)
        report.analyses.append(analysis)
        seen: set[tuple[str, str, str | None, str | None]] = set()
        found_gaps = [g for g in (gap(schema, p) for p in analysis.predicates) if g is not None]
        # `WHERE a = $1 ORDER BY b LIMIT n` with neither served: one index (a, b) serves both,
        # so report the filter once with that index instead of two findings and two indexes.
        orders = [g for g in found_gaps if g.predicate.kind == ORDER_LIMIT]
        absorbed: list[int] = []
        merged = []
        for g in found_gaps:
            order = next(
                (
                    o
                    for o in orders
                    if id(o) not in absorbed
                    and o.predicate.table == g.predicate.table
                    and g.predicate.column in o.predicate.equal_columns
                ),
                None,
            )
            if g.predicate.kind in (EQUALITY, IN) and order is not None:
                g = replace(g, suggestion=order.suggestion)
                absorbed.append(id(order))
            merged.append(g)
        for found in merged:
            if id(found) in absorbed:
                continue
            predicate = found.predicate
            key = (predicate.kind, predicate.table, predicate.column, found.suggestion)
            if key in seen:
                continue
            seen.add(key)
            report.gaps.append((analysis, found))
    return report


_CACHE: weakref.WeakKeyDictionary[Any, dict[Any, QueryReport]] = weakref.WeakKeyDictionary()


def analysis_for(config: Config, migrations: list[Migration], schema: SchemaModel) -> QueryReport:
    """The run's `QueryReport`, computed on first use and shared by every rule that asks."""
    per_schema = _CACHE.setdefault(schema, {})
    key = (id(config), tuple(config.get("queries")), tuple(id(m) for m in migrations))
    if key not in per_schema:
        per_schema[key] = analyse_queries(collect(config, migrations), schema)
    return per_schema[key]
