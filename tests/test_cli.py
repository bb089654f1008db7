"""The command line as users and CI meet it: exit codes, formats, errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from pgpreflight.linter.cli import main

# The official SARIF 2.1.0 schema, vendored: no test reads outside the repository.
SARIF_SCHEMA = Path(__file__).resolve().parent / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"
BAD = "-- UP\nCREATE TABLE a (id int);\nCREAT TABLE b (id int);\n"
GOOD = "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n"
SELECT = 'select = ["missing-down-section", "syntax-error", "unreadable-migration"]\n'


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "202401011200__bad.sql").write_text(BAD)
    (tmp_path / "migrations" / "202401011300__good.sql").write_text(GOOD)
    # Only the rules these tests are about, so that new rules do not change the expected output.
    (tmp_path / "pgpreflight.toml").write_text(SELECT)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_output_exit_1_and_caret(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "migrations")
    assert code == 1
    lines = out.splitlines()
    assert (
        lines[0]
        == "migrations/202401011200__bad.sql:1:1: error missing-down-section migration 202401011200__bad has no DOWN section, so it cannot be rolled back"
    )
    assert any(
        line.startswith(
            'migrations/202401011200__bad.sql:3:1: error syntax-error syntax error at or near "CREAT"'
        )
        for line in lines
    )
    assert "    3 | CREAT TABLE b (id int);" in lines
    assert lines[-1] == "Found 2 findings (2 errors) in 2 migrations (2 files)."
    assert "\033[" not in out  # not a terminal: no colour


def test_clean_run_exit_0(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "migrations/202401011300__good.sql")
    assert code == 0 and "All checks passed" in out


def test_exit_zero_and_fail_on(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "lint", "migrations", "--exit-zero")[0] == 0
    assert (
        run(
            capsys,
            "lint",
            "migrations",
            "--severity",
            "syntax-error=warning",
            "--severity",
            "missing-down-section=info",
        )[0]
        == 0
    )
    assert (
        run(
            capsys,
            "lint",
            "migrations",
            "--severity",
            "syntax-error=warning",
            "--severity",
            "missing-down-section=info",
            "--fail-on",
            "warning",
        )[0]
        == 1
    )


def test_json_format(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "migrations", "--format", "json")
    data = json.loads(out)
    assert code == 1 and data["version"] == 1
    keys = {
        "rule",
        "severity",
        "message",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "migration",
        "section",
    }
    assert all(keys <= set(f) for f in data["findings"])
    syntax = next(f for f in data["findings"] if f["rule"] == "syntax-error")
    assert (syntax["line"], syntax["column"], syntax["migration"]) == (3, 1, "202401011200__bad")


def test_sarif_validates_against_official_schema(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "lint", "migrations", "--format", "sarif")
    doc = json.loads(out)
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validate(doc, schema)
    results = doc["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"missing-down-section", "syntax-error"}
    region = next(r for r in results if r["ruleId"] == "syntax-error")["locations"][0][
        "physicalLocation"
    ]["region"]
    assert region["startLine"] == 3


def test_github_annotations(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "lint", "migrations", "--format", "github")
    assert "::error file=migrations/202401011200__bad.sql,line=3,col=1," in out
    assert all(line.startswith("::error ") for line in out.splitlines())


def test_junit(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "lint", "migrations", "--format", "junit")
    root = ET.fromstring(out.split("\n", 1)[1])
    cases = root.findall(".//testcase")
    assert len(cases) == 2
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["migrations/202401011200__bad.sql"]


def test_output_file_written_whole(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "migrations", "--format", "json", "--output", "out.json")
    assert out == "" and json.loads((repo / "out.json").read_text())["version"] == 1
    code, _, err = run(capsys, "lint", "migrations", "--output", "no/such/dir/out.txt")
    assert code == 2 and "cannot write report" in err
    assert not list((repo).glob("**/.out.txt.tmp*"))


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (["lint", "missing"], None, "missing: no such file or directory"),
        (["lint", "migrations", "--select", "no-such-rule"], None, "unknown rule 'no-such-rule'"),
        (["lint", "migrations"], "selekt = ['x']\n", "unknown key 'selekt'"),
        (["lint", "migrations"], "ignore = ['bogus']\n", "unknown rule 'bogus'"),
        (["lint", "migrations"], "pg-version = 'fifteen'\n", "pg-version"),
        (["lint", "migrations"], "select = 'syntax-error'\n", "'select' must be a list"),
        (
            ["lint", "migrations"],
            "[rules.syntax-error]\nfoo = 1\n",
            "rule 'syntax-error' has no option 'foo'",
        ),
        (
            ["lint", "migrations"],
            "severity = { syntax-error = 'fatal' }\n",
            "severity of 'syntax-error' must be one of",
        ),
        (["lint", "migrations"], "select = [\n", "invalid TOML"),
        (["lint", "migrations", "--format", "yaml"], None, "invalid choice"),
        (["rule", "missing-down-sectoin"], None, "did you mean missing-down-section"),
    ],
)
def test_usage_and_config_errors_exit_2(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    config: str | None,
    message: str,
) -> None:
    if config:
        (repo / "pgpreflight.toml").write_text(config)
    code, _, err = run(capsys, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_unreadable_file_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root here, which reads any file; simulate the permission error the OS gives
    # when the file is opened.
    real = os.open

    def deny(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("202401011200__bad.sql"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    code, _, err = run(capsys, "lint", "migrations")
    assert code == 2
    assert (
        err
        == "pgpreflight: error: migrations/202401011200__bad.sql: cannot read file: Permission denied\n"
    )


def test_binary_and_latin1_files_are_findings(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "migrations" / "202401011400__bin.sql").write_bytes(b"\x00\x01PNG")
    (repo / "migrations" / "202401011500__latin.sql").write_bytes(
        "-- UP\nSELECT 'S\xe3o';\n".encode("latin-1")
    )
    code, out, err = run(capsys, "lint", "migrations", "--select", "unreadable-migration")
    assert code == 1 and err == ""
    assert "migrations/202401011400__bin.sql:1:1: error unreadable-migration file is binary" in out
    assert (
        "migrations/202401011500__latin.sql:2:10: error unreadable-migration file is not valid UTF-8"
        in out
    )


def test_rules_and_rule_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0 and "missing-down-section" in out
    code, out, _ = run(capsys, "rules", "--format", "json")
    assert {"id", "severity", "summary", "equivalents"} <= set(json.loads(out)[0])
    code, out, _ = run(capsys, "rule", "missing-down-section")
    assert code == 0 and "## Why is this bad?" in out and "Use instead:" in out


def test_python_dash_m_entry_point(repo: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pgpreflight.linter", "lint", "migrations"],
        capture_output=True,
        text=True,
        cwd=repo,
    )
    assert proc.returncode == 1 and "missing-down-section" in proc.stdout


def test_lint_imports_no_heavy_libraries(repo: Path) -> None:
    code = (
        "import sys; from pgpreflight.linter.cli import main; rc = main(['lint', 'migrations/202401011300__good.sql']);"
        "heavy = [m for m in ('psycopg', 'jinja2', 'sqlglot', 'pygments', 'pygls', 'lsprotocol') if m in sys.modules];"
        "print('HEAVY', heavy); sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout


def test_pyproject_section_is_found_walking_up(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "pgpreflight.toml").unlink()
    (repo / "pyproject.toml").write_text(
        "[tool.pgpreflight]\nmigrations = ['migrations']\nselekt = 1\n"
    )
    monkeypatch.chdir(repo / "migrations")
    code, _, err = run(capsys, "lint")
    assert code == 2 and "pyproject.toml: unknown key 'selekt'" in err


def test_history_read_but_only_given_files_reported(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "pgpreflight.toml").write_text('migrations = ["migrations"]\n' + SELECT)
    code, out, _ = run(capsys, "lint", "migrations/202401011300__good.sql")
    assert code == 0 and "bad.sql" not in out


def test_gitlab_code_quality(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "lint", "migrations", "--format", "gitlab")
    issues = json.loads(out)
    assert len(issues) == 2
    for issue in issues:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert issue["location"]["path"] == "migrations/202401011200__bad.sql"
        assert issue["location"]["lines"]["begin"] >= 1
    assert len({i["fingerprint"] for i in issues}) == 2


def test_the_command_ends_at_once_with_all_its_output_written(tmp_path: Path) -> None:
    # `pgpreflight` (cli.run) leaves a lint's objects to the end of the process: what it wrote
    # to a pipe (block-buffered) must all arrive, with the exit code main() gave.
    example = Path(__file__).resolve().parents[1] / "examples" / "assist-move-assist"
    # buffered as users run it (this environment may set PYTHONUNBUFFERED)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}

    def command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pgpreflight.linter", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    proc = command("lint", "--no-cache", "-f", "json", ".", cwd=example)
    assert proc.returncode == 1, proc.stderr
    assert len(proc.stdout) > 32 * 1024  # many buffers' worth: the last one was flushed too
    assert json.loads(proc.stdout)["findings"]
    # a short output stays in the buffer until flushed: it must arrive all the same
    (tmp_path / "001_ok.sql").write_text("SELECT 1;\n", encoding="utf-8")
    short = command("lint", "--no-cache", "-f", "json", ".", cwd=tmp_path)
    assert len(short.stdout) < 8192 and json.loads(short.stdout)["migrations"], short.stderr
    listing = command("rules", cwd=tmp_path)
    assert listing.returncode == 0 and "down-does-not-revert" in listing.stdout
