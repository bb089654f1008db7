"""The house style's mechanical checks (STYLE.md): ruff for lint and format, mypy --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = ["linter", "rules", "tests", "benchmarks", "examples"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_ruff_lint() -> None:
    proc = _run("ruff", "check", "--output-format", "concise", *CODE)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format() -> None:
    proc = _run("ruff", "format", "--check", *CODE)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict(tmp_path: Path) -> None:
    # The folders install as pgpreflight.linter and pgpreflight.rules (a package-dir mapping that
    # mypy cannot follow through the editable install's import hook): give it the same tree.
    package = tmp_path / "pgpreflight"
    package.mkdir()
    for name in ("linter", "rules"):
        (package / name).symlink_to(ROOT / name, target_is_directory=True)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "-p",
            "pgpreflight.linter",
            "-p",
            "pgpreflight.rules",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
