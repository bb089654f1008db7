"""`pgpreflight check` as a normal (unprivileged) user, the way a developer runs it: installed
from this checkout into a virtual environment that user can read, the scratch server started
without root, and nothing left behind. (Every other test runs as whoever runs pytest; in CI that
is root, where the server runs as the `pgpreflight` system user.)"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgpreflight.linter.pgserver import processes_using

REPO = Path(__file__).resolve().parents[1]


def _system_python() -> str | None:
    """An interpreter a normal user can execute (root's pyenv lives under /root, mode 0700)."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pgpf-user-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_check_runs_as_a_normal_user_and_leaves_nothing(world_readable_dir: Path) -> None:
    # Under root the test runs the check as the `postgres` account, standing for a normal user.
    user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    python = _system_python()
    assert python is not None, "a system python3 is needed to install pgpreflight for a normal user"
    src = world_readable_dir / "src"
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    for name in filter(None, files.decode().split("\0")):
        target = src / name
        if (REPO / name).is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target)
    venv = world_readable_dir / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stderr[-2000:]
    tmp = world_readable_dir / "tmp"
    tmp.mkdir()
    work = world_readable_dir / "work"
    work.mkdir()
    if user is not None:
        for path in (tmp, work):
            os.chown(path, user.pw_uid, user.pw_gid)
    command = [
        str(venv / "bin" / "pgpreflight"),
        "check",
        str(src / "examples" / "assist-move-assist"),
        "--no-explain",
        "--quiet",
        "--report",
        str(work / "report.html"),
    ]
    if user is not None:
        command = [
            shutil.which("runuser") or "/usr/sbin/runuser",
            "-u",
            user.pw_name,
            "--",
            *command,
        ]
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": str(tmp), "HOME": str(work), "LANG": "C.UTF-8"}
    proc = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, (
        proc.stdout[-3000:] + proc.stderr[-3000:]
    )  # the example's round trip fails
    assert "202404101130__adicionar_campos_oficinas  ROUND-TRIP FAILED" in proc.stdout
    assert (work / "report.html").stat().st_size > 10_000
    assert list(tmp.iterdir()) == [], "the scratch server left files behind"
    assert processes_using(tmp) == [], "a postgres process outlived the check"
