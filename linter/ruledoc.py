"""Reading a rule's docstring, the single source of its summary, rationale and examples.

Grammar (STYLE.md): line 1 is the summary; `## ` headings start sections; in `## Example` the
```sql blocks before `Use instead:` are bad examples and those after it are good ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FENCE = re.compile(r"```sql[ \t]*\n(.*?)```", re.S)


@dataclass(frozen=True)
class RuleDoc:
    summary: str
    sections: dict[str, str] = field(default_factory=dict)
    bad: tuple[str, ...] = ()
    good: tuple[str, ...] = ()

    @property
    def why(self) -> str:
        return self.sections.get("Why is this bad?", "")


def parse_doc(doc: str) -> RuleDoc:
    lines = (doc or "").strip("\n").splitlines()
    # The summary is the whole first paragraph: a docstring wraps it at 100 columns, and a
    # summary cut at its first line ends mid-sentence in `rules` and the README table.
    first: list[str] = []
    for line in lines:
        if not line.strip() or line.lstrip().startswith("##"):
            break
        first.append(line.strip())
    summary = " ".join(first)
    sections: dict[str, str] = {}
    current: str | None = None
    buf: list[str] = []
    for line in lines[1:]:
        m = re.match(r"^\s*##\s+(.*?)\s*$", line)
        if m:
            if current is not None:
                sections[current] = _dedent("\n".join(buf))
            current, buf = m.group(1), []
        elif current is not None:
            buf.append(line)
    if current is not None:
        sections[current] = _dedent("\n".join(buf))
    example = sections.get("Example", "")
    bad_part, _, good_part = example.partition("Use instead:")
    bad = tuple(b.strip("\n") + "\n" for b in _FENCE.findall(bad_part))
    good = tuple(g.strip("\n") + "\n" for g in _FENCE.findall(good_part))
    return RuleDoc(summary, sections, bad, good)


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).strip("\n")
