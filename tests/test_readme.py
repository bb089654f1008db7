"""README is documentation users copy from: its rule table and test command must stay true."""

from __future__ import annotations

from pathlib import Path

from pgpreflight.linter.ruletable import BEGIN, END, FIX_BEGIN, FIX_END, fix_table, rule_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_rule_table_is_current() -> None:
    assert BEGIN in README and END in README, "README lost its rule-table markers"
    current = README.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert current == rule_table(), (
        "README's rule table is stale: regenerate it with 'pgpreflight rules --format markdown'"
    )


def test_fix_table_is_current() -> None:
    assert FIX_BEGIN in README and FIX_END in README, "README lost its fix-table markers"
    current = README.split(FIX_BEGIN, 1)[1].split(FIX_END, 1)[0].strip("\n") + "\n"
    assert current == fix_table(), (
        "README's fix table is stale: regenerate it with 'python -m pgpreflight.linter.ruletable'"
    )


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    command = [line for line in ci if "pytest" in line][-1].strip()
    assert f"{command}" in README
