"""The real pre-commit, running our .pre-commit-hooks.yaml through `pre-commit try-repo` as the
git pre-commit hook of a temporary repository: a faulty migration is refused, the fix accepted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FAULTY = "-- UP\nCREATE TABLE tags (id bigint PRIMARY KEY);\n"
FIXED = FAULTY + "-- DOWN\nDROP TABLE IF EXISTS tags;\n"
CLEAN = (
    "-- UP\nCREATE TABLE labels (id bigint PRIMARY KEY);\n-- DOWN\nDROP TABLE IF EXISTS labels;\n"
)


def test_hooks_file_declares_both_hooks() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert (
        hooks["pgpreflight"]["types"] == ["sql"] and hooks["pgpreflight"]["pass_filenames"] is True
    )
    assert hooks["pgpreflight"]["entry"] == "pgpreflight lint"
    assert hooks["pgpreflight-check"]["stages"] == ["manual"]
    assert hooks["pgpreflight-check"]["entry"] == "pgpreflight check"


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "GIT_AUTHOR_NAME": "Ana",
            "GIT_AUTHOR_EMAIL": "ana@example.com",
            "GIT_COMMITTER_NAME": "Ana",
            "GIT_COMMITTER_EMAIL": "ana@example.com",
            # one pre-commit cache for the whole test session: the hook environment is built once
            "PRE_COMMIT_HOME": str(tmp_path.parent / "pre-commit-home"),
            "NO_COLOR": "1",
        }
    )
    return env


@pytest.mark.skipif(shutil.which("git") is None, reason="git is required by pre-commit itself")
def test_commit_refused_then_accepted(tmp_path: Path) -> None:
    repo = tmp_path / "app"
    mig = repo / "db" / "migrations"
    mig.mkdir(parents=True)
    env = _env(tmp_path)
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, env=env, capture_output=True, text=True)  # noqa: E731
    git("init", "-q", "-b", "main")
    (repo / "pgpreflight.toml").write_text(
        'migrations = ["db/migrations"]\nselect = ["missing-down-section", "syntax-error"]\n'
    )
    (mig / "202401011200__create_labels.sql").write_text(CLEAN)
    (mig / "202402011200__create_tags.sql").write_text(FAULTY)
    # The git hook runs the real pre-commit with our hooks, as a user's repository would.
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nexec {sys.executable} -m pre_commit try-repo {ROOT} pgpreflight\n")
    hook.chmod(0o755)
    git("add", ".")
    refused = git("commit", "-m", "add tags")
    assert refused.returncode != 0, refused.stdout + refused.stderr
    output = refused.stdout + refused.stderr
    assert "pgpreflight (lint migrations)" in output and "Failed" in output
    assert "db/migrations/202402011200__create_tags.sql:1:1: error missing-down-section" in output
    assert "202401011200__create_labels.sql" not in output.split("Failed", 1)[1]

    (mig / "202402011200__create_tags.sql").write_text(FIXED)
    git("add", ".")
    accepted = git("commit", "-m", "add tags")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "pgpreflight (lint migrations)" in accepted.stdout + accepted.stderr
    assert git("log", "--oneline").stdout.count("\n") == 1
