"""Secrets are redacted by value from every output, and no child process inherits them (issue 11).

Pattern redaction alone let a secret printed by `--test-command` through verbatim: the value
carries no `password=` around it. The check below prints the target's password and a token
listed in `secret-env`, and reads every output pgpreflight writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pgpreflight.linter.config import load_config
from pgpreflight.linter.errors import ConfigError
from pgpreflight.linter.pgserver import ScratchServer
from pgpreflight.linter.secrets import MIN_LENGTH, Secrets, dsn_password

TOKEN = "tok-SECRET-1234"
PASSWORD = "pw-SECRET-5678"
MIGRATION = (
    "-- UP\nCREATE TABLE tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);\n"
    "-- DOWN\nDROP TABLE IF EXISTS tags;\n"
)


@pytest.mark.parametrize(
    ("dsn", "password"),
    [
        ("postgresql://bob:s3cr%40t@h/db", "s3cr@t"),
        ("postgres://h/db?password=abcd&sslmode=require", "abcd"),
        ("host=h password='it\\'s secret' dbname=x", "it's secret"),
        ("host=h password=plain dbname=x", "plain"),
        ("postgresql://bob@h/db", None),
        ("", None),
    ],
)
def test_dsn_password(dsn: str, password: str | None) -> None:
    assert dsn_password(dsn) == password


def test_secrets_redact_by_value_and_by_pattern() -> None:
    secrets = Secrets.of(["s3cr@t-value", "abc", None, ""])
    assert secrets.redact("token s3cr@t-value, encoded s3cr%40t-value") == "token ***, encoded ***"
    # shorter than MIN_LENGTH: not redacted by value (no character soup), patterns still apply
    assert MIN_LENGTH == 4
    assert secrets.redact("abc password=abc") == "abc password=***"
    assert secrets.redact_all({"k s3cr@t-value": ["x s3cr@t-value", 1]}) == {"k ***": ["x ***", 1]}


def test_take_collects_and_removes_secret_variables() -> None:
    environ = {
        "PGPASSWORD": "pgpass-1",
        "DATABASE_URL": "postgresql://u:dburl-pw@h/d",
        "PGPREFLIGHT_DATABASE_URL": "host=h password=target-pw",
        "MY_TOKEN": "my-token-1",
        "PATH": "/bin",
    }
    secrets = Secrets.take(environ, dsns=["postgresql://u:arg-pw@h/d", None], names=["MY_TOKEN"])
    assert environ == {"PATH": "/bin"}
    assert secrets.taken["MY_TOKEN"] == "my-token-1"
    text = "pgpass-1 dburl-pw target-pw my-token-1 arg-pw"
    assert secrets.redact(text) == "*** *** *** *** ***"


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from pgpreflight.linter.secrets import RedactingFilter

    log = logging.getLogger("pgpreflight.test")
    caplog.handler.addFilter(RedactingFilter(Secrets.of([TOKEN])))
    with caplog.at_level(logging.INFO):
        log.info("running %s", f"curl -H 'X: {TOKEN}'")
        try:
            raise RuntimeError(TOKEN)
        except RuntimeError:
            log.exception("failed")
    assert TOKEN not in caplog.text and "curl -H 'X: ***'" in caplog.text


def test_secret_env_must_list_variable_names(tmp_path: Path) -> None:
    config = tmp_path / "pgpreflight.toml"
    config.write_text('secret-env = ["MY_TOKEN"]\n')
    assert load_config(config).get("secret-env") == ["MY_TOKEN"]
    config.write_text('secret-env = ["MY TOKEN"]\n')
    with pytest.raises(ConfigError, match="secret-env"):
        load_config(config)
    config.write_text('secret-env = "MY_TOKEN"\n')
    with pytest.raises(ConfigError, match="secret-env"):
        load_config(config)


def test_check_outputs_never_show_secrets(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path
) -> None:
    """Target mode (the DSN carries the password), a test command that prints both secrets and
    reports whether it inherited them, every output written, with --debug logs on stderr."""
    from psycopg.conninfo import make_conninfo

    mig = tmp_path / "migrations"
    mig.mkdir()
    (mig / "202401011200__create_tags.sql").write_text(MIGRATION)
    (tmp_path / "pgpreflight.toml").write_text(
        'migrations = ["migrations"]\nselect = ["missing-down-section"]\nsecret-env = ["SOME_TOKEN"]\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(SOME_TOKEN=TOKEN, PGPASSWORD=PASSWORD)
    command = (
        f"echo token {TOKEN} password {PASSWORD}; "
        'echo "inherited token=${SOME_TOKEN:-none} pgpassword=${PGPASSWORD:-none}"'
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pgpreflight.linter",
            "--debug",
            "check",
            "--no-explain",
            "--database",
            make_conninfo(pg_db, password=PASSWORD),
            "--test-command",
            command,
            "--json",
            "result.json",
            "--report",
            "report.html",
            "--markdown",
            "comment.md",
            "-o",
            "out.txt",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outputs = {
        name: (tmp_path / name).read_text(encoding="utf-8")
        for name in ("result.json", "report.html", "comment.md", "out.txt")
    }
    outputs["stdout"], outputs["stderr"] = proc.stdout, proc.stderr
    for name, text in outputs.items():
        assert TOKEN not in text, name
        assert PASSWORD not in text, name
    tests = json.loads(outputs["result.json"])["check"]["tests"]
    assert "token *** password ***" in tests["output_tail"]
    assert "inherited token=none pgpassword=none" in tests["output_tail"]
    assert "token ***" in outputs["report.html"]
    assert "INFO pgpreflight.linter." in proc.stderr  # the logs were on, and redacted


def test_report_of_a_saved_result_redacts_what_this_run_knows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result saved before the token was listed: `pgpreflight report` still hides it, and the
    environment is as it was once main() returns."""
    from pgpreflight.linter.cli import main

    saved = {
        "version": 1,
        "findings": [],
        "tests": {"source": "command", "command": "x", "exit_code": 0, "output_tail": TOKEN},
    }
    (tmp_path / "saved.json").write_text(json.dumps(saved))
    (tmp_path / "pgpreflight.toml").write_text('secret-env = ["SOME_TOKEN"]\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOME_TOKEN", TOKEN)
    assert main(["report", "saved.json", "--html", "r.html", "-f", "json", "-o", "r.json"]) == 0
    assert os.environ["SOME_TOKEN"] == TOKEN
    for name in ("r.html", "r.json"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert TOKEN not in text, name
    assert json.loads((tmp_path / "r.json").read_text())["tests"]["output_tail"] == "***"
