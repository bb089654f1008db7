"""Golden outputs: `pgpreflight lint` on the example project in every CI format, byte for byte.

A change in what the example reports, or in how a format renders it, shows up as a diff of
tests/golden/ to review. Regenerate with `python -m pytest tests/test_golden.py --update-golden`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"
FORMATS = {
    "text": "txt",
    "json": "json",
    "github": "github",
    "sarif": "sarif",
    "junit": "xml",
    "gitlab": "json",
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_example_project_output(fmt: str, update_golden: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pgpreflight.linter",
            "lint",
            "examples/assist-move-assist",
            "--format",
            fmt,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr  # the example's faulty migrations have errors
    assert proc.stderr == ""
    golden = GOLDEN / f"assist-move-assist.{fmt}.{FORMATS[fmt]}"
    if update_golden:
        golden.write_text(proc.stdout, encoding="utf-8")
    assert golden.is_file(), "no golden output yet: run with --update-golden"
    assert proc.stdout == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs: review, then --update-golden"
    )


def test_example_sarif_validates_against_the_official_schema() -> None:
    import json

    import jsonschema

    schema = json.loads(
        (REPO / "tests" / "fixtures" / "schemas" / "sarif-schema-2.1.0.json").read_text()
    )
    doc = json.loads((GOLDEN / "assist-move-assist.sarif.sarif").read_text())
    jsonschema.validate(doc, schema)
    assert len(doc["runs"][0]["results"]) == 13
