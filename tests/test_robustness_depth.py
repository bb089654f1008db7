"""Deep nesting is a finding, never a RecursionError: in parsing, PL/pgSQL, replay and printing."""

from __future__ import annotations

from pathlib import Path

import pytest
from pgpreflight.linter.cli import main
from pgpreflight.linter.parsing import MAX_DEPTH


def _lint(capsys: pytest.CaptureFixture[str], tmp_path: Path, up: str) -> tuple[int, str, str]:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "202401010000__deep.sql").write_text(f"-- UP\n{up}\n-- DOWN\nSELECT 1;\n")
    code = main(["lint", "--no-cache", "--no-color", str(folder)])
    out, err = capsys.readouterr()
    return code, out, err


def _nested_expression(levels: int) -> str:
    expr = "1"
    for _ in range(levels):
        expr = f"({expr} + 1)"
    return expr


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE t (id int PRIMARY KEY, a int DEFAULT {e});",
        "CREATE TABLE t (id int PRIMARY KEY, a int CHECK (a > {e}));",
        "CREATE INDEX i ON t ((a + {e}));",
        "SELECT {e};",
    ],
    ids=["default", "check", "index", "select"],
)
def test_expression_nested_a_thousand_deep_is_a_finding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, statement: str
) -> None:
    code, out, err = _lint(capsys, tmp_path, statement.format(e=_nested_expression(1000)))
    assert code == 1, err
    assert f"syntax-error statement nested more than {MAX_DEPTH} levels deep" in out
    assert "internal error" not in err and "Recursion" not in out + err


def test_unparenthesised_chain_is_caught_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, out, err = _lint(capsys, tmp_path, "SELECT " + " + ".join(["1"] * 3000) + ";")
    assert "levels deep" in out and "internal error" not in err


def test_nesting_below_the_limit_is_analysed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    up = f"CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL DEFAULT {_nested_expression(40)});"
    _, out, err = _lint(capsys, tmp_path, up)
    assert "levels deep" not in out and "internal error" not in err
    assert "missing-audit-columns" in out  # the table was analysed like any other


@pytest.mark.parametrize("levels", [300, 400, 2000])
def test_do_block_nested_deep_is_a_finding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, levels: int
) -> None:
    body = "NULL;"
    for _ in range(levels):
        body = f"BEGIN {body} END;"
    code, out, err = _lint(capsys, tmp_path, f"DO $$ {body} $$;")
    assert "internal error" not in err and "Recursion" not in out + err
    assert code in (0, 1)
    if levels >= 400:
        assert "invalid-plpgsql-body" in out and "nested too deeply" in out


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT " + "(SELECT " * 200 + "1" + ")" * 200 + ";",
        "SELECT " + "CASE WHEN true THEN " * 300 + "1" + " END" * 300 + ";",
        "SELECT " + "NOT " * 600 + "true;",
        "SELECT 1" + "::text::int" * 300 + ";",
    ],
    ids=["subqueries", "case", "not", "casts"],
)
def test_deep_nesting_without_operator_chains_is_caught(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, statement: str
) -> None:
    _, out, err = _lint(capsys, tmp_path, statement)
    assert "internal error" not in err and "Recursion" not in out + err
    assert "levels deep" in out
