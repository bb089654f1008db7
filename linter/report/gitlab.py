"""GitLab Code Quality JSON, shown in merge requests' code-quality widget."""

from __future__ import annotations

import hashlib
import json

from pgpreflight.linter.report import RenderOptions
from pgpreflight.linter.result import RunResult

_SEVERITY = {"error": "critical", "warning": "major", "info": "info"}


def render(result: RunResult, options: RenderOptions) -> str:
    issues = []
    for f in result.findings:
        key = f"{f.rule}:{f.path}:{f.fingerprint or f.line}:{f.message}"
        issues.append(
            {
                "type": "issue",
                "check_name": f.rule,
                "description": f.message,
                "categories": ["Bug Risk"] if f.severity == "error" else ["Style"],
                "severity": _SEVERITY[f.severity],
                "fingerprint": hashlib.sha256(key.encode()).hexdigest(),
                "location": {"path": f.path, "lines": {"begin": f.line, "end": f.end_line}},
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
