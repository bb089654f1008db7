"""Finding the rules: every module in `rules/` is one rule, read once and kept as a `Rule`."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.findings import SEVERITIES

if TYPE_CHECKING:
    from pgpreflight.linter.ruledoc import RuleDoc

# A rule's `FIX` says in a few words when its fixes are safe (`lint --fix` applies them) and when
# unsafe (only with --unsafe-fixes): "safe", "unsafe", or "safe; unsafe when ...". The `## Fix`
# section of its docstring says what they do.
FIX_KINDS = ("safe", "unsafe")

# "guide": the team guide's house conventions plus everything in "safety" (the default);
# "safety": production safety only (locks, rewrites, transactions, data loss, DOWNs that exist).
PRESET_NAMES = ("guide", "safety")


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    module: ModuleType
    options: dict[str, Any] = field(default_factory=dict)
    opt_in: bool = False
    # other linters' rule ids this rule covers, by linter: {"squawk": ("ban-drop-table",)}
    equivalents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    presets: tuple[str, ...] = PRESET_NAMES
    # True for rules the engine itself reports (syntax errors, suppressions): they still have a
    # module for their documentation, but no checker of their own.
    engine: bool = False
    fix: str = ""  # when its fixes are safe or unsafe; "" for a rule that offers no fix
    # rules a fix of this one may make report something new, each said in its `## Fix` section
    fix_adds: tuple[str, ...] = ()
    # The documentation a saved result recorded (linter/result.py), for a rule rebuilt from it;
    # None for a rule of this installation, documented by its module's docstring.
    saved_doc: RuleDoc | None = None

    @cached_property
    def doc(self) -> RuleDoc:
        """The parsed docstring, parsed when first asked for: a lint run shows the documentation
        of the rules that found something at most, and parsing every rule's docstring cost each
        start about 6 ms. tests/test_rule_examples.py holds every docstring to the grammar (a
        `## Fix` section going with `FIX` included), which loading no longer reads."""
        if self.saved_doc is not None:
            return self.saved_doc
        from pgpreflight.linter.ruledoc import parse_doc

        return parse_doc(self.module.__doc__ or "")

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
            "equivalents": {k: list(v) for k, v in self.equivalents.items()},
            "presets": list(self.presets),
            "why": self.doc.why,
            "fix": self.fix or None,
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
    equivalents = getattr(module, "EQUIVALENTS", {})
    if not all(
        isinstance(ids, list) and all(isinstance(i, str) for i in ids)
        for ids in equivalents.values()
    ):
        raise RuleDefinitionError(f"{rule_id}: EQUIVALENTS values must be lists of rule ids")
    presets = getattr(module, "PRESETS", None)
    if not isinstance(presets, tuple) or not presets or not set(presets) <= set(PRESET_NAMES):
        raise RuleDefinitionError(f"{rule_id}: PRESETS must name one or more of {PRESET_NAMES}")
    fix = getattr(module, "FIX", "")
    if fix and not fix.startswith(FIX_KINDS):
        raise RuleDefinitionError(f"{rule_id}: FIX must start with 'safe' or 'unsafe'")
    return Rule(
        id=rule_id,
        severity=severity,
        module=module,
        options=dict(getattr(module, "OPTIONS", {})),
        opt_in=bool(getattr(module, "OPT_IN", False)),
        equivalents={k: tuple(v) for k, v in equivalents.items()},
        presets=presets,
        engine=bool(getattr(module, "ENGINE", False)),
        fix=fix,
        fix_adds=tuple(getattr(module, "FIX_ADDS", ())),
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
