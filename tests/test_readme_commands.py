"""README's first command, run exactly as written in a copy of the repository: a fresh virtual
environment, the install, the check of the example on a scratch PostgreSQL, the report. (The
second command, the test suite, is what .ci/run runs: tests/test_readme.py holds them equal.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _commands() -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", README, re.S)]


def test_readme_starts_with_the_two_commands() -> None:
    first, second = _commands()[:2]
    assert first.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install ")
    assert "pgpreflight check examples/assist-move-assist" in first
    assert second == (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' "
        "&& python -m pytest -q"
    )


def test_first_command_runs_as_written(tmp_path: Path) -> None:
    copy = tmp_path / "pgpreflight"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "__pycache__", ".pgpreflight_cache"
        ),
    )
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if "/.venv/" not in p
    )
    proc = subprocess.run(
        ["bash", "-c", _commands()[0]],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    # README: "it exits 1 because the example holds deliberate mistakes"
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    page = (copy / "report.html").read_text()
    assert "<html" in page and "202404101130__adicionar_campos_oficinas" in page
    assert (copy / ".venv" / "bin" / "pgpreflight").exists()


def test_sarif_tests_pass_in_a_clone_with_nothing_beside_it(tmp_path: Path) -> None:
    """A user's clone has no ../shared: the SARIF tests validate against the schema vendored
    in tests/fixtures, so they pass in a copy of the repository standing alone."""
    copy = tmp_path / "alone" / "pgpreflight"
    shutil.copytree(
        ROOT / "tests",
        copy / "tests",
        ignore=shutil.ignore_patterns("__pycache__", ".pgpreflight_cache"),
    )
    shutil.copytree(ROOT / "examples", copy / "examples")
    assert not (copy.parent.parent / "shared").exists()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "sarif",
            "tests/test_cli.py",
            "tests/test_golden.py",
        ],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout and "skipped" not in proc.stdout
