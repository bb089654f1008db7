"""Every fix is proven on its rule's own bad examples, as test_rule_examples proves the rule.

For each bad example: the rule's fixes (safe and unsafe) are applied through the same passes
`lint --fix --unsafe-fixes` runs, then the fixed files must parse, the rule must not fire any
more, and no other rule of the default rules may report more than before, except the ones the
rule names in `FIX_ADDS` (and explains in its `## Fix` section). A rule offers fixes exactly when
it says so (`FIX`): one whose bad examples yield none, or one that yields a fix it does not
document, fails.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from pgpreflight.linter import fixer
from pgpreflight.linter.changes import ChangeSet
from pgpreflight.linter.engine import lint
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.registry import all_rules
from pgpreflight.linter.result import RunResult

from tests.helpers import make_config, write_history

RULES = all_rules()
_SUPPRESSED = re.compile(r"pgpreflight:\s*ignore(?:-file)?\[([^\]]*)\]")


def _cases() -> list[pytest.param]:
    return [
        pytest.param(rule.id, sql, id=f"{rule.id}:bad:{i}")
        for rule in RULES.values()
        for i, sql in enumerate(rule.doc.bad)
    ]


class Example:
    """A bad example written as a migration folder, linted with the rule alone or with the
    default rules (plus the rule when it is opt-in)."""

    def __init__(self, rule_id: str, sql: str, root: Path) -> None:
        self.rule = RULES[rule_id]
        self.root = root
        self.directory = root / "migrations"
        module = self.rule.module
        write_history(sql, self.directory, getattr(module, "EXAMPLE_ENCODING", "utf-8"))
        self.named = {
            r.strip()
            for m in _SUPPRESSED.finditer(sql)
            for r in m.group(1).split(",")
            if r.strip() in RULES
        }
        self.options = dict(getattr(module, "EXAMPLE_CONFIG", {}))
        merged = self.options.pop("_merged", None)
        self.changes: ChangeSet | None = None
        if merged:
            for name in merged:
                (self.directory / name).write_text(
                    "-- UP\nCREATE TABLE users (id bigint PRIMARY KEY);\n-- DOWN\nDROP TABLE users;\n"
                )
            at_ref = {(self.directory / n).resolve() for n in merged}
            changed = {p.resolve() for p in self.directory.iterdir()} - at_ref
            self.changes = ChangeSet("main", changed, at_ref)

    def lint(self, overlay: fixer.Overlay | None = None, *, alone: bool = True) -> RunResult:
        if alone:
            config = make_config(
                self.root, select=sorted({self.rule.id} | self.named), **self.options
            )
        else:
            extra = [self.rule.id] if self.rule.opt_in else []
            config = make_config(self.root, extend_select=extra, **self.options)
        return lint([self.directory], config, changes=self.changes, overlay=overlay)

    def ours(self, result: RunResult) -> list[Finding]:
        return [f for f in result.findings if f.rule == self.rule.id]


@pytest.mark.parametrize(("rule_id", "sql"), _cases())
def test_fix_of_bad_example(
    rule_id: str, sql: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # edits name files by their display path, relative to here
    example = Example(rule_id, sql, tmp_path)
    before = example.ours(example.lint())
    fixable = [f for f in before if f.fix is not None]
    if not example.rule.fix:
        assert not fixable, f"{rule_id} offers a fix but documents none (FIX, '## Fix')"
        return
    if not fixable:
        pytest.skip("this bad example has no fix (another one of the rule does)")
    others_before = Counter(f.rule for f in example.lint(alone=False).findings)

    outcome = fixer.run_passes(
        lambda overlay: example.lint(overlay),
        unsafe=True,
        may_change=lambda result: {
            s.path.resolve() for m in result.migrations if m.reported for s in m.sources
        },
    )
    assert outcome.settled and not outcome.refused, outcome.refused
    assert outcome.changes, "the fixes changed nothing"
    fixer.write(outcome.changes.values())
    for change in outcome.changes.values():
        if change.path.suffix == ".sql":
            assert fixer.parses(change.after), f"{change.display} does not parse:\n{change.after}"

    after = example.ours(example.lint())
    unfixable = len(before) - len(fixable)
    assert len(after) <= unfixable, (
        f"{rule_id} still fires after its fixes: {[f.message for f in after]}\n"
        + "\n".join(c.after for c in outcome.changes.values())
    )
    others_after = Counter(f.rule for f in example.lint(alone=False).findings)
    grown = {
        r: (others_before[r], n)
        for r, n in others_after.items()
        if r != rule_id and n > others_before[r] and r not in example.rule.fix_adds
    }
    assert not grown, (
        f"the fix of {rule_id} made other rules report more (before, after): {grown}\n"
        + "\n".join(c.after for c in outcome.changes.values())
    )


@pytest.mark.parametrize("rule_id", sorted(r for r in RULES if RULES[r].fix))
def test_fixable_rule_fixes_one_of_its_bad_examples(
    rule_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for i, sql in enumerate(RULES[rule_id].doc.bad):
        example = Example(rule_id, sql, tmp_path / str(i))
        if any(f.fix is not None for f in example.ours(example.lint())):
            return
    pytest.fail(f"{rule_id} documents a fix (FIX) but none of its bad examples gets one")
