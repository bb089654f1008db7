"""The EXPLAIN step end to end on the scratch server: new indexes measured before and after,
verdicts, synthesised rows for a new table, application queries bound from pg_stats, DML rolled
back, and the text line per index."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.explain.runner import ExplainOptions, run_explain, schema_after
from pgpreflight.linter.explain.thresholds import Thresholds
from pgpreflight.linter.report.explain_text import render_evidence

from tests.helpers import make_config, write_history

BASELINE = """
-- file: 202401010000__base.sql
-- UP
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE pessoas (
    id integer PRIMARY KEY,
    nome text NOT NULL,
    cidade text NOT NULL,
    ativa boolean NOT NULL,
    criada_em date NOT NULL
);
-- DOWN
DROP TABLE pessoas;
"""

PENDING = """
-- file: 202402010000__indices.sql
-- UP
CREATE INDEX idx_pessoas_cidade ON pessoas (cidade);
CREATE INDEX idx_pessoas_ativa ON pessoas (ativa);
CREATE INDEX idx_pessoas_nome_trgm ON pessoas USING gin (nome gin_trgm_ops);
CREATE TABLE visitas (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pessoa_id integer NOT NULL REFERENCES pessoas (id),
    tipo text NOT NULL CHECK (tipo IN ('presencial', 'online', 'telefone')),
    em timestamptz NOT NULL
);
CREATE INDEX idx_visitas_pessoa_id ON visitas (pessoa_id);
-- DOWN
DROP TABLE visitas;
DROP INDEX idx_pessoas_nome_trgm;
DROP INDEX idx_pessoas_ativa;
DROP INDEX idx_pessoas_cidade;
"""

DATA = """
INSERT INTO pessoas
SELECT g,
       (ARRAY['Ana', 'Bruno', 'Carla', 'Diego', 'Elisa', 'Fabio'])[1 + g % 6] || ' ' ||
       (ARRAY['Silva', 'Souza', 'Costa', 'Pereira', 'Almeida', 'Ribeiro', 'Moura'])[1 + (g / 7) % 7]
           || ' ' || g,
       'cidade ' || (g % 400),
       g % 10 < 6,
       date '2023-01-01' + g % 700
FROM generate_series(1, 40000) AS g;
ANALYZE pessoas;
"""

QUERIES = """
-- name: por_cidade
SELECT id, nome FROM pessoas WHERE cidade = $1;

-- name: ativas
SELECT id, nome FROM pessoas WHERE ativa = :ativa ORDER BY criada_em LIMIT 50;

-- name: busca
SELECT id FROM pessoas WHERE nome ILIKE '%' || $1 || '%';

-- name: desativa
UPDATE pessoas SET ativa = false WHERE cidade = $1;
"""


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory, pg_server: Any) -> Any:
    import psycopg

    root = tmp_path_factory.mktemp("explain")
    write_history(BASELINE + PENDING, root / "migrations")
    (root / "queries.sql").write_text(QUERIES)
    config = make_config(root, queries=["queries.sql"])
    migrations = discover([root / "migrations"], "auto")
    base, pending = migrations[:1], migrations[1:]
    dsn = pg_server.create_database("explain_db", template="template0")
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for stmt in base[0].up.statements:
                conn.execute(stmt.text)
            conn.execute(DATA)
        ev = run_explain(
            lambda: psycopg.connect(dsn, autocommit=True),
            pending,
            schema_after(migrations),
            config,
            history=migrations,
            options=ExplainOptions(
                runs=3,
                synthesize_rows=2000,
                data_source="test data",
                target_rows={"public.pessoas": 4_000_000},
            ),
        )
        with psycopg.connect(dsn, autocommit=True) as conn:
            ev.inactive_after = conn.execute(
                "SELECT count(*) FROM pessoas WHERE NOT ativa"
            ).fetchone()[0]
        yield ev
    finally:
        pg_server.drop_database("explain_db")


def verdicts(ev: Any) -> dict[str, Any]:
    return {v.index.short: v for v in ev.indexes}


def test_every_new_index_is_found_including_the_new_tables_primary_key(evidence: Any) -> None:
    assert set(verdicts(evidence)) == {
        "idx_pessoas_cidade",
        "idx_pessoas_ativa",
        "idx_pessoas_nome_trgm",
        "visitas_pkey",
        "idx_visitas_pessoa_id",
    }


def test_selective_index_is_used_and_helps(evidence: Any) -> None:
    v = verdicts(evidence)["idx_pessoas_cidade"]
    assert v.verdict == "helps"
    assert v.best.before.shared_blocks > 3 * v.best.after.shared_blocks
    assert "idx_pessoas_cidade" not in v.best.before.indexes_used
    assert "idx_pessoas_cidade" in v.best.after.indexes_used


def test_trigram_index_is_used_by_an_ilike_probe(evidence: Any) -> None:
    v = verdicts(evidence)["idx_pessoas_nome_trgm"]
    assert v.used, (v.verdict, v.reason)
    probe = next(
        q for q in evidence.queries if q.index and q.index.endswith("idx_pessoas_nome_trgm")
    )
    assert re.search(r"ILIKE '%\w{4}%'", probe.sql)


def test_boolean_index_is_flagged(evidence: Any) -> None:
    v = verdicts(evidence)["idx_pessoas_ativa"]
    assert v.verdict in ("not used", "used, no gain"), (
        v.verdict,
        v.best and v.best.after.indexes_used,
    )
    assert v.reason and ("selectivity" in v.reason or "served" in v.reason)


def test_new_table_was_synthesised_and_its_indexes_measured(evidence: Any) -> None:
    synth = {s.table: s for s in evidence.synthesized}
    assert synth["public.visitas"].status == "generated" and synth["public.visitas"].rows == 2000
    assert verdicts(evidence)["idx_visitas_pessoa_id"].used


def test_application_queries_are_bound_from_pg_stats_and_dml_rolled_back(evidence: Any) -> None:
    app = {q.name: q for q in evidence.queries if q.origin == "application"}
    assert len(app) == 4 and all(q.error is None for q in app.values()), [
        q.error for q in app.values()
    ]
    por_cidade = app["por_cidade"]
    assert por_cidade.where.endswith("queries.sql:3") and por_cidade.label.endswith(
        "queries.sql:3 (por_cidade)"
    )
    assert por_cidade.bound["$1"].startswith("'cidade ") and por_cidade.unbound == []
    assert app["ativas"].bound[":ativa"] in (
        "'true'::boolean",
        "'false'::boolean",
        "'t'::boolean",
        "'f'::boolean",
    )
    assert app["busca"].bound["$1"].startswith("'")  # the ILIKE substring
    # the UPDATE ran 8 times (warm-up + 3, before and after) and was rolled back every time
    assert evidence.inactive_after == 16000


def test_costs_and_projection(evidence: Any) -> None:
    v = verdicts(evidence)["idx_pessoas_cidade"]
    d = v.to_dict()["costs"]
    assert d["build_ms"] > 0 and d["size_bytes"] > 100_000
    assert d["projected_build_ms"] == pytest.approx(
        d["build_ms"] * 4_000_000 / d["table_rows"], rel=0.01
    )
    # the application UPDATE sets `ativa`: HOT updates lost for the index on it
    assert any("sets ativa" in h for h in verdicts(evidence)["idx_pessoas_ativa"].hot_updates)


def test_text_line_per_index(evidence: Any) -> None:
    text = render_evidence(evidence.to_dict())
    line = next(x for x in text.splitlines() if "idx_pessoas_cidade" in x)
    # One vocabulary with the HTML ("helps"), buffers first, time as a median with its spread
    # (the fastest and slowest run, unless all of them print alike: 5.8 ms three times).
    assert re.search(
        r"idx_pessoas_cidade\s+helps\s+buffers [\d,]+ → [\d,]+ \(×[\d.,]+ fewer\)\s+"
        r"median time [\d.,]+ ms( \([\d.,]+–[\d.,]+ ms\))? → [\d.,]+ ms",
        line,
    ), line
    before = next(
        i["before"] for i in evidence.to_dict()["indexes"] if i["index"] == "idx_pessoas_cidade"
    )
    from pgpreflight.linter.report.explain_text import _ms

    printed = {_ms(ms) for ms in before["runs_ms"]}
    assert (f"median time {_ms(before['execution_ms'])} (" in line) == (len(printed) > 1), line
    assert (
        "EXPLAIN ANALYZE (median of 3 runs; data: test data; synthesised: visitas 2,000 rows)"
        in text
    )
    assert evidence.to_dict()["version"] == 1


def test_verdict_thresholds_decide(evidence: Any) -> None:
    from pgpreflight.linter.explain.verdict import decide

    v = verdicts(evidence)["idx_pessoas_cidade"]
    runs = [q for q in evidence.queries if q.index == v.index.name]
    strict = Thresholds(helps_min_buffer_ratio=1.0, helps_min_time_ratio=1.0)
    again = decide(v.index, runs, v.table_rows, v.table_pages, strict)
    assert again.verdict == "used, no gain"
    tiny = decide(
        v.index,
        runs,
        v.table_rows,
        v.table_pages,
        Thresholds(small_table_pages=1e9, helps_min_buffer_ratio=1.0, helps_min_time_ratio=1.0),
    )
    assert tiny.reason and tiny.reason.startswith("table too small")


def _m(ms: float, blocks: float, runs: list[float] | None = None, temp: float = 0) -> Any:
    from pgpreflight.linter.explain.measure import Measurement
    from pgpreflight.linter.explain.plan import parse_plan

    plan = parse_plan([{"Plan": {"Node Type": "Result"}}])
    return Measurement(ms, blocks, temp, 1.0, 1.0, [], plan, runs or [ms])


@pytest.mark.parametrize(
    ("before", "after", "helps", "why"),
    [
        (_m(50, 3000), _m(1, 40), True, "buffers"),
        (_m(50, 3000), _m(60, 2000), True, "buffers"),  # buffers decide first
        (_m(50, 3000), _m(20, 3500), False, "more buffers"),
        (_m(50, 3000, temp=900), _m(20, 3000, temp=0), True, "temp blocks"),
        (_m(10, 100, [9.5, 10, 11]), _m(5, 100, [4.8, 5, 6]), True, "time"),
        (_m(10, 100, [5.5, 10, 11]), _m(5, 100, [4.8, 5, 6]), False, "time within noise"),
        (_m(10, 100), _m(9.5, 100), False, "no measurable difference"),  # 5% < 10%
        (_m(0.15, 100), _m(0.1, 100), False, "no measurable difference"),  # 0.05 ms < 0.1 ms
        (_m(76, 3688), _m(56, 3723), False, "no fewer buffers"),  # the boolean index of the example
    ],
)
def test_gain_thresholds(before: Any, after: Any, helps: bool, why: str) -> None:
    from pgpreflight.linter.explain.verdict import gain

    g = gain(before, after, Thresholds())
    assert (g.helps, g.why) == (helps, why)


def test_workload_from_pg_stat_statements(tmp_path: Path) -> None:
    """Target mode's workload: top pg_stat_statements entries on the tables with new indexes,
    measured like application queries (a server of its own: the module must be preloaded)."""
    import psycopg
    from pgpreflight.linter.explain.workload import top_statements
    from pgpreflight.linter.pgserver import ScratchServer

    settings = {"shared_preload_libraries": "'pg_stat_statements'"}
    with ScratchServer(
        os.environ.get("PGPREFLIGHT_TEST_PG_BIN") or None, settings=settings
    ) as server:
        target = server.create_database("target", template="template0")
        with psycopg.connect(target, autocommit=True) as conn:
            assert (
                top_statements(conn, ["public.pessoas"])[1]
                == "pg_stat_statements is not installed on the target"
            )
            conn.execute("CREATE EXTENSION pg_stat_statements")
            for stmt in discover_sql(BASELINE):
                conn.execute(stmt)
            conn.execute(DATA)
            conn.execute("CREATE TABLE outra (id int)")
            for i in range(30):
                conn.execute("SELECT id FROM pessoas WHERE cidade = %s", (f"cidade {i}",))
            conn.execute("SELECT count(*) FROM pessoas WHERE criada_em > %s", ("2024-01-01",))
            conn.execute("SELECT * FROM outra WHERE id = %s", (1,))
            statements, note = top_statements(conn, ["public.pessoas"], limit=5)
        assert note is None
        texts = [" ".join(s.query.split()) for s in statements]
        assert "SELECT id FROM pessoas WHERE cidade = $1" in texts
        assert not any("outra" in t for t in texts)  # other tables are not the workload
        by_text = dict(zip(texts, statements, strict=True))
        assert by_text["SELECT id FROM pessoas WHERE cidade = $1"].calls == 30
        assert [s.total_ms for s in statements] == sorted(
            (s.total_ms for s in statements), reverse=True
        )

        root = tmp_path / "p"
        write_history(BASELINE + PENDING, root / "migrations")
        migrations = discover([root / "migrations"], "auto")
        scratch = server.create_database("scratch", template="template0")
        with psycopg.connect(scratch, autocommit=True) as conn:
            for stmt in migrations[0].up.statements:
                conn.execute(stmt.text)
            conn.execute(DATA)
        options = ExplainOptions(runs=1, workload=lambda tables: (statements, None))
        ev = run_explain(
            lambda: psycopg.connect(scratch, autocommit=True),
            migrations[1:],
            schema_after(migrations),
            make_config(root),
            history=migrations,
            options=options,
        )
    workload = [q for q in ev.queries if q.origin == "workload"]
    cidade = next(q for q in workload if "cidade =" in q.sql)
    assert cidade.label.startswith(
        "pg_stat_statements: SELECT id FROM pessoas WHERE cidade = $1 (30 calls"
    )
    assert cidade.bound["$1"].startswith("'cidade ")
    assert "idx_pessoas_cidade" in cidade.after.indexes_used
    assert any(
        u.startswith("pg_stat_statements:") for u in verdicts(ev)["idx_pessoas_cidade"].used_by
    )


def discover_sql(history: str) -> list[str]:
    """The UP statements of the one-file history text (baseline table and extension)."""
    body = history.split("-- UP", 1)[1].split("-- DOWN", 1)[0]
    return [s for s in body.split(";") if s.strip()]


def test_hypopg_estimates_on_the_target(pg_db: str) -> None:
    """With HypoPG on the target: a plain EXPLAIN with the new index hypothetical. Without it, a
    note says so. Both paths are real: which one runs depends on the machine's PostgreSQL."""
    import psycopg
    from pgpreflight.linter.explain.hypo import estimate

    with psycopg.connect(pg_db, autocommit=True) as conn:
        for stmt in discover_sql(BASELINE):
            conn.execute(stmt)
        conn.execute(DATA)
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'"
        ).fetchone()
        indexes = [
            ("idx_pessoas_cidade", "CREATE INDEX idx_pessoas_cidade ON public.pessoas (cidade)")
        ]
        queries = [
            ("por cidade", "SELECT id FROM pessoas WHERE cidade = 'cidade 7'"),
            ("update", "UPDATE pessoas SET ativa = true WHERE cidade = 'cidade 7'"),
        ]
        estimates, note = estimate(conn, indexes, queries)
        assert estimates == [] and note and "not installed" in note
        if available is None:
            return
        conn.execute("CREATE EXTENSION hypopg")
        conn.execute("SET default_transaction_read_only = on")  # as on the target
        estimates, note = estimate(conn, indexes, queries)
        assert note is None
        (e,) = estimates  # the UPDATE is never explained on a target
        assert e.query == "por cidade" and e.uses_index and e.cost_after < e.cost_before / 2
        assert "estimate" in e.label
        # nothing was created for real
        assert (
            conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'pessoas'").fetchone()[
                0
            ]
            == 1
        )


def test_check_cli_runs_the_explain_step(tmp_path: Path) -> None:
    """`pgpreflight check --since V --data F` prints one line per new index and saves the
    evidence in the JSON result (the hook in linter/check)."""
    import json
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    write_history(BASELINE + PENDING, tmp_path / "migrations")
    (tmp_path / "data.sql").write_text(DATA)
    (tmp_path / "queries.sql").write_text(QUERIES)
    (tmp_path / "pgpreflight.toml").write_text(
        'migrations = ["migrations"]\nqueries = ["queries.sql"]\nexplain-runs = 1\n'
        "[explain-thresholds]\nmisestimate-factor = 50\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PYTHONPATH"] = str(repo)
    args = [
        sys.executable,
        "-m",
        "linter",
        "check",
        "migrations",
        "--since",
        "202402010000",
        "--data",
        "data.sql",
        "--synthesize-rows",
        "500",
        "--quiet",
        "--json",
        "result.json",
    ]
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    assert (
        "EXPLAIN ANALYZE (median of 1 runs; data: data.sql; synthesised: visitas 500 rows)"
        in proc.stdout
    )
    assert re.search(r"idx_pessoas_cidade\s+helps\s+buffers", proc.stdout), proc.stdout[-2000:]
    explain = json.loads((tmp_path / "result.json").read_text())["check"]["explain"]
    assert explain["thresholds"]["misestimate-factor"] == 50
    assert {i["index"] for i in explain["indexes"]} >= {"idx_pessoas_cidade", "idx_pessoas_ativa"}
    cidade = next(q for q in explain["queries"] if q["name"] == "por_cidade")
    assert cidade["after"]["plan"][0]["Plan"]["Node Type"] in ("Bitmap Heap Scan", "Index Scan")


def test_target_reads_use_the_session_they_are_given_and_never_raise(pg_db: str) -> None:
    """The workload and HypoPG readers run in the target session check opens (read-only, tagged,
    timeouts set); a target that cannot be reached is a note, not a crash."""
    import psycopg
    from pgpreflight.linter.errors import PgPreflightError
    from pgpreflight.linter.explain.hypo import read_estimates
    from pgpreflight.linter.explain.workload import read_workload

    def unreachable() -> psycopg.Connection:
        raise PgPreflightError("cannot connect to the target (db.example:5432/app): timeout")

    assert read_workload(unreachable, ["public.t"]) == (
        [],
        "cannot read the target's workload: cannot connect to the target (db.example:5432/app): timeout",
    )
    estimates, note = read_estimates(unreachable, [], [])
    assert estimates == [] and note is not None and "db.example" in note

    def session() -> psycopg.Connection:
        return psycopg.connect(
            pg_db, autocommit=True, options="-c default_transaction_read_only=on"
        )

    statements, note = read_workload(session, ["public.t"])
    assert statements == [] and (note is None or "pg_stat_statements" in note)
