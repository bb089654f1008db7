"""The example project (examples/assist-move-assist) is the guide's history: its clean migrations
must lint clean, and every mistake in the faulty ones carries an end-of-line marker such as
`-- [missing-audit-columns]` naming the rule that must report it on that line.

Other engineers add rules over time, so the expected findings are the markers whose rule exists
in the registry; every other finding, from any rule, is a failure.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from pgpreflight.linter.config import Config, load_config
from pgpreflight.linter.engine import lint
from pgpreflight.linter.registry import all_rules

from tests.helpers import make_config

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "examples" / "assist-move-assist"
MIGRATIONS = PROJECT / "apps" / "backend" / "src" / "database" / "migrations"
# `-- [rule-a]` or `-- [rule-a] [rule-b] free text` at the end of a line
_MARKERS = re.compile(r"--\s*((?:\[[a-z][a-z0-9-]*\]\s*)+)")
_ID = re.compile(r"\[([a-z][a-z0-9-]*)\]")

Key = tuple[str, int, str]  # (file name, line, rule id)


def markers() -> list[Key]:
    found: list[Key] = []
    for path in sorted([*MIGRATIONS.glob("*.sql"), *(PROJECT / "queries").glob("*.sql")]):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for group in _MARKERS.finditer(line):
                found.extend((path.name, number, rule) for rule in _ID.findall(group.group(1)))
    return found


def findings(config: Config) -> list[Key]:
    result = lint([MIGRATIONS], config)
    return [(Path(f.path).name, f.line, f.rule) for f in result.findings]


def test_markers_name_lines_of_the_faulty_migrations() -> None:
    found = markers()
    assert len(found) >= 5, "the example project lost its marked mistakes"
    assert len({name for name, _, _ in found}) >= 2


@cache
def default_findings() -> tuple[Key, ...]:
    # The project's own configuration, as `pgpreflight lint examples/assist-move-assist` reads it.
    return tuple(findings(load_config(PROJECT / "pgpreflight.toml")))


DEFAULT_RULES = sorted(rule.id for rule in all_rules().values() if not rule.opt_in)


@pytest.mark.parametrize("rule_id", DEFAULT_RULES)
def test_findings_of_each_rule_match_its_markers(rule_id: str) -> None:
    """One test per rule, so a false positive names the rule that produced it."""
    expected = Counter(key for key in markers() if key[2] == rule_id)
    actual = Counter(key for key in default_findings() if key[2] == rule_id)
    missing = sorted(expected - actual)
    unexpected = sorted(actual - expected)
    assert not missing, f"marked mistakes not reported: {missing}"
    assert not unexpected, (
        f"findings without a marker (false positives, or a missing marker): {unexpected}"
    )


def test_no_finding_comes_from_a_rule_outside_the_registry_or_twice_per_line() -> None:
    known = set(all_rules())
    counts = Counter(default_findings())
    assert all(rule in known for _, _, rule in counts)
    assert [key for key, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("rule_id", ["check-constraint-unnamed", "updated-at-without-trigger"])
def test_opt_in_convention_rules_stay_quiet_on_the_example(rule_id: str) -> None:
    config = make_config(PROJECT, select=[rule_id])
    expected = [key for key in markers() if key[2] == rule_id]
    assert findings(config) == expected
