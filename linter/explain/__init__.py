"""EXPLAIN ANALYZE evidence for new indexes and application queries (`pgpreflight check`).

Modules, in the order data flows:

- `thresholds` the documented, configurable numbers behind plan lint and verdicts;
- `plan`       EXPLAIN JSON (PostgreSQL 13-18) into nodes, per-loop maths done once;
- `lint`       plan lint on after-plans, each finding pointing at its node;
- `expressions` what synthesis reads from catalog expressions (partial-index predicates, JSON
               keys of generated columns);
- `synthesis`  rows for empty tables (CHECK lists, enums, FKs spread over many parents, unique
               and composite keys, JSON documents, arrays, partial-index predicates, skew);
- `stats`      pg_stats into concrete values; `params` binds `$1`/`:name` of application queries;
- `probes`     the new indexes from the catalog and the probe queries for each;
- `measure`    EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON), warmed once, median of N runs;
- `verdict`    used / helps / used, no gain / not used, with the likely reason (only queries that
               return rows count; redundancy between new indexes named), and costs;
- `runner`     `run_explain(conn_factory, migrations, schema, config) -> ExplainEvidence`;
- `text`       one line per index, one per query without a supporting index, plan lint.

Nothing here is imported by `pgpreflight lint`: psycopg and sqlglot are imported inside functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgpreflight.linter.explain.runner import ExplainEvidence, ExplainOptions

__all__ = ["ExplainEvidence", "ExplainOptions", "run_explain"]


def run_explain(*args: Any, **kwargs: Any) -> ExplainEvidence:
    """See `linter.explain.runner.run_explain` (imported on first call)."""
    from pgpreflight.linter.explain.runner import run_explain as run

    return run(*args, **kwargs)


def __getattr__(name: str) -> Any:
    if name in ("ExplainEvidence", "ExplainOptions"):
        from pgpreflight.linter.explain import runner

        return getattr(runner, name)
    raise AttributeError(name)
