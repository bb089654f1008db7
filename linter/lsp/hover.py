"""What hovering a finding shows: its message and hint, then its rule's documentation, the
rule module's docstring (the single source `pgpreflight rule ID` prints, already Markdown)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

from pgpreflight.linter.findings import Finding
from pgpreflight.linter.registry import Rule


def hover_markdown(findings: list[Finding], rules: Mapping[str, Rule]) -> str:
    """The findings under the cursor, each rule's documentation once."""
    parts: list[str] = []
    shown: set[str] = set()
    for finding in findings:
        head = f"**{finding.rule}** ({finding.severity}): {finding.message}"
        if finding.hint:
            head += f"  \n*hint:* {finding.hint}"
        parts.append(head)
        rule = rules.get(finding.rule)
        if rule is None or rule.id in shown:
            continue
        shown.add(rule.id)
        doc = textwrap.dedent(rule.module.__doc__ or rule.summary).strip()
        if rule.options:
            options = "\n".join(f"- `{k}` = `{v!r}`" for k, v in rule.options.items())
            doc += f"\n\n## Options (defaults)\n{options}"
        parts.append(doc)
    return "\n\n---\n\n".join(parts)
