"""Baselines let a team adopt pgpreflight on an old repository: today's findings are recorded
once, and later runs report only new ones.

An entry is (rule, file, statement fingerprint), not a line number, so editing the file above a
recorded statement does not resurrect its finding. Entries are counted: two identical findings
recorded, a third one is new.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pgpreflight.linter.errors import InputError
from pgpreflight.linter.findings import Finding

BASELINE_VERSION = 1


def _key(finding: Finding) -> tuple[str, str, str]:
    # Findings about a whole file have no statement: their message names what they are about.
    return (
        finding.rule,
        finding.path.replace("\\", "/"),
        finding.fingerprint or f"msg:{finding.message}",
    )


def dump(findings: list[Finding]) -> str:
    entries = [
        {"rule": f.rule, "path": k[1], "fingerprint": k[2], "message": f.message}
        for f, k in sorted(((f, _key(f)) for f in findings), key=lambda fk: fk[1])
    ]
    return (
        json.dumps(
            {"version": BASELINE_VERSION, "tool": "pgpreflight", "findings": entries}, indent=2
        )
        + "\n"
    )


def load(path: Path) -> Counter[tuple[str, str, str]]:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise InputError(
            f"{path}: baseline file not found (create it with --write-baseline {path})"
        ) from err
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: not a pgpreflight baseline: {err}") from err
    if (
        not isinstance(data, dict)
        or data.get("version") != BASELINE_VERSION
        or not isinstance(data.get("findings"), list)
    ):
        raise InputError(
            f"{path}: not a pgpreflight baseline (version {BASELINE_VERSION} expected)"
        )
    counter: Counter[tuple[str, str, str]] = Counter()
    for entry in data["findings"]:
        try:
            counter[(str(entry["rule"]), str(entry["path"]), str(entry["fingerprint"]))] += 1
        except (KeyError, TypeError) as err:
            raise InputError(f"{path}: malformed baseline entry {entry!r}") from err
    return counter


def filter_new(findings: list[Finding], baseline: Counter[tuple[str, str, str]]) -> list[Finding]:
    """Findings not covered by the baseline."""
    remaining = Counter(baseline)
    new = []
    for f in findings:
        key = _key(f)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            new.append(f)
    return new
