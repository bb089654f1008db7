"""Machine-readable output: the whole result, `{"version": 1, "findings": [...], ...}`."""

from __future__ import annotations

import json

from pgpreflight.linter.report import RenderOptions
from pgpreflight.linter.result import RunResult


def render(result: RunResult, options: RenderOptions) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
