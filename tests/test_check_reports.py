"""`pgpreflight check` writes the reviewer's report and runs the integration tests the guide's
checklist asks for, against the migrated scratch database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIGRATION = (
    "-- UP\nCREATE TABLE tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);\n"
    "-- DOWN\nDROP TABLE IF EXISTS tags;\n"
)
# The "integration test": it connects through DATABASE_URL and needs the migrated table.
TEST_SCRIPT = (
    "import os, psycopg\n"
    "with psycopg.connect(os.environ['DATABASE_URL']) as c:\n"
    "    c.execute(\"INSERT INTO tags (name) VALUES ('x')\")\n"
    "    print('tags rows:', c.execute('SELECT count(*) FROM tags').fetchone()[0])\n"
)


def test_check_writes_report_markdown_and_runs_tests(tmp_path: Path) -> None:
    mig = tmp_path / "migrations"
    mig.mkdir()
    (mig / "202401011200__create_tags.sql").write_text(MIGRATION)
    (tmp_path / "pgpreflight.toml").write_text(
        'migrations = ["migrations"]\nselect = ["missing-down-section"]\n'
    )
    (tmp_path / "it.py").write_text(TEST_SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pgpreflight.linter",
            "check",
            "--no-explain",
            "--report",
            "report.html",
            "--markdown",
            "comment.md",
            "--test-command",
            f"{sys.executable} it.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Not a terminal: one line per step (a CI log shows where a long check is), no status-line
    # chatter, and where the reports went.
    assert "\r" not in proc.stderr
    assert "pgpreflight: trace 202401011200__create_tags\n" in proc.stderr
    assert "pgpreflight: wrote report.html\npgpreflight: wrote comment.md\n" in proc.stderr
    html = (tmp_path / "report.html").read_text()
    markdown = (tmp_path / "comment.md").read_text()
    assert "Integration tests pass 100%" in html
    assert "tags rows: 1" in html  # the command's output tail is kept as evidence
    assert "202401011200__create_tags" in markdown
    assert "| ✅ passed | Integration tests pass 100% |" in markdown
    # the test ran against a scratch database, and its password-free URL is not in the page
    assert "postgresql://" not in html


def test_failing_integration_tests_fail_the_check(tmp_path: Path) -> None:
    mig = tmp_path / "migrations"
    mig.mkdir()
    (mig / "202401011200__create_tags.sql").write_text(MIGRATION)
    (tmp_path / "pgpreflight.toml").write_text(
        'migrations = ["migrations"]\nselect = ["missing-down-section"]\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pgpreflight.linter",
            "check",
            "--quiet",
            "--no-explain",
            "--markdown",
            "comment.md",
            "--test-command",
            "echo 2 tests failed; exit 3",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    markdown = (tmp_path / "comment.md").read_text()
    assert "| ❌ failed | Integration tests pass 100% |" in markdown and "exited 3" in markdown
