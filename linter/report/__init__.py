"""Reporters: one module per format, each a `render(result, options) -> str` over `RunResult`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from pgpreflight.linter.result import RunResult

FORMATS = {
    "text": "pgpreflight.linter.report.text",
    "json": "pgpreflight.linter.report.json_format",
    "github": "pgpreflight.linter.report.github",
    "sarif": "pgpreflight.linter.report.sarif",
    "junit": "pgpreflight.linter.report.junit",
    "gitlab": "pgpreflight.linter.report.gitlab",
}


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    fail_on: str = "error"
    show_source: bool = True


def renderer(name: str) -> Callable[[RunResult, RenderOptions], str]:
    module = importlib.import_module(FORMATS[name])
    return module.render  # type: ignore[no-any-return]
