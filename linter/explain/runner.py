"""The EXPLAIN step of `pgpreflight check`: before/after evidence for every new index.

`run_explain(conn_factory, migrations, schema, config)` is what the check calls. It is handed a
scratch database holding the baseline and its data (never the target: it changes the database)
and does, on that database:

1. apply the pending migrations' UP (statement by statement, autocommit; a failing statement is
   noted and skipped), and find the new indexes by comparing the catalog before and after;
2. make the data real: tables the new indexes or the application queries touch that are still
   empty get synthesised rows (`synthesize-rows`), then everything touched is ANALYZEd;
3. build the workload: probes from each new index, and the application queries (the `queries`
   setting and `-- pgpreflight: query` blocks) that read a table with a new index, their
   placeholders bound to values from `pg_stats`;
4. *before*: in one transaction that is rolled back, drop the new indexes (a constraint's index by
   dropping the constraint; an index that cannot be dropped, such as a unique index a foreign key
   depends on, is skipped with a note), measure every query, then rebuild each index to time
   its build;
5. *after*: measure every query again with the indexes in place;
6. verdicts per index (only from queries that return rows; another new index that makes one
   redundant is named), and plan lint on every after-plan.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.explain.lint import lint_plan
from pgpreflight.linter.explain.measure import measure
from pgpreflight.linter.explain.probes import IndexInfo, index_info, probes_for, user_indexes
from pgpreflight.linter.explain.stats import ColumnStats, column_stats, qident, qtable, table_size
from pgpreflight.linter.explain.synthesis import TableSynthesis, has_rows, synthesize
from pgpreflight.linter.explain.thresholds import Thresholds
from pgpreflight.linter.explain.verdict import IndexVerdict, QueryRun, covering, decide

if TYPE_CHECKING:
    from pgpreflight.linter.config import Config
    from pgpreflight.linter.migration import Migration
    from pgpreflight.linter.schema import SchemaModel

LOG = logging.getLogger(__name__)

EVIDENCE_VERSION = 1


@dataclass
class ExplainOptions:
    runs: int = 3
    synthesize_rows: int = 0
    """Rows per empty table; 0 = automatic (linter.explain.synthesis.DEFAULT_ROWS)."""
    thresholds: Thresholds = field(default_factory=Thresholds)
    data_source: str | None = None
    """What filled the tables before synthesis: the --data file, or "sample of the target"."""
    target_rows: dict[str, float] = field(default_factory=dict)
    """Qualified table -> row count on the target, to project build time and size."""
    statement_timeout: str = "60s"
    lock_timeout: str = "10s"
    progress: Callable[[str], None] | None = None
    workload: Callable[[list[str]], tuple[list[Any], str | None]] | None = None
    hypothetical: (
        Callable[
            [list[tuple[str, str]], list[tuple[str, str, list[str]]]],
            tuple[list[Any], str | None],
        ]
        | None
    ) = None
    """Target mode: (index name, CREATE INDEX) pairs and (label, query with `$n` placeholders,
    parameter values) to estimate on the target with HypoPG (`linter.explain.hypo`)."""
    """Target mode: given the tables with new indexes, the target's top pg_stat_statements
    entries touching them (`linter.explain.workload.read_workload`), measured like application
    queries."""

    @classmethod
    def from_config(cls, config: Config, **overrides: Any) -> ExplainOptions:
        values: dict[str, Any] = {
            "runs": int(config.get("explain-runs")),
            "synthesize_rows": int(config.get("synthesize-rows")),
            "thresholds": Thresholds.from_config(
                config.values.get("explain-thresholds"),
                where=f"{config.path or 'configuration'}: explain-thresholds",
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class ExplainEvidence:
    indexes: list[IndexVerdict] = field(default_factory=list)
    queries: list[QueryRun] = field(default_factory=list)
    data_source: str | None = None
    synthesized: list[TableSynthesis] = field(default_factory=list)
    unsupported: list[dict[str, Any]] = field(default_factory=list)
    """Application queries with a predicate no index serves (from the static analysis)."""
    hypothetical: list[Any] = field(default_factory=list)
    """Target mode with HypoPG: `linter.explain.hypo.Estimate`s on production statistics."""
    notes: list[str] = field(default_factory=list)
    runs: int = 3
    thresholds: Thresholds = field(default_factory=Thresholds)
    elapsed_s: float = 0.0
    server_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": EVIDENCE_VERSION,
            "server_version": self.server_version,
            "runs": self.runs,
            "data": {
                "source": self.data_source,
                "synthesized": [s.to_dict() for s in self.synthesized],
            },
            "indexes": [v.to_dict() for v in self.indexes],
            "queries": [q.to_dict() for q in self.queries],
            "unsupported_queries": self.unsupported,
            "hypothetical": [e.to_dict() for e in self.hypothetical],
            "notes": self.notes,
            "thresholds": self.thresholds.to_dict(),
            "elapsed_s": round(self.elapsed_s, 3),
        }


def schema_after(migrations: Sequence[Migration]) -> SchemaModel:
    """The schema model after every migration's UP: the one lint builds (`ctx.schema_final`),
    replayed the same way, statement and location, so that tables a DO block creates are in it
    for EXPLAIN as they are for the rules."""
    from pgpreflight.linter.replay import replay

    final = replay(migrations, {}).snapshots[-1]
    assert final is not None  # a replay from the start knows every snapshot
    return final


def _say(options: ExplainOptions, message: str) -> None:
    if options.progress is not None:
        options.progress(message)


def _apply_pending(conn: Any, migrations: Sequence[Migration], evidence: ExplainEvidence) -> None:
    import psycopg
    from pglast import ast

    for migration in migrations:
        for stmt in migration.up.statements:
            if isinstance(stmt.node, ast.TransactionStmt):
                continue  # autocommit: each statement stands alone
            try:
                conn.execute(stmt.text)
            except psycopg.Error as exc:
                first = (exc.diag.message_primary or str(exc)).splitlines()[0]
                evidence.notes.append(f"{stmt.source.display}:{stmt.line}: skipped, {first}")


def _predicate_rows(conn: Any, index: IndexInfo) -> int | None:
    """Rows of the data used that satisfy a partial index's predicate."""
    import psycopg

    try:
        row = conn.execute(
            f"SELECT count(*) FROM {qtable(index.table)} WHERE {index.predicate}"
        ).fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


def _drop_sql(index: IndexInfo) -> str:
    if index.constraint:
        return (
            f"ALTER TABLE {qtable(index.table)} DROP CONSTRAINT {qident(index.constraint)} CASCADE"
        )
    schema, _, name = index.name.partition(".")
    return f"DROP INDEX {qident(schema)}.{qident(name)}"


def _drop_new_indexes(
    conn: Any, indexes: list[IndexInfo], evidence: ExplainEvidence
) -> list[IndexInfo]:
    """Drop each new index for the *before* side, one savepoint each; return those that cannot
    be dropped (a foreign key depends on a unique index), which are skipped with a note."""
    import psycopg

    skipped: list[IndexInfo] = []
    for index in indexes:
        conn.execute("SAVEPOINT pgpreflight_drop")
        try:
            conn.execute(_drop_sql(index))
            conn.execute("RELEASE SAVEPOINT pgpreflight_drop")
        except psycopg.Error as exc:
            conn.execute("ROLLBACK TO SAVEPOINT pgpreflight_drop")
            first = (exc.diag.message_primary or str(exc)).splitlines()[0]
            evidence.notes.append(f"{index.short}: not measured, it cannot be dropped: {first}")
            skipped.append(index)
    return skipped


def _measure_into(conn: Any, run: QueryRun, side: str, runs: int) -> None:
    import psycopg

    in_tx = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    if in_tx:
        conn.execute("SAVEPOINT pgpreflight_query")
    try:
        result = measure(conn, run.sql, runs)
        setattr(run, side, result)
        if in_tx:
            conn.execute("RELEASE SAVEPOINT pgpreflight_query")
    except psycopg.Error as exc:
        if in_tx:
            conn.execute("ROLLBACK TO SAVEPOINT pgpreflight_query")
        first = (exc.diag.message_primary or str(exc)).splitlines()[0]
        run.error = f"{side}: {first}"


def run_explain(
    conn_factory: Callable[[], Any],
    migrations: Sequence[Migration],
    schema: SchemaModel,
    config: Config,
    *,
    history: Sequence[Migration] | None = None,
    options: ExplainOptions | None = None,
) -> ExplainEvidence:
    """Before/after EXPLAIN ANALYZE evidence for the indexes `migrations` (the pending ones) create.

    `conn_factory()` opens an autocommit psycopg connection to a disposable scratch database that
    holds the baseline and its data; `schema` is the model after all migrations; `history` (all
    migrations, default `migrations`) is searched for `pgpreflight: query` blocks."""
    started = time.perf_counter()
    options = options or ExplainOptions.from_config(config)
    evidence = ExplainEvidence(
        data_source=options.data_source, runs=options.runs, thresholds=options.thresholds
    )
    with conn_factory() as conn:
        conn.execute(f"SET statement_timeout = '{options.statement_timeout}'")
        conn.execute(f"SET lock_timeout = '{options.lock_timeout}'")
        # the measured queries carry their values as literals quoted for this setting
        conn.execute("SET standard_conforming_strings = on")
        evidence.server_version = str(conn.execute("SHOW server_version").fetchone()[0])
        before_ids = set(user_indexes(conn))
        _say(options, "explain: applying the pending migrations")
        _apply_pending(conn, migrations, evidence)
        new_ids = [oid for oid in user_indexes(conn) if oid not in before_ids]
        indexes = [i for i in (index_info(conn, oid) for oid in sorted(new_ids)) if i is not None]
        # application queries, analysed statically against the final schema
        from pgpreflight.linter.queries import analyse_queries, collect

        report = analyse_queries(collect(config, list(history or migrations)), schema)
        for analysis, gap in report.gaps:
            evidence.unsupported.append(
                {
                    "where": analysis.query.where,
                    "kind": gap.predicate.kind,
                    "predicate": gap.predicate.text,
                    "suggestion": gap.suggestion,
                }
            )
        if not indexes:
            evidence.notes.append("the pending migrations create no index")
            evidence.elapsed_s = time.perf_counter() - started
            return evidence
        index_tables = sorted({i.table for i in indexes})
        app = [a for a in report.analyses if a.error is None and set(a.tables) & set(index_tables)]
        labels: dict[int, str] = {}
        if options.workload is not None:
            app += _workload(options, index_tables, schema, evidence, labels)
        touched = sorted(set(index_tables) | {t for a in app for t in a.tables})
        # data
        empty = [t for t in touched if not has_rows(conn, t)]
        if empty:
            _say(options, f"explain: synthesising rows for {', '.join(empty)}")
            evidence.synthesized = synthesize(conn, empty, options.synthesize_rows)
        for table in touched:
            conn.execute(f"ANALYZE {qtable(table)}")
        for index in indexes:  # sizes after the data is in
            refreshed = index_info(conn, index.oid)
            if refreshed is not None:
                index.size_bytes = refreshed.size_bytes
            if index.predicate:
                index.predicate_rows = _predicate_rows(conn, index)
        # workload
        stats_cache: dict[tuple[str, str], ColumnStats] = {}

        def stats_for(table: str, column: str) -> ColumnStats:
            if (table, column) not in stats_cache:
                stats_cache[(table, column)] = column_stats(conn, table, column)
            return stats_cache[(table, column)]

        runs: list[QueryRun] = []
        for index in indexes:
            probes, notes = probes_for(conn, index, stats_cache)
            evidence.notes.extend(f"{index.short}: {n}" for n in notes)
            for probe in probes:
                runs.append(
                    QueryRun(
                        label=f"{index.short}: {probe.label}",
                        sql=probe.text,
                        origin="probe",
                        index=index.name,
                        kind=probe.kind,
                        tables=[index.table],
                        template=probe.sql,
                        params=probe.params,
                    )
                )
        from pgpreflight.linter.explain.params import bind

        for analysis in app:
            try:
                binding = bind(analysis.query.text.strip(), schema, stats_for)
            except Exception as exc:
                evidence.notes.append(f"{analysis.query.where}: cannot bind its parameters: {exc}")
                continue
            origin = "workload" if id(analysis) in labels else "application"
            runs.append(
                QueryRun(
                    label=labels.get(id(analysis))
                    or analysis.query.where
                    + (f" ({analysis.query.name})" if analysis.query.name else ""),
                    sql=binding.sql,
                    origin=origin,
                    where=analysis.query.where,
                    name=analysis.query.name,
                    tables=list(analysis.tables),
                    bound=binding.values,
                    unbound=binding.unbound,
                    columns=[(p.table, p.column or "", p.kind) for p in analysis.predicates],
                    template=binding.template,
                    params=binding.params,
                )
            )
        # before: the new indexes dropped inside a transaction that is rolled back
        _say(options, f"explain: {len(runs)} queries before the new indexes")
        conn.execute("BEGIN")
        try:
            for index in _drop_new_indexes(conn, indexes, evidence):
                indexes.remove(index)
                runs = [r for r in runs if not (r.origin == "probe" and r.index == index.name)]
            for run in runs:
                _measure_into(conn, run, "before", options.runs)
            for index in indexes:
                conn.execute("SAVEPOINT pgpreflight_build")
                t0 = time.perf_counter()
                try:
                    conn.execute(index.definition)
                    index.build_ms = (time.perf_counter() - t0) * 1000
                except Exception as exc:
                    evidence.notes.append(f"{index.short}: build not timed: {exc}")
                conn.execute("RELEASE SAVEPOINT pgpreflight_build")
        finally:
            conn.execute("ROLLBACK")
        # after
        _say(options, f"explain: {len(runs)} queries after the new indexes")
        for run in runs:
            _measure_into(conn, run, "after", options.runs)
            if run.after is not None:
                run.plan_findings = lint_plan(run.after.plan, options.thresholds)
        # verdicts
        hot = _hot_updates(report, indexes)
        new_names = {i.name.split(".", 1)[1] for i in indexes}
        for index in indexes:
            size = table_size(conn, index.table)
            relevant = [
                r
                for r in runs
                if r.index == index.name or (r.origin != "probe" and index.table in r.tables)
            ]
            verdict = decide(
                index,
                relevant,
                size.rows,
                size.pages,
                options.thresholds,
                options.target_rows.get(index.table),
                covered_by=covering(index, indexes),
                new_indexes=new_names,
            )
            verdict.hot_updates = hot.get(index.name, [])
            evidence.indexes.append(verdict)
        evidence.queries = runs
        if options.hypothetical is not None:
            _say(options, "explain: HypoPG estimates on the target")
            estimates, note = options.hypothetical(
                [(i.short, i.definition) for i in indexes],
                [(r.label, r.template or r.sql, r.params) for r in runs if r.error is None],
            )
            evidence.hypothetical = list(estimates)
            if note:
                evidence.notes.append(note)
    evidence.elapsed_s = time.perf_counter() - started
    return evidence


def _workload(
    options: ExplainOptions,
    tables: list[str],
    schema: SchemaModel,
    evidence: ExplainEvidence,
    labels: dict[int, str],
) -> list[Any]:
    """The target's workload as analysed queries (labels by id of the analysis)."""
    from pathlib import Path

    from pgpreflight.linter.migration import SourceFile
    from pgpreflight.linter.queries.loading import AppQuery
    from pgpreflight.linter.queries.predicates import analyse

    assert options.workload is not None
    statements, note = options.workload(tables)
    if note:
        evidence.notes.append(note)
    out = []
    for n, stmt in enumerate(statements, 1):
        source = SourceFile(Path("pg_stat_statements"), "pg_stat_statements", stmt.query)
        analysis = analyse(AppQuery(source, 0, stmt.query, "workload", f"top{n}"), schema)
        if analysis.error is not None:
            evidence.notes.append(f"{stmt.label}: not measured, {analysis.error}")
            continue
        labels[id(analysis)] = stmt.label
        out.append(analysis)
    return out


def _hot_updates(report: Any, indexes: list[IndexInfo]) -> dict[str, list[str]]:
    """Application UPDATEs that set a column of a new index: those updates stop being HOT."""
    from sqlglot import exp, parse_one

    out: dict[str, list[str]] = {}
    for analysis in report.analyses:
        if analysis.error is not None or "update" not in analysis.query.text.lower():
            continue
        try:
            tree = parse_one(analysis.query.text, dialect="postgres")
        except Exception:
            continue
        if not isinstance(tree, exp.Update) or not analysis.tables:
            continue
        table = analysis.tables[0]
        set_columns = {
            e.this.name
            for e in tree.expressions
            if isinstance(e, exp.EQ) and isinstance(e.this, exp.Column)
        }
        for index in indexes:
            if index.table != table:
                continue
            columns = {k.column for k in index.keys if k.column} | {
                c for k in index.keys if k.column is None for c in set_columns if c in k.text
            }
            hit = sorted(set_columns & columns)
            if hit:
                out.setdefault(index.name, []).append(
                    f"{analysis.query.where} sets {', '.join(hit)}"
                )
    return out
