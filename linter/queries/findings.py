"""Turn the shared query analysis into findings for the three rules that report it.

`query-without-supporting-index` is the umbrella; `filter-column-without-index` (btree kinds:
equality, range, IN, prefix LIKE, expression, join) and `text-search-without-trgm-index`
(ILIKE, infix LIKE, regular expressions) are its named sub-cases. Each gap is reported under
exactly one id:

- by its sub-rule when that sub-rule is enabled;
- else by the umbrella, unless the sub-rule is listed in `ignore` (ignoring a sub-case must not
  bring it back under another name);
- ORDER BY ... LIMIT, full-text and containment gaps belong to the umbrella alone.

So the default configuration (all three on) reports each gap once under its most specific id,
`select = ["query-without-supporting-index"]` reports the union, and selecting one sub-rule
reports just that sub-case. Queries that do not parse are reported by the umbrella, or by the
first enabled sub-rule when the umbrella is off.
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration

UMBRELLA = "query-without-supporting-index"
FILTER = "filter-column-without-index"
TEXT = "text-search-without-trgm-index"
SUBCASES = (FILTER, TEXT)

_WHAT = {
    "equality": "filters on",
    "in": "filters with IN on",
    "range": "filters a range of",
    "prefix-like": "filters with a prefix LIKE on",
    "expression": "filters on an expression of",
    "join": "joins on",
    "trigram": "searches text in",
    "full-text": "runs a full-text search on",
    "order-limit": "sorts with LIMIT by",
    "containment": "tests containment on",
}
_NEEDS = {
    "trigram": "no GIN/GiST trigram index serves it",
    "prefix-like": "no btree with text_pattern_ops (or a trigram index) serves it",
    "expression": "no index on that expression serves it",
    "order-limit": "no btree index returns rows in that order",
    "full-text": "no GIN/GiST index serves it",
    "containment": "no GIN index serves it",
    "join": "neither side has an index",
}


def _enabled(ctx: Context, rule_id: str) -> bool:
    from pgpreflight.linter.registry import all_rules

    rule = all_rules().get(rule_id)
    return rule is not None and ctx.config.is_enabled(rule_id, rule.opt_in, rule.presets)


def owner(ctx: Context, subcase: str) -> str | None:
    """The rule id that reports gaps of `subcase`, or None when nobody should."""
    if subcase == UMBRELLA:
        return UMBRELLA
    if _enabled(ctx, subcase):
        return subcase
    if subcase in ctx.config.get("ignore"):
        return None
    return UMBRELLA


def _error_owner(ctx: Context) -> str | None:
    for rule_id in (UMBRELLA, *SUBCASES):
        if _enabled(ctx, rule_id):
            return rule_id
    return None


def query_findings(migrations: list[Migration], ctx: Context) -> Iterator[Finding]:
    """Findings of the rule `ctx.rule` from the run's shared query analysis."""
    from pgpreflight.linter.queries.loading import collect

    # Without application queries there is nothing to look up in the final model, and asking
    # for it replays the history after the migrations being reported (linter/replay.py); nor
    # anything to analyse, so the analysis modules are not imported either.
    if not collect(ctx.config, migrations):
        return
    from pgpreflight.linter.queries import analysis_for
    from pgpreflight.linter.queries.coverage import subcase

    final = ctx.schema_final
    if final is None:
        return
    report = analysis_for(ctx.config, migrations, final)
    me = ctx.rule.id
    if _error_owner(ctx) == me:
        for analysis in report.analyses:
            if analysis.error is not None:
                q = analysis.query
                yield ctx.finding(
                    q.source,
                    f"query {q.where} cannot be parsed: {analysis.error}",
                    offset=q.offset + analysis.error_offset,
                    hint="fix the SQL, or move the query out of the files listed in 'queries'",
                )
    for analysis, gap in report.gaps:
        p = gap.predicate
        if owner(ctx, subcase(p)) != me:
            continue
        q = analysis.query
        column = (
            f"{p.table.split('.', 1)[1] if p.table.startswith('public.') else p.table}.{p.column}"
            if p.column
            else p.table
        )
        need = _NEEDS.get(p.kind, "no index has it as a usable leading column")
        what = _WHAT.get(p.kind, "uses")
        message = (
            f"query {q.where} {what} {column} ({p.text}) but {need}: {gap.suggestion.rstrip(';')}"
        )
        hint = gap.suggestion
        if gap.needs_extension:
            hint = f"CREATE EXTENSION IF NOT EXISTS {gap.needs_extension}; {hint}"
        yield ctx.finding(q.source, message, offset=q.offset + p.offset, hint=hint)
