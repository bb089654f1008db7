"""Every rule's documented examples are its first tests: the bad ones fire, the good ones don't."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pgpreflight.linter.changes import ChangeSet
from pgpreflight.linter.engine import lint
from pgpreflight.linter.registry import all_rules

from tests.helpers import make_config, write_history

RULES = all_rules()
_SUPPRESSED = re.compile(r"pgpreflight:\s*ignore(?:-file)?\[([^\]]*)\]")


def _cases() -> list[pytest.param]:
    cases = []
    for rule in RULES.values():
        for kind, examples in (("bad", rule.doc.bad), ("good", rule.doc.good)):
            for i, sql in enumerate(examples):
                cases.append(pytest.param(rule.id, kind, sql, id=f"{rule.id}:{kind}:{i}"))
    return cases


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_has_examples_and_docs(rule_id: str) -> None:
    rule = RULES[rule_id]
    assert rule.doc.bad, f"{rule_id} documents no bad example"
    assert rule.doc.good, f"{rule_id} documents no good example"
    assert rule.doc.why, f"{rule_id} has no '## Why is this bad?' section"
    # FIX says when the fixes are safe, the `## Fix` section what they do: one goes with the other
    assert bool(rule.fix) == ("Fix" in rule.doc.sections), (
        f"{rule_id}: FIX and a '## Fix' section go together"
    )
    assert rule.summary and "\n" not in rule.summary and rule.summary[0].isupper()
    # a whole sentence: `rules` and the README table show it as it is
    assert rule.summary.endswith((".", ")")), rule.summary


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_module_name_matches_id(rule_id: str) -> None:
    assert RULES[rule_id].module.__name__ == "pgpreflight.rules." + rule_id.replace("-", "_")


@pytest.mark.parametrize(("rule_id", "kind", "sql"), _cases())
def test_example(rule_id: str, kind: str, sql: str, tmp_path: Path) -> None:
    rule = RULES[rule_id]
    directory = tmp_path / "migrations"
    write_history(sql, directory, getattr(rule.module, "EXAMPLE_ENCODING", "utf-8"))
    # Rules named in the example's own suppressions run too, so suppression rules can be shown.
    named = {
        r.strip() for m in _SUPPRESSED.finditer(sql) for r in m.group(1).split(",") if r.strip()
    }
    options = dict(getattr(rule.module, "EXAMPLE_CONFIG", {}))
    changes = None
    merged = options.pop("_merged", None)
    if merged:  # a changed-only run: these files are on the main branch, the example's are new
        for name in merged:
            (directory / name).write_text(
                "-- UP\nCREATE TABLE users (id bigint PRIMARY KEY);\n-- DOWN\nDROP TABLE users;\n"
            )
        at_ref = {(directory / n).resolve() for n in merged}
        changed = {p.resolve() for p in directory.iterdir()} - at_ref
        changes = ChangeSet("main", changed, at_ref)
    config = make_config(tmp_path, select=sorted({rule_id} | (named & set(RULES))), **options)
    findings = [f for f in lint([directory], config, changes=changes).findings if f.rule == rule_id]
    if kind == "bad":
        assert findings, f"bad example of {rule_id} did not fire:\n{sql}"
        for f in findings:
            assert f.line >= 1 and f.column >= 1
    else:
        assert not findings, f"good example of {rule_id} fired: {[f.message for f in findings]}"


def test_a_dropped_column_is_reported_once_with_default_rules(tmp_path: Path) -> None:
    """irreversible-data-loss and drop-column describe one statement: only one of them reports it."""
    from tests.helpers import lint_findings

    sql = (
        "-- file: 202401010000__users.sql\n-- UP\nCREATE TABLE users (id bigint PRIMARY KEY, phone text);\n"
        "-- DOWN\nDROP TABLE IF EXISTS users;\n"
        "-- file: 202401020000__drop_phone.sql\n-- UP\nALTER TABLE users DROP COLUMN phone;\n"
        "-- DOWN\nALTER TABLE users ADD COLUMN IF NOT EXISTS phone text;\n"
    )
    both = lint_findings(sql, ["drop-column", "irreversible-data-loss"], tmp_path / "a")
    alone = lint_findings(sql, ["irreversible-data-loss"], tmp_path / "b")
    assert [f.rule for f in both] == ["drop-column"]
    assert [f.rule for f in alone] == ["irreversible-data-loss"]
