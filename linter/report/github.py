"""GitHub Actions workflow commands, which annotate the pull request's diff at each finding.

User content is escaped by GitHub's workflow-command rules (`%`, CR and LF in the message; also
`:` and `,` in properties), and any other control character is shown as an escape
(linter/printable.py): one annotation stays one line, and the log shows no terminal sequence.
"""

from __future__ import annotations

from pgpreflight.linter.printable import printable
from pgpreflight.linter.report import RenderOptions
from pgpreflight.linter.result import RunResult

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    text = printable(text, keep="\t\r\n")
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: RunResult, options: RenderOptions) -> str:
    lines = []
    for f in result.findings:
        props = (
            f"file={_prop(f.path)},line={f.line},col={f.column},"
            f"endLine={f.end_line},endColumn={f.end_column},title={_prop('pgpreflight ' + f.rule)}"
        )
        message = f.message + (f"\n{f.hint}" if f.hint else "")
        lines.append(f"::{_LEVEL[f.severity]} {props}::{_data(message)}")
    return "".join(line + "\n" for line in lines)
