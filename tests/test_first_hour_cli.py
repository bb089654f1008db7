"""Issue 16 (9): small things a new user meets in the first hour: `lint -` with
`--stdin-filename`, choices and help in `--help`, `check --format`, SARIF fingerprints."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from pgpreflight.linter.cli import main

TABLE = (
    "-- UP\nSET lock_timeout = '2s';\n"
    "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL,\n"
    "  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),\n"
    "  created_by uuid NOT NULL, updated_by uuid NOT NULL);\n"
    "-- DOWN\nSET lock_timeout = '2s';\nDROP TABLE IF EXISTS orders;\n"
)
INDEX = (
    "-- UP\nSET lock_timeout = '2s';\n"
    "CREATE INDEX idx_orders_customer_id ON orders (customer_id);\n"
    "-- DOWN\nSET lock_timeout = '2s';\nDROP INDEX IF EXISTS idx_orders_customer_id;\n"
)


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "202401010000__orders.sql").write_text(TABLE)
    (tmp_path / "db" / "202401020000__index.sql").write_text("-- UP\n-- DOWN\n")  # on disk: old
    (tmp_path / "pgpreflight.toml").write_text(
        'migrations = ["db"]\n[per-file-ignores]\n"db/*__index.sql" = ["require-statement-timeout"]\n'
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_lint_reads_stdin_as_the_named_file(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text replaces the file on disk, the rest of the history gives the schema (orders
    exists, so the index needs CONCURRENTLY), per-file-ignores match the name, reports show it."""
    name = "db/202401020000__index.sql"
    code, out, err = run(
        capsys, monkeypatch, "lint", "-", "--stdin-filename", name, "--no-color", stdin=INDEX
    )
    assert code == 1, err
    assert out.startswith(f"{name}:3:1: error require-concurrent-index ")
    assert "require-statement-timeout" not in out  # per-file-ignores matched the given name
    assert "empty" not in out and "Found 1 finding " in out and "in 1 migration" in out
    # the same from the project's subfolder, with the name relative to it
    monkeypatch.chdir(project / "db")
    code, out, _ = run(
        capsys, monkeypatch, "lint", "-", "--stdin-filename", "202401020000__index.sql", stdin=INDEX
    )
    assert code == 1 and out.startswith(
        "202401020000__index.sql:3:1: error require-concurrent-index"
    )


def test_lint_stdin_without_a_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, monkeypatch, "lint", "-", "--format", "json", stdin=TABLE)
    assert (code, err) == (0, "")
    assert json.loads(out)["findings"] == []  # no invalid-migration-filename: there is no name
    code, out, _ = run(capsys, monkeypatch, "lint", "-", stdin="-- UP\nDROP TABLE users;\n")
    assert code == 1 and out.startswith("-:1:1: error missing-down-section") and "-:2:1: " in out


@pytest.mark.parametrize(
    ("name", "convention"),
    [
        ("000002_index.up.sql", "golang-migrate"),
        ("2024-01-02-000000_index/up.sql", "dir-pair"),
        ("20240102000000_index.sql", "goose"),
    ],
)
def test_stdin_filename_gives_the_convention(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    convention: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    down = {
        "golang-migrate": "000002_index.down.sql",
        "dir-pair": "2024-01-02-000000_index/down.sql",
    }
    if convention in down:
        (tmp_path / down[convention]).write_text("DROP INDEX IF EXISTS i;\n")
    sql = "CREATE INDEX i ON t (c);\n"
    if convention == "goose":
        sql = f"-- +goose Up\n{sql}-- +goose Down\nDROP INDEX IF EXISTS i;\n"
    code, out, err = run(
        capsys, monkeypatch, "lint", "-", "--stdin-filename", name, "--format", "json", stdin=sql
    )
    assert code == 1, err
    data = json.loads(out)
    [migration] = data["migrations"]
    assert migration["convention"] == convention, migration
    assert "missing-down-section" not in {f["rule"] for f in data["findings"]}
    assert {f["path"] for f in data["findings"]} == {name}


def test_stdin_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.sql").write_text("SELECT 1;\n")
    code, _, err = run(capsys, monkeypatch, "lint", "-", "a.sql")
    assert code == 2 and "'-' (standard input) cannot be combined" in err
    code, _, err = run(capsys, monkeypatch, "lint", "a.sql", "--stdin-filename", "x.sql")
    assert code == 2 and "--stdin-filename needs '-'" in err


def _help(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--help"])
    assert exit_info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


def test_help_lists_choices_and_explains_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    conventions = "{auto,dbmate,goose,sql-migrate,updown,golang-migrate,pop,dir-pair,flyway}"
    assert f"--convention {conventions}" in _help(capsys, "lint")
    assert f"--convention {conventions}" in _help(capsys, "check")
    assert "--stdin-filename PATH" in _help(capsys, "lint")
    rules = _help(capsys, "rules")
    assert "--format {text,json,markdown}" in rules and "markdown: the README's table" in rules
    assert "ID the rule's id, e.g. require-concurrent-index" in _help(capsys, "rule")
    check = _help(capsys, "check")
    lint = _help(capsys, "lint")
    formats = "{github,gitlab,json,junit,sarif,text}"
    assert f"--format {formats}" in check and f"--format {formats}" in lint


def test_unknown_convention_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, monkeypatch, "lint", ".", "--convention", "rails")
    assert code == 2 and "invalid choice: 'rails'" in err


def test_sarif_fingerprints_differ_for_findings_on_one_statement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two nullable columns of one CREATE TABLE were one code-scanning alert."""
    monkeypatch.chdir(tmp_path)
    sql = "-- UP\nCREATE TABLE t (id bigint PRIMARY KEY, a text, b text);\n-- DOWN\nDROP TABLE t;\n"
    (tmp_path / "202401010000__t.sql").write_text(sql)
    args = ("lint", ".", "--format", "sarif", "--select", "nullable-column", "--no-cache")
    code, out, _ = run(capsys, monkeypatch, *args)
    assert code == 0  # warnings only
    results = json.loads(out)["runs"][0]["results"]
    prints = [r["partialFingerprints"]["pgpreflight/v2"] for r in results]
    assert len(results) == 2 and len(set(prints)) == 2
    # stable when lines move above the statement
    (tmp_path / "202401010000__t.sql").write_text(sql.replace("-- UP\n", "-- UP\n\n\n-- note\n"))
    _, out, _ = run(capsys, monkeypatch, *args)
    moved = [
        r["partialFingerprints"]["pgpreflight/v2"] for r in json.loads(out)["runs"][0]["results"]
    ]
    assert moved == prints
