"""Finding the rules: every module in `rules/` is one rule, read once and kept as a `Rule`."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any

from pgpreflight.linter.findings import SEVERITIES
from pgpreflight.linter.ruledoc import RuleDoc, parse_doc


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    module: ModuleType
    doc: RuleDoc
    options: dict[str, Any] = field(default_factory=dict)
    opt_in: bool = False
    equivalents: dict[str, str] = field(default_factory=dict)
    # True for rules the engine itself reports (syntax errors, suppressions): they still have a
    # module for their documentation, but no checker of their own.
    engine: bool = False

    @property
    def summary(self) -> str:
        return self.doc.summary

    @property
    def check(self) -> Callable[..., Iterator[Any]] | None:
        return getattr(self.module, "check", None)

    @property
    def check_history(self) -> Callable[..., Iterator[Any]] | None:
        return getattr(self.module, "check_history", None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity,
            "summary": self.summary,
            "opt_in": self.opt_in,
            "options": self.options,
            "equivalents": self.equivalents,
            "why": self.doc.why,
        }


class RuleDefinitionError(Exception):
    """A rule module breaks the contract; a bug in pgpreflight, not a user error."""


def _load(module: ModuleType) -> Rule:
    rule_id = getattr(module, "ID", None)
    if not isinstance(rule_id, str):
        raise RuleDefinitionError(f"{module.__name__} has no ID")
    severity = getattr(module, "SEVERITY", None)
    if severity not in SEVERITIES:
        raise RuleDefinitionError(f"{rule_id}: SEVERITY must be one of {SEVERITIES}")
    return Rule(
        id=rule_id,
        severity=severity,
        module=module,
        doc=parse_doc(module.__doc__ or ""),
        options=dict(getattr(module, "OPTIONS", {})),
        opt_in=bool(getattr(module, "OPT_IN", False)),
        equivalents=dict(getattr(module, "EQUIVALENTS", {})),
        engine=bool(getattr(module, "ENGINE", False)),
    )


def rule_ids() -> frozenset[str]:
    """Every rule id, read from the module names without importing a rule (a rule module is
    named for its id, tests/test_rule_examples.py holds them to that): validating a
    configuration must not cost importing ninety modules on every run."""
    from pgpreflight import rules

    return frozenset(
        info.name.replace("_", "-")
        for info in pkgutil.iter_modules(rules.__path__)
        if not info.name.startswith("_")
    )


def load_rule(rule_id: str) -> Rule:
    """One rule by id (an id from `rule_ids`), importing only its module."""
    return _load(importlib.import_module(f"pgpreflight.rules.{rule_id.replace('-', '_')}"))


@cache
def all_rules() -> dict[str, Rule]:
    """Every rule by id, sorted by id."""
    from pgpreflight import rules

    found: dict[str, Rule] = {}
    for info in pkgutil.iter_modules(rules.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"pgpreflight.rules.{info.name}")
        rule = _load(module)
        if rule.id in found:
            raise RuleDefinitionError(f"duplicate rule id {rule.id}")
        found[rule.id] = rule
    return dict(sorted(found.items()))
