"""Application queries: loading, parsing and predicate classification (linter/queries)."""

from __future__ import annotations

from pathlib import Path

import pglast
import pytest
from pgpreflight.linter.migration import SourceFile
from pgpreflight.linter.parsing import comment_spans
from pgpreflight.linter.queries import analyse_queries
from pgpreflight.linter.queries.loading import migration_blocks, query_files, split_statements
from pgpreflight.linter.queries.predicates import analyse
from pgpreflight.linter.schema import SchemaModel

from tests.helpers import make_config

DDL = """
CREATE EXTENSION pg_trgm;
CREATE TABLE users (id uuid PRIMARY KEY, name text NOT NULL, email text NOT NULL,
    status text NOT NULL, created_at timestamptz NOT NULL, tags text[], profile jsonb,
    search tsvector);
CREATE TABLE projects (id uuid PRIMARY KEY, nome text NOT NULL,
    responsavel_id uuid REFERENCES users (id));
CREATE TABLE oficinas (id uuid PRIMARY KEY, projeto_id uuid NOT NULL REFERENCES projects (id),
    nome text NOT NULL, cidade text NOT NULL, estado text NOT NULL, status text NOT NULL,
    data_inicio date NOT NULL, data_fim date NOT NULL, gratuita boolean NOT NULL);
CREATE TABLE inscricoes (id uuid PRIMARY KEY, oficina_id uuid NOT NULL REFERENCES oficinas (id),
    user_id uuid NOT NULL REFERENCES users (id), created_at timestamptz NOT NULL);
"""


def model(extra: str = "") -> SchemaModel:
    m = SchemaModel()
    for stmt in pglast.parse_sql(DDL + extra):
        m.apply(stmt.stmt)
    return m


def kinds(sql: str, schema: SchemaModel | None = None) -> list[tuple[str, str, str | None]]:
    """(kind, table without schema, column) of every predicate of one query."""
    source = SourceFile(Path("q.sql"), "q.sql", sql)
    (query,) = split_statements(source)
    result = analyse(query, schema or model())
    assert result.error is None, result.error
    return [(p.kind, p.table.split(".", 1)[1], p.column) for p in result.predicates]


CASES: list[tuple[str, list[tuple[str, str, str | None]]]] = [
    # 1-5: plain filters
    ("SELECT * FROM users WHERE status = 'ativo'", [("equality", "users", "status")]),
    ("SELECT * FROM users WHERE $1 = status", [("equality", "users", "status")]),
    ("SELECT * FROM users WHERE created_at >= $1", [("range", "users", "created_at")]),
    (
        "SELECT * FROM oficinas WHERE data_inicio BETWEEN $1 AND $2",
        [("range", "oficinas", "data_inicio")],
    ),
    ("SELECT * FROM users WHERE status IN ('ativo', 'inativo')", [("in", "users", "status")]),
    # 6-10: IN variants, placeholders
    ("SELECT * FROM users WHERE id = ANY($1)", [("in", "users", "id")]),
    ("SELECT * FROM users WHERE status = :status", [("equality", "users", "status")]),
    ("SELECT * FROM users WHERE id IN (SELECT user_id FROM inscricoes)", [("in", "users", "id")]),
    (
        "SELECT * FROM users WHERE status = $1 AND created_at < $2",
        [("equality", "users", "status"), ("range", "users", "created_at")],
    ),
    (
        "SELECT * FROM users WHERE status = $1 OR email = $2",
        [("equality", "users", "status"), ("equality", "users", "email")],
    ),
    # 11-17: text search
    ("SELECT * FROM users WHERE name LIKE 'Ana%'", [("prefix-like", "users", "name")]),
    ("SELECT * FROM users WHERE name LIKE '%Ana%'", [("trigram", "users", "name")]),
    ("SELECT * FROM users WHERE name ILIKE 'ana%'", [("trigram", "users", "name")]),
    ("SELECT * FROM oficinas WHERE nome ILIKE '%' || $1 || '%'", [("trigram", "oficinas", "nome")]),
    ("SELECT * FROM oficinas WHERE nome ILIKE :termo", [("trigram", "oficinas", "nome")]),
    ("SELECT * FROM users WHERE name ~* $1", [("trigram", "users", "name")]),
    ("SELECT * FROM users WHERE name SIMILAR TO $1", [("trigram", "users", "name")]),
    # 18-20: expressions
    ("SELECT id FROM users WHERE lower(email) = lower($1)", [("expression", "users", "email")]),
    ("SELECT id FROM users WHERE upper(name) = $1", [("expression", "users", "name")]),
    ("SELECT id FROM users WHERE created_at::date = $1", [("expression", "users", "created_at")]),
    # 21-22: full text, containment
    (
        "SELECT id FROM users WHERE search @@ plainto_tsquery('portuguese', $1)",
        [("full-text", "users", "search")],
    ),
    ("SELECT id FROM users WHERE tags @> $1", [("containment", "users", "tags")]),
    # 23-26: joins with aliases
    (
        "SELECT o.nome FROM oficinas o JOIN projects p ON p.id = o.projeto_id WHERE p.nome = $1",
        [
            ("join", "projects", "id"),
            ("join", "oficinas", "projeto_id"),
            ("equality", "projects", "nome"),
        ],
    ),
    (
        "SELECT * FROM inscricoes i LEFT JOIN users u ON u.id = i.user_id WHERE u.email ILIKE $1",
        [("join", "users", "id"), ("join", "inscricoes", "user_id"), ("trigram", "users", "email")],
    ),
    (
        "SELECT * FROM oficinas o, projects p WHERE o.projeto_id = p.id AND o.cidade = $1",
        [
            ("join", "oficinas", "projeto_id"),
            ("join", "projects", "id"),
            ("equality", "oficinas", "cidade"),
        ],
    ),
    (
        "SELECT u.name FROM users u JOIN inscricoes i USING (id) WHERE i.created_at > now() -"
        " interval '7 days'",
        [("range", "inscricoes", "created_at")],
    ),
    # 27-29: CTEs and derived tables resolve through their select list
    (
        "WITH r AS (SELECT id, cidade FROM oficinas WHERE data_fim > now()) SELECT * FROM r"
        " WHERE r.cidade = $1",
        [("range", "oficinas", "data_fim"), ("equality", "oficinas", "cidade")],
    ),
    (
        "SELECT * FROM (SELECT id, status AS s, created_at FROM users) AS x WHERE x.created_at >"
        " $1",
        [("range", "users", "created_at")],
    ),
    (
        "WITH a AS (SELECT * FROM oficinas) SELECT * FROM a WHERE estado = 'PE'",
        [("equality", "oficinas", "estado")],
    ),
    # 30-32: subqueries (correlated columns are values for the inner scope)
    (
        "SELECT * FROM users u WHERE EXISTS (SELECT 1 FROM inscricoes i WHERE i.user_id = u.id)",
        [("equality", "inscricoes", "user_id")],
    ),
    (
        "SELECT * FROM oficinas WHERE projeto_id = (SELECT id FROM projects WHERE nome = $1)",
        [("equality", "projects", "nome"), ("equality", "oficinas", "projeto_id")],
    ),
    (
        "SELECT (SELECT count(*) FROM inscricoes i WHERE i.oficina_id = o.id) FROM oficinas o"
        " WHERE o.status = $1",
        [("equality", "inscricoes", "oficina_id"), ("equality", "oficinas", "status")],
    ),
    # 33-36: ORDER BY ... LIMIT
    (
        "SELECT * FROM oficinas ORDER BY data_inicio DESC LIMIT 20",
        [("order-limit", "oficinas", "data_inicio")],
    ),
    (
        "SELECT * FROM oficinas WHERE status = $1 ORDER BY data_inicio LIMIT $2 OFFSET $3",
        [("equality", "oficinas", "status"), ("order-limit", "oficinas", "data_inicio")],
    ),
    ("SELECT * FROM oficinas ORDER BY data_inicio", []),
    ("SELECT status, count(*) AS n FROM users GROUP BY status ORDER BY n DESC LIMIT 5", []),
    # 37-40: DML, UNION, not indexable, unknown table
    (
        "UPDATE users SET status = 'inativo' WHERE created_at < $1",
        [("range", "users", "created_at")],
    ),
    ("DELETE FROM inscricoes WHERE oficina_id = $1", [("equality", "inscricoes", "oficina_id")]),
    (
        "SELECT id FROM users WHERE status = 'a' UNION ALL SELECT id FROM projects WHERE nome ="
        " 'b'",
        [("equality", "users", "status"), ("equality", "projects", "nome")],
    ),
    ("SELECT * FROM users WHERE status <> 'x' AND NOT (email = $1) AND name IS NULL", []),
    (
        "UPDATE users u SET status = 'x' FROM projects p WHERE p.responsavel_id = u.id AND"
        " p.nome = $1",
        [
            ("join", "projects", "responsavel_id"),
            ("join", "users", "id"),
            ("equality", "projects", "nome"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("sql", "expected"), CASES, ids=[f"q{i}" for i in range(1, len(CASES) + 1)]
)
def test_classification(sql: str, expected: list[tuple[str, str, str | None]]) -> None:
    assert sorted(kinds(sql)) == sorted(expected)


def test_at_least_thirty_queries_are_classified() -> None:
    assert len(CASES) >= 30


def test_equal_columns_and_order_are_recorded() -> None:
    source = SourceFile(
        Path("q.sql"),
        "q.sql",
        "SELECT * FROM oficinas WHERE status = $1 AND cidade = $2 "
        "AND data_inicio > $3 ORDER BY data_inicio DESC, nome LIMIT 5",
    )
    (query,) = split_statements(source)
    preds = {p.kind + ":" + (p.column or ""): p for p in analyse(query, model()).predicates}
    assert set(preds["range:data_inicio"].equal_columns) == {"status", "cidade"}
    assert preds["order-limit:data_inicio"].order == (("data_inicio", True), ("nome", False))


def test_ambiguous_and_unknown_columns_are_not_guessed() -> None:
    # `nome` exists in both oficinas and projects: PostgreSQL would call it ambiguous.
    assert kinds("SELECT * FROM oficinas o JOIN projects p ON true WHERE nome = $1") == []
    assert kinds("SELECT * FROM users WHERE no_such_column = 1") == []
    source = SourceFile(Path("q.sql"), "q.sql", "SELECT * FROM ghosts WHERE a = 1")
    (query,) = split_statements(source)
    assert analyse(query, model()).unknown_tables == ["ghosts"]


def test_predicate_offset_points_at_the_column() -> None:
    text = "SELECT *\nFROM users\nWHERE\n    email ILIKE $1"
    source = SourceFile(Path("q.sql"), "q.sql", text)
    (query,) = split_statements(source)
    (pred,) = analyse(query, model()).predicates
    assert query.position(pred.offset) == (4, 5)


def test_comments_inside_a_query_stay_out_of_the_predicate_text() -> None:
    source = SourceFile(
        Path("q.sql"), "q.sql", "SELECT * FROM users\nWHERE status = $1 -- [marker]\n"
    )
    (query,) = split_statements(source)
    (pred,) = analyse(query, model()).predicates
    assert pred.text == "status = $1"


def test_placeholders_are_shown_as_written() -> None:
    source = SourceFile(Path("q.sql"), "q.sql", "SELECT * FROM users WHERE status = :status")
    (query,) = split_statements(source)
    (pred,) = analyse(query, model()).predicates
    assert pred.text == "status = :status"


def test_unparsable_query_is_an_error_with_position_not_a_crash() -> None:
    text = (
        "SELECT 1;\n\nSELECT * FROM users WHERE (status = 'a';\n"
        "SELECT * FROM users WHERE id = $1;\n"
    )
    source = SourceFile(Path("q.sql"), "q.sql", text)
    report = analyse_queries(split_statements(source), model())
    assert [a.query.line for a in report.analyses] == [1, 3, 4]
    assert report.analyses[0].error is None and report.analyses[2].error is None
    broken = report.analyses[1]
    assert broken.error and broken.query.line == 3


def test_split_ignores_semicolons_in_strings_and_comments() -> None:
    text = "SELECT ';' FROM users; -- a; b\nSELECT $$;$$;\n-- only a comment;\n"
    queries = split_statements(SourceFile(Path("q.sql"), "q.sql", text))
    assert [q.text.strip() for q in queries] == ["SELECT ';' FROM users", "SELECT $$;$$"]
    assert [q.line for q in queries] == [1, 2]


def test_leading_comments_name_the_query_and_do_not_move_its_line() -> None:
    text = "-- file header\n\n-- name: find_user\n-- Login.\nSELECT *\nFROM users WHERE id = $1;\n"
    (query,) = split_statements(SourceFile(Path("q.sql"), "q.sql", text))
    assert query.name == "find_user" and query.line == 5 and query.where == "q.sql:5"


def test_migration_blocks_line_comments_and_block_comments() -> None:
    text = (
        "CREATE TABLE t (a int);\n"
        "-- pgpreflight: query\n"
        "-- SELECT * FROM users\n"
        "--  WHERE status = $1;\n"
        "-- not part of the query\n"
        "/* pgpreflight: query SELECT * FROM users WHERE email ILIKE $1 */\n"
        "-- pgpreflight: query SELECT 1;\n"
    )
    source = SourceFile(Path("m.sql"), "m.sql", text)
    blocks = migration_blocks(source, comment_spans(source))
    assert [b.line for b in blocks] == [3, 6, 7]
    assert " ".join(blocks[0].text.split()) == "SELECT * FROM users WHERE status = $1"
    # offsets map one to one: the predicate of block 0 is on line 4 of the file
    (pred,) = analyse(blocks[0], model()).predicates
    assert blocks[0].position(pred.offset)[0] == 4
    assert kinds(blocks[1].text) == [("trigram", "users", "email")]


def test_query_files_from_config(tmp_path: Path) -> None:
    (tmp_path / "queries" / "sub").mkdir(parents=True)
    (tmp_path / "queries" / "a.sql").write_text("SELECT 1;")
    (tmp_path / "queries" / "sub" / "b.sql").write_text("SELECT 2;")
    (tmp_path / "one.sql").write_text("SELECT 3;")
    config = make_config(tmp_path, queries=["queries/**/*.sql", "one.sql", "queries"])
    names = [p.relative_to(tmp_path).as_posix() for p in query_files(config)]
    assert names == ["queries/a.sql", "queries/sub/b.sql", "one.sql"]
    from pgpreflight.linter.errors import InputError

    with pytest.raises(InputError, match=r"missing\.sql"):
        query_files(make_config(tmp_path, queries=["missing.sql"]))
