"""What `pip install` puts into a user's environment: pgpreflight.linter and pgpreflight.rules,
never top-level `linter` or `rules` packages (django-rules on the index is `rules`)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def _package_folders() -> set[str]:
    return {
        "pgpreflight." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("linter", "rules")
        for init in (ROOT / top).rglob("__init__.py")
    }


def test_declared_packages_are_the_folders() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert set(config["tool"]["setuptools"]["packages"]) == _package_folders()


def test_wheel_installs_under_pgpreflight_only(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("pgpreflight-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"pgpreflight", next(t for t in tops if t.endswith(".dist-info"))}
    assert "pgpreflight/linter/cli.py" in names
    assert "pgpreflight/rules/require_concurrent_index.py" in names
    assert "pgpreflight/linter/report/templates/report.html.j2" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "pgpreflight = pgpreflight.linter.cli:run" in zipfile.ZipFile(wheel).read(entry).decode()
