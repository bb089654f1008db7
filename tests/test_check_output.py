"""What `check` prints for a person or a CI log: lint findings first, one verdict in the words
of the HTML page and the PR comment, where the reports went, a final newline."""

from __future__ import annotations

import html
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "examples" / "assist-move-assist"


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pgpf-out-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def test_check_output_agrees_with_the_report(private_tmp: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["TMPDIR"] = str(private_tmp)
    page, comment = tmp_path / "report.html", tmp_path / "comment.md"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pgpreflight.linter",
            "check",
            str(PROJECT),
            "--since",
            "202404021600",
            "--no-explain",
            "--report",
            str(page),
            "--markdown",
            str(comment),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr  # a migration fails its round trip
    out = proc.stdout
    assert out.endswith("\n")
    lines = out.splitlines()
    assert ".sql:" in lines[0]  # lint findings come before the database phase's tables
    assert out.index("Found ") < out.index("pgpreflight check: scratch")
    verdict = lines[-1]
    assert verdict.startswith("deploy checklist: NOT READY: ")
    reason = verdict.split(": ", 2)[2]
    assert html.escape(reason) in page.read_text()
    assert "pgpreflight: not ready" in comment.read_text()
    assert f"pgpreflight: wrote {page}\n" in proc.stderr
    assert f"pgpreflight: wrote {comment}\n" in proc.stderr
