"""Changed-only CI runs and baselines, on real temporary git repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pgpreflight.linter.cli import main

from tests.helpers import git

CLEAN = "-- UP\nCREATE TABLE {t} (id bigint PRIMARY KEY);\n-- DOWN\nDROP TABLE {t};\n"
NO_DOWN = "-- UP\nCREATE TABLE {t} (id bigint PRIMARY KEY);\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    git(tmp_path, "init", "-q", "-b", "main")
    mig = tmp_path / "migrations"
    mig.mkdir()
    (tmp_path / "pgpreflight.toml").write_text(
        'migrations = ["migrations"]\nselect = ["missing-down-section", "syntax-error", "out-of-order-migration"]\n'
    )
    (mig / "202401011200__a.sql").write_text(NO_DOWN.format(t="a"))  # old debt
    (mig / "202402011200__b.sql").write_text(CLEAN.format(t="b"))
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "history")
    git(tmp_path, "checkout", "-q", "-b", "feature")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_changed_since_reports_only_new_and_modified(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "migrations" / "202403011200__c.sql").write_text(NO_DOWN.format(t="c"))
    code, out, _ = run(capsys, "lint", "--changed-since", "main", "--format", "json")
    paths = {f["path"] for f in json.loads(out)["findings"]}
    assert code == 1 and paths == {"migrations/202403011200__c.sql"}
    # committing does not change what is new relative to main
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "c")
    code, out, _ = run(capsys, "lint", "--changed-since", "main", "--format", "json")
    assert {f["path"] for f in json.loads(out)["findings"]} == {"migrations/202403011200__c.sql"}


def test_changed_since_out_of_order(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "migrations" / "202401151200__late.sql").write_text(CLEAN.format(t="late"))
    code, out, _ = run(capsys, "lint", "--changed-since", "main")
    assert code == 1
    assert (
        "migrations/202401151200__late.sql:1:1: error out-of-order-migration new migration 202401151200 sorts before 202402011200"
        in out
    )
    (repo / "migrations" / "202401151200__late.sql").rename(
        repo / "migrations" / "202405011200__late.sql"
    )
    code, out, _ = run(capsys, "lint", "--changed-since", "main")
    assert code == 0, out


def test_changed_since_unknown_ref_is_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "lint", "--changed-since", "origin/nope")
    assert code == 2 and "'origin/nope' is not a commit" in err


def test_baseline_hides_old_findings_and_survives_line_moves(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = repo / "migrations" / "202401011200__a.sql"
    a.write_text("-- UP\nCREATE TABLE a (id bigint PRIMARY KEY);\nCREAT TABLE x (id int);\n")
    code, _, err = run(capsys, "lint", "--write-baseline", "baseline.json")
    assert code == 0 and "recorded 2 finding(s)" in err
    # lines move: the recorded syntax error is now on line 5
    a.write_text("-- UP\n\n\nCREATE TABLE a (id bigint PRIMARY KEY);\nCREAT TABLE x (id int);\n")
    assert run(capsys, "lint", "--baseline", "baseline.json")[0] == 0
    # a new problem is reported
    (repo / "migrations" / "202403011200__c.sql").write_text(NO_DOWN.format(t="c"))
    code, out, _ = run(capsys, "lint", "--baseline", "baseline.json")
    assert code == 1 and "202403011200__c.sql" in out and "202401011200__a.sql" not in out


def test_bad_baseline_is_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "b.json").write_text("[]")
    code, _, err = run(capsys, "lint", "--baseline", "b.json")
    assert code == 2 and "not a pgpreflight baseline" in err
    code, _, err = run(capsys, "lint", "--baseline", "missing.json")
    assert code == 2 and "baseline file not found" in err


def test_non_migration_files_given_are_skipped(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "queries").mkdir()
    (repo / "queries" / "users.sql").write_text("SELECT * FROM a WHERE id = $1;\n")
    code, out, _ = run(capsys, "lint", "queries/users.sql", "migrations/202402011200__b.sql")
    assert code == 0 and "users.sql" not in out
