"""Property-based tests (hypothesis) of the parts every input goes through: the statement
splitter, suppression comments, configuration loading and the schema model; and a smoke run of
the lint fuzzer (benchmarks/fuzz_lint.py runs it on 100,000 inputs)."""

from __future__ import annotations

import importlib.util
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pgpreflight.linter.config import KEYS, validate
from pgpreflight.linter.errors import ConfigError
from pgpreflight.linter.migration import Section, SourceFile
from pgpreflight.linter.parsing import parse_section
from pgpreflight.linter.schema import SchemaModel
from pgpreflight.linter.schema.diff import diff
from pgpreflight.linter.suppressions import collect

ROOT = Path(__file__).resolve().parents[1]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

identifiers = st.text(string.ascii_lowercase, min_size=1, max_size=8).map(lambda s: "c_" + s)
tables = st.text(string.ascii_lowercase, min_size=1, max_size=8).map(lambda s: "t_" + s)
types = st.sampled_from(["int", "bigint", "text", "boolean", "timestamptz", "numeric(10,2)"])
noise = st.sampled_from(["", " ", "\n", "\n\n", "-- a comment\n", "/* block */ ", "\t"])


def _section(text: str) -> Section:
    source = SourceFile(Path("m.sql"), "m.sql", text)
    section = Section("up", source, 0, len(text))
    parse_section(section)
    return section


@st.composite
def statements(draw: Any) -> str:
    table, column = draw(tables), draw(identifiers)
    return draw(
        st.sampled_from(
            [
                f"CREATE TABLE {table} ({column} {draw(types)})",
                f"ALTER TABLE {table} ADD COLUMN {column} {draw(types)}",
                f"CREATE INDEX ON {table} ({column})",
                f"SELECT '{column};' AS x",  # a semicolon inside a string literal
                f"COMMENT ON TABLE {table} IS 'a -- b; c'",
                "DO $$ BEGIN PERFORM 1; END $$",
                f"DROP TABLE IF EXISTS {table}",
            ]
        )
    )


@FAST
@given(st.lists(st.tuples(noise, statements()), min_size=1, max_size=8))
def test_splitter_finds_each_statement_where_it_is(pieces: list[tuple[str, str]]) -> None:
    text, starts = "", []
    for gap, stmt in pieces:
        text += gap
        starts.append(len(text))
        text += stmt + ";\n"
    section = _section(text)
    assert not section.syntax_errors
    assert [s.text.rstrip(";") for s in section.statements] == [stmt for _, stmt in pieces]
    assert [s.offset for s in section.statements] == starts


@FAST
@given(st.text(max_size=300))
def test_splitter_never_raises_and_stays_in_bounds(text: str) -> None:
    section = _section(text)
    offsets = [s.offset for s in section.statements]
    assert offsets == sorted(offsets)
    for s in section.statements:
        assert 0 <= s.offset <= s.end_offset <= len(text)
    for problem in section.syntax_errors:
        assert 0 <= problem.offset <= len(text)


rule_ids = st.lists(
    st.text(string.ascii_lowercase + "-", min_size=1, max_size=12).filter(
        lambda r: not r.startswith("-")
    ),
    min_size=1,
    max_size=4,
    unique=True,
)
reasons = st.text(string.ascii_letters + " .,'", max_size=40).map(str.strip)


@FAST
@given(rule_ids, reasons)
def test_suppression_comment_reads_back_its_rules_and_reason(rules: list[str], why: str) -> None:
    text = f"-- pgpreflight: ignore[{', '.join(rules)}] {why}\nCREATE TABLE t (a int);\n"
    section = _section(text)
    (found,) = collect(section.source, section.statements)
    assert found.malformed is None
    assert list(found.rules) == rules
    assert found.reason == why
    assert found.target == (2, 2)


@FAST
@given(st.text(max_size=80))
def test_any_comment_text_is_a_suppression_or_not_never_an_error(comment: str) -> None:
    text = "-- pgpreflight: " + comment.replace("\n", " ") + "\nSELECT 1;\n"
    section = _section(text)
    for found in collect(section.source, section.statements):
        assert found.malformed is not None or found.rules


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
).filter(lambda v: v is not None)


@FAST
@given(
    st.dictionaries(st.sampled_from(sorted(KEYS)) | st.text(max_size=10), toml_values, max_size=4)
)
def test_any_configuration_is_accepted_or_refused_by_name(data: dict[str, Any]) -> None:
    try:
        out = validate(data, where="pgpreflight.toml")
    except ConfigError as err:
        assert str(err).startswith("pgpreflight.toml: ")
    else:
        assert set(out) <= set(KEYS)


columns = st.lists(st.tuples(identifiers, types), min_size=1, max_size=5, unique_by=lambda c: c[0])


def _apply(model: SchemaModel, sql: str) -> None:
    for stmt in _section(sql).statements:
        model.apply(stmt.node, location=stmt)


@FAST
@given(tables, columns, st.lists(st.tuples(identifiers, types), max_size=3))
def test_model_round_trips_what_a_down_reverts(
    table: str, cols: list[tuple[str, str]], added: list[tuple[str, str]]
) -> None:
    added = [(name, t) for name, t in added if name not in {c for c, _ in cols}]
    added = list(dict(added).items())
    before = SchemaModel()
    _apply(before, "CREATE TABLE base (id bigint PRIMARY KEY);")
    model = before.copy()
    body = ", ".join(f"{name} {t}" for name, t in cols)
    up = f"CREATE TABLE {table} ({body});" + "".join(
        f"ALTER TABLE base ADD COLUMN {name} {t};" for name, t in added
    )
    _apply(model, up)
    assert model.table(table) is not None
    assert len(diff(before, model)) == 1 + len(added)
    down = "".join(f"ALTER TABLE base DROP COLUMN {name};" for name, _ in reversed(added))
    _apply(model, down + f"DROP TABLE {table};")
    assert diff(before, model) == []
    assert not model.problems


def _fuzzer() -> Any:
    spec = importlib.util.spec_from_file_location("fuzz_lint", ROOT / "benchmarks" / "fuzz_lint.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [1, 2])
def test_fuzz_smoke_run_has_no_internal_error(seed: int, tmp_path: Path) -> None:
    done, crashes = _fuzzer().run(150, seed, [], tmp_path / "crashes")
    assert done == 150
    assert crashes == 0, sorted(p.name for p in (tmp_path / "crashes").iterdir())
