"""query-without-supporting-index and its sub-cases on schemas with and without the right index."""

from __future__ import annotations

from pathlib import Path

import pytest
from pgpreflight.linter.engine import lint

from tests.helpers import ids, lint_findings, make_config, write_history

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE oficinas (id bigint PRIMARY KEY, nome text NOT NULL, status text NOT NULL,
    cidade text NOT NULL, data_inicio date NOT NULL, projeto_id bigint NOT NULL);
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL);
"""

UMBRELLA = "query-without-supporting-index"
FILTER = "filter-column-without-index"
TEXT = "text-search-without-trgm-index"
ALL = [UMBRELLA, FILTER, TEXT]


def block(sql: str) -> str:
    return "\n-- pgpreflight: query\n-- " + sql + "\n"


def run(tmp_path: Path, sql: str, rules: list[str] | str = ALL, **config: object) -> list:
    return lint_findings(SCHEMA + sql, rules, tmp_path, **config)


@pytest.mark.parametrize(
    ("index", "query", "fires"),
    [
        ("", "SELECT * FROM oficinas WHERE nome ILIKE '%' || $1 || '%';", TEXT),
        (
            "CREATE INDEX i ON oficinas USING gin (nome gin_trgm_ops);",
            "SELECT * FROM oficinas WHERE nome ILIKE $1;",
            None,
        ),
        (
            "CREATE INDEX i ON oficinas USING gist (nome gist_trgm_ops);",
            "SELECT * FROM oficinas WHERE nome LIKE '%x%';",
            None,
        ),
        # a btree on the column does not serve ILIKE
        ("CREATE INDEX i ON oficinas (nome);", "SELECT * FROM oficinas WHERE nome ILIKE $1;", TEXT),
        # a GIN index without the trigram operator class does not either
        (
            "CREATE INDEX i ON oficinas USING gin (to_tsvector('simple', nome));",
            "SELECT * FROM oficinas WHERE nome ~* $1;",
            TEXT,
        ),
        ("", "SELECT * FROM oficinas WHERE status = $1;", FILTER),
        ("CREATE INDEX i ON oficinas (status);", "SELECT * FROM oficinas WHERE status = $1;", None),
        (
            "CREATE INDEX i ON oficinas USING hash (status);",
            "SELECT * FROM oficinas WHERE status = $1;",
            None,
        ),
        # leading-column rule: (status, data_inicio) serves data_inicio only with status constrained
        (
            "CREATE INDEX i ON oficinas (status, data_inicio);",
            "SELECT * FROM oficinas WHERE data_inicio > $1;",
            FILTER,
        ),
        (
            "CREATE INDEX i ON oficinas (status, data_inicio);",
            "SELECT * FROM oficinas WHERE status = $1 AND data_inicio > $2;",
            None,
        ),
        (
            "CREATE INDEX i ON oficinas USING brin (data_inicio);",
            "SELECT * FROM oficinas WHERE data_inicio > $1;",
            None,
        ),
        ("", "SELECT * FROM users WHERE lower(email) = lower($1);", FILTER),
        (
            "CREATE INDEX i ON users (lower(email));",
            "SELECT * FROM users WHERE lower(email) = lower($1);",
            None,
        ),
        (
            "CREATE INDEX i ON users (email);",
            "SELECT * FROM users WHERE lower(email) = $1;",
            FILTER,
        ),
        ("CREATE INDEX i ON users (name);", "SELECT * FROM users WHERE name LIKE 'Ana%';", FILTER),
        (
            "CREATE INDEX i ON users (name text_pattern_ops);",
            "SELECT * FROM users WHERE name LIKE 'Ana%';",
            None,
        ),
        (
            "CREATE INDEX i ON users USING gin (name gin_trgm_ops);",
            "SELECT * FROM users WHERE name LIKE 'Ana%';",
            None,
        ),
        # primary keys and unique constraints are indexes too
        ("", "SELECT * FROM users WHERE id = $1;", None),
        ("", "SELECT * FROM oficinas ORDER BY data_inicio DESC LIMIT 10;", UMBRELLA),
        (
            "CREATE INDEX i ON oficinas (data_inicio);",
            "SELECT * FROM oficinas ORDER BY data_inicio DESC LIMIT 10;",
            None,
        ),
        (
            "CREATE INDEX i ON oficinas (status, data_inicio);",
            "SELECT * FROM oficinas WHERE status = $1 ORDER BY data_inicio LIMIT 10;",
            None,
        ),
        # a join is served when either side has an index (users.id is the primary key)
        ("", "SELECT * FROM oficinas o JOIN users u ON u.id = o.projeto_id;", None),
    ],
)
def test_with_and_without_the_right_index(
    tmp_path: Path, index: str, query: str, fires: str | None
) -> None:
    findings = run(tmp_path, index + block(query))
    assert ids(findings) == ([fires] if fires else [])


def test_message_names_file_line_predicate_and_index(tmp_path: Path) -> None:
    (finding,) = run(tmp_path, block("SELECT id FROM oficinas WHERE nome ILIKE '%' || $1 || '%';"))
    assert finding.path.endswith("202401011200__example.sql")
    line = (SCHEMA + block("x")).splitlines().index("-- x") + 1
    assert finding.line == line
    assert f"{finding.path}:{line}" in finding.message
    assert "nome ILIKE" in finding.message
    assert (
        "CREATE INDEX CONCURRENTLY idx_oficinas_nome_trgm ON oficinas USING gin (nome gin_trgm_ops)"
        in finding.message
    )
    assert (
        finding.hint == "CREATE INDEX CONCURRENTLY idx_oficinas_nome_trgm "
        "ON oficinas USING gin (nome gin_trgm_ops);"
    )


def test_missing_extension_is_in_the_hint(tmp_path: Path) -> None:
    findings = lint_findings(
        "CREATE TABLE t (id int PRIMARY KEY, a text);" + block("SELECT * FROM t WHERE a ILIKE $1;"),
        TEXT,
        tmp_path,
    )
    assert findings[0].hint and findings[0].hint.startswith(
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;"
    )


def test_each_gap_is_reported_once_under_one_id(tmp_path: Path) -> None:
    sql = block(
        "SELECT * FROM oficinas WHERE data_inicio > $1 AND nome ILIKE $2 ORDER BY cidade LIMIT 3;"
    )
    assert sorted(ids(run(tmp_path, sql))) == [FILTER, UMBRELLA, TEXT]
    # the umbrella alone is the union
    assert ids(run(tmp_path, sql, UMBRELLA)) == [UMBRELLA] * 3
    # one sub-case alone
    assert ids(run(tmp_path, sql, TEXT)) == [TEXT]
    # ignoring a sub-case does not bring it back under the umbrella
    assert sorted(ids(run(tmp_path, sql, [UMBRELLA, TEXT], ignore=[FILTER]))) == [UMBRELLA, TEXT]


def test_query_files_from_config_and_parse_errors(tmp_path: Path) -> None:
    write_history(SCHEMA, tmp_path / "migrations")
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "oficinas.sql").write_text(
        "-- listagem\nSELECT * FROM oficinas\nWHERE cidade = $1;\n\nSELECT FROM WHERE (;\n"
    )
    config = make_config(tmp_path, queries=["queries/*.sql"], select=ALL)
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = lint([tmp_path / "migrations"], config)
    finally:
        os.chdir(cwd)
    got = sorted((f.rule, f.path, f.line) for f in result.findings)
    assert got == [
        (FILTER, "queries/oficinas.sql", 3),
        (UMBRELLA, "queries/oficinas.sql", 5),
    ]
    parse = next(f for f in result.findings if f.rule == UMBRELLA)
    assert "cannot be parsed" in parse.message
    # query files are silenced with per-file-ignores
    quiet = make_config(
        tmp_path,
        queries=["queries/*.sql"],
        select=ALL,
        per_file_ignores={"queries/oficinas.sql": [FILTER, UMBRELLA]},
    )
    os.chdir(tmp_path)
    try:
        assert lint([tmp_path / "migrations"], quiet).findings == []
    finally:
        os.chdir(cwd)


def test_no_queries_means_no_sqlglot(tmp_path: Path) -> None:
    import subprocess
    import sys

    write_history(SCHEMA, tmp_path / "migrations")
    code = (
        "import sys; from pgpreflight.linter.engine import lint; from tests.helpers import make_config;"
        "from pathlib import Path;"
        f"lint([Path({str(tmp_path / 'migrations')!r})], "
        f"make_config(Path({str(tmp_path)!r}), select={ALL!r}));"
        "print('sqlglot' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "False", out.stderr


def test_filter_and_order_gaps_of_one_query_become_one_composite_index(tmp_path: Path) -> None:
    (finding,) = run(
        tmp_path,
        block("SELECT * FROM oficinas WHERE cidade = $1 ORDER BY data_inicio DESC LIMIT 20;"),
    )
    assert finding.rule == FILTER
    assert (
        finding.hint == "CREATE INDEX CONCURRENTLY idx_oficinas_cidade_data_inicio "
        "ON oficinas (cidade, data_inicio DESC);"
    )
