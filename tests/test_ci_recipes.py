"""The CI recipes in examples/ci, run as far as they can run here: the shell script fully, the
YAML files parsed and each of their pgpreflight commands run in a pull-request-like repository
(a PostgreSQL database of the project's scratch server standing in for the service container)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import git

REPO = Path(__file__).resolve().parents[1]
CI = REPO / "examples" / "ci"
PROJECT = REPO / "examples" / "assist-move-assist"
MIGRATIONS = "apps/backend/src/database/migrations"
NEW = "202404151000__indexar_oficinas_gratuita.sql"  # a clean migration the branch adds


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A repository whose main branch holds the clean history and whose branch adds one migration."""
    repo = tmp_path / "app"
    (repo / MIGRATIONS).mkdir(parents=True)
    shutil.copy(PROJECT / "pgpreflight.toml", repo)
    shutil.copytree(PROJECT / "queries", repo / "queries")
    for path in sorted((PROJECT / MIGRATIONS).glob("*.sql")):
        if path.name != NEW:  # the faulty ones are history on main: not this branch's business
            shutil.copy(path, repo / MIGRATIONS)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "history")
    git(repo, "remote", "add", "origin", str(repo))
    git(repo, "fetch", "-q", "origin")
    git(repo, "checkout", "-q", "-b", "feature")
    shutil.copy(PROJECT / MIGRATIONS / NEW, repo / MIGRATIONS)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "index on gratuita")
    return repo


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


def test_shell_recipe_runs_end_to_end(pull_request: Path) -> None:
    proc = subprocess.run(
        ["bash", str(CI / "pgpreflight-ci.sh")],
        cwd=pull_request,
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(BASE_REF="origin/main", OUT_DIR="out"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = pull_request / "out"
    assert {p.name for p in out.iterdir()} >= {
        "lint-junit.xml",
        "report.html",
        "comment.md",
        "result.json",
    }
    assert NEW[:-4] in (out / "comment.md").read_text()
    # only the branch's migration is judged; the history's known mistakes are not reported
    assert "202404101130" not in proc.stdout and "202404021600" not in proc.stdout
    assert "in 1 migration (1 file)" in proc.stdout


def _commands(workflow: dict, substitutions: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """(command, env) of every step or script line that runs pgpreflight."""
    found: list[tuple[str, dict[str, str]]] = []
    for job in workflow.values():
        if not isinstance(job, dict):
            continue
        job_env = {k: str(v) for k, v in (job.get("env") or job.get("variables") or {}).items()}
        lines = [s.get("run", "") for s in job.get("steps", []) if isinstance(s, dict)] + list(
            job.get("script", [])
        )
        for line in lines:
            if "pgpreflight " in line and not line.startswith("pip "):
                for old, new in substitutions.items():
                    line = line.replace(old, new)
                found.append((line, job_env))
    return found


@pytest.mark.parametrize(
    ("recipe", "substitutions"),
    [
        (
            "github-actions.yml",
            {
                "${{ github.base_ref }}": "main",
                "${{ github.server_url }}": "https://github.com",
                "${{ github.repository }}": "acme/app",
                "${{ github.sha }}": "0123abcd",
            },
        ),
        (
            "gitlab-ci.yml",
            {
                "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
                "$CI_PROJECT_URL": "https://gitlab.com/acme/app",
                "$CI_COMMIT_SHA": "0123abcd",
            },
        ),
    ],
)
def test_yaml_recipes_commands_run(
    recipe: str, substitutions: dict[str, str], pull_request: Path, pg_db: str
) -> None:
    workflow = yaml.safe_load((CI / recipe).read_text())
    if recipe == "github-actions.yml":
        workflow = workflow["jobs"]
    commands = _commands(workflow, substitutions)
    assert any("lint" in c for c, _ in commands) and any(" check " in c for c, _ in commands)
    for command, job_env in commands:
        env = _env(**job_env)
        if (
            "PGPREFLIGHT_DATABASE_URL" in env
        ):  # the service container: a database of our scratch server
            env["PGPREFLIGHT_DATABASE_URL"] = pg_db
        proc = subprocess.run(
            ["bash", "-c", command],
            cwd=pull_request,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"
    produced = {p.name for p in pull_request.iterdir()}
    if recipe == "github-actions.yml":
        assert {
            "pgpreflight.sarif",
            "pgpreflight-report.html",
            "pgpreflight-comment.md",
        } <= produced
    else:
        assert {"gl-code-quality-report.json", "pgpreflight-report.html"} <= produced


def test_execute_on_target_refuses_a_database_without_history(
    pull_request: Path, pg_db: str
) -> None:
    proc = subprocess.run(
        [
            "pgpreflight",
            "check",
            "--changed-since",
            "origin/main",
            "--execute-on-target",
            "--quiet",
            "--no-explain",
        ],
        cwd=pull_request,
        env=_env(PGPREFLIGHT_DATABASE_URL=pg_db),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "has no migration history" in proc.stderr and "Traceback" not in proc.stderr


INSTALL = 'pip install "pgpreflight @ git+https://github.com/<owner>/pgpreflight@<commit>"'


@pytest.mark.parametrize("recipe", ["github-actions.yml", "gitlab-ci.yml"])
def test_recipes_install_from_the_repository(recipe: str) -> None:
    """Issue 16: `pip install pgpreflight` finds nothing on the package index (no release yet):
    recipes install from the repository, pinned, with placeholders that say what to fill in."""
    workflow = yaml.safe_load((CI / recipe).read_text())
    jobs = workflow["jobs"] if recipe == "github-actions.yml" else workflow
    installs = [
        line
        for job in jobs.values()
        if isinstance(job, dict)
        for line in [s.get("run", "") for s in job.get("steps", [])] + job.get("script", [])
        if line.startswith("pip ")
    ]
    assert installs and set(installs) == {INSTALL}
    assert "not on PyPI yet" in (CI / recipe).read_text()
    assert INSTALL in (CI / "pgpreflight-ci.sh").read_text()


def test_pr_comment_links_point_at_the_commit() -> None:
    """Without --link-base the comment's line links were relative: every one of them 404ed."""
    workflow = yaml.safe_load((CI / "github-actions.yml").read_text())
    steps = workflow["jobs"]["check"]["steps"]
    [check] = [s["run"] for s in steps if "pgpreflight check" in s.get("run", "")]
    assert "--markdown pgpreflight-comment.md" in check
    base = "${{ github.server_url }}/${{ github.repository }}/blob/${{ github.sha }}/"
    assert f'--link-base "{base}"' in check
    gitlab = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    [check] = [c for c in gitlab["pgpreflight-check"]["script"] if "pgpreflight check" in c]
    assert '--link-base "$CI_PROJECT_URL/-/blob/$CI_COMMIT_SHA/"' in check


def test_pre_commit_snippets_pin_a_commit_not_a_missing_tag() -> None:
    for path in (REPO / "README.md", REPO / ".pre-commit-hooks.yaml"):
        text = path.read_text()
        assert "rev: v0.1.0" not in text and "rev: <commit>" in text, path
    assert "pip install pgpreflight\n" not in (REPO / "README.md").read_text()
