"""Issue #14 item 8: EXPLAIN verdicts that misled reviewers on real histories, each reproduced on a
minimal history of our own: a partial index "used" on probes that matched no row, an index "not
used" because another new index does the same job, a partial index on a synthesised table whose
predicate no row satisfied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.explain.runner import ExplainOptions, run_explain, schema_after
from pgpreflight.linter.report.explain_text import render_evidence

from tests.helpers import make_config, write_history

BASELINE = """
-- file: 202401010000__base.sql
-- UP
CREATE TABLE pedidos (
    id integer PRIMARY KEY,
    cliente integer NOT NULL,
    loja integer NOT NULL,
    arquivado boolean NOT NULL DEFAULT false,
    criado_em date NOT NULL
);
-- DOWN
DROP TABLE pedidos;
"""

PENDING = """
-- file: 202402010000__indices.sql
-- UP
CREATE INDEX pedidos_cliente ON pedidos (cliente);
CREATE INDEX pedidos_cliente_loja ON pedidos (cliente, loja);
CREATE INDEX pedidos_loja ON pedidos (loja);
CREATE INDEX pedidos_loja_de_novo ON pedidos (loja);
CREATE INDEX pedidos_ativos ON pedidos (criado_em) WHERE NOT arquivado;
CREATE TABLE entregas (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pedido_id integer NOT NULL REFERENCES pedidos (id),
    entregue_em timestamptz,
    criada_em timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX entregas_pendentes ON entregas (pedido_id) WHERE entregue_em IS NULL;
CREATE TABLE documentos (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    corpo jsonb NOT NULL,
    titulo text NOT NULL GENERATED ALWAYS AS (corpo ->> 'titulo') STORED,
    busca tsvector GENERATED ALWAYS AS (to_tsvector('simple', corpo ->> 'titulo')) STORED,
    marcadores text[] NOT NULL
);
CREATE INDEX documentos_busca ON documentos USING gin (busca);
CREATE INDEX documentos_marcadores ON documentos USING gin (marcadores);
CREATE INDEX documentos_corpo ON documentos USING gin (corpo jsonb_path_ops);
-- DOWN
DROP TABLE documentos;
DROP TABLE entregas;
DROP INDEX pedidos_ativos;
DROP INDEX pedidos_loja_de_novo;
DROP INDEX pedidos_loja;
DROP INDEX pedidos_cliente_loja;
DROP INDEX pedidos_cliente;
"""

# Every order archived: the partial index `WHERE NOT arquivado` holds no row at all.
DATA = """
INSERT INTO pedidos
SELECT g, g % 5000, g % 300, true, date '2023-01-01' + g % 700
FROM generate_series(1, 40000) AS g;
ANALYZE pedidos;
"""


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory, pg_server: Any) -> Any:
    import psycopg

    root = tmp_path_factory.mktemp("verdicts")
    write_history(BASELINE + PENDING, root / "migrations")
    migrations = discover([root / "migrations"], "auto")
    dsn = pg_server.create_database("verdicts_db", template="template0")
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for stmt in migrations[0].up.statements:
                conn.execute(stmt.text)
            conn.execute(DATA)
        ev = run_explain(
            lambda: psycopg.connect(dsn, autocommit=True),
            migrations[1:],
            schema_after(migrations),
            make_config(root),
            history=migrations,
            options=ExplainOptions(runs=1, synthesize_rows=3000, data_source="test data"),
        )
        yield ev
    finally:
        pg_server.drop_database("verdicts_db")


def verdicts(ev: Any) -> dict[str, Any]:
    return {v.index.short: v for v in ev.indexes}


def test_a_partial_index_is_never_judged_on_probes_that_return_no_rows(evidence: Any) -> None:
    v = verdicts(evidence)["pedidos_ativos"]
    probes = [q for q in evidence.queries if q.index and q.index.endswith("pedidos_ativos")]
    assert probes and all(q.after.rows == 0 for q in probes if q.after)
    assert v.verdict == "not measured", (v.verdict, v.reason)
    assert v.reason is not None and "no rows" in v.reason
    assert v.to_dict()["verdict"] == "not measured"


def test_partial_index_on_a_synthesised_table_is_measured_on_matching_rows(evidence: Any) -> None:
    synth = {s.table: s for s in evidence.synthesized}
    share = {p["index"]: p for p in synth["public.entregas"].partial}["public.entregas_pendentes"]
    assert 0.2 < share["share"] < 0.8 and share["rows"] > 0
    v = verdicts(evidence)["entregas_pendentes"]
    counted = [
        q
        for q in evidence.queries
        if q.index and q.index.endswith("entregas_pendentes") and q.after and q.after.rows > 0
    ]
    assert counted, [(q.label, q.after and q.after.rows) for q in evidence.queries]
    assert v.verdict != "not measured", (v.verdict, v.reason)


def test_redundancy_between_new_indexes_is_named(evidence: Any) -> None:
    by_name = verdicts(evidence)
    twins = [by_name["pedidos_loja"], by_name["pedidos_loja_de_novo"]]
    # one of the two identical indexes serves the probes; the other is redundant, and says so
    unused = [v for v in twins if not v.used]
    assert len(unused) == 1, [(v.verdict, v.reason) for v in twins]
    other = ({"pedidos_loja", "pedidos_loja_de_novo"} - {unused[0].index.short}).pop()
    assert unused[0].reason is not None and unused[0].reason.startswith("redundant"), unused[0]
    assert other in unused[0].reason
    assert [r["index"] for r in unused[0].to_dict()["redundant_with"]] == [other]
    # a leading prefix of another new index is redundant whatever its own verdict
    prefix = by_name["pedidos_cliente"].to_dict()
    assert [r["index"] for r in prefix["redundant_with"]] == ["pedidos_cliente_loja"]
    assert by_name["pedidos_cliente_loja"].to_dict()["redundant_with"] == []
    text = render_evidence(evidence.to_dict())
    assert "redundant with new index pedidos_cliente_loja" in text


def test_reviewers_see_redundancy_and_empty_probes_in_the_reports(evidence: Any) -> None:
    """The saved result holds the new fields (and validates against the published schema);
    the HTML page and the PR comment name the redundant index and the empty partial index."""
    import json

    import jsonschema
    from pgpreflight.linter.report import html, markdown

    result = {
        "version": 1,
        "findings": [],
        "check": {"mode": "scratch", "migrations": [], "explain": evidence.to_dict()},
    }
    result = json.loads(json.dumps(result))
    schema_path = Path(html.__file__).parent / "result-schema.json"
    jsonschema.validate(result, json.loads(schema_path.read_text()))
    ativos = next(
        i for i in result["check"]["explain"]["indexes"] if i["index"] == "pedidos_ativos"
    )
    assert ativos["predicate_rows"] == 0 and ativos["verdict"] == "not measured"
    page = html.render_dict(result)
    assert "redundant with new index" in page and "pedidos_cliente_loja" in page
    assert "satisfy <code>WHERE (entregue_em IS NULL)</code>" in page
    comment = markdown.render_dict(result)
    assert "redundant with new index pedidos_cliente_loja" in comment
    assert "no row of the data used satisfies its predicate" in comment


@pytest.mark.parametrize(
    ("index", "kind", "operator"),
    [
        ("documentos_busca", "fulltext", "@@"),
        ("documentos_marcadores", "contains", "@>"),
        ("documentos_corpo", "contains", "@>"),
    ],
)
def test_gin_indexes_on_tsvector_arrays_and_jsonb_are_probed(
    evidence: Any, index: str, kind: str, operator: str
) -> None:
    """kestra's GIN indexes (full text, labels) were "not measured": no probe, no rows."""
    probes = [q for q in evidence.queries if q.index and q.index.endswith(index)]
    assert [q.kind for q in probes] == [kind], [(q.label, q.error) for q in probes]
    (probe,) = probes
    assert operator in probe.sql and probe.after is not None
    assert 0 < probe.after.rows < 0.5 * verdicts(evidence)[index].table_rows
    assert verdicts(evidence)[index].verdict != "not measured"
