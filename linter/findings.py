"""The unit every rule produces and every reporter renders."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Finding:
    """One problem at one place. Positions are 1-based; columns count characters."""

    rule: str
    severity: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    migration: str | None = None
    section: str | None = None
    hint: str | None = None
    fix: str | None = None
    # Fingerprint of the statement the finding is about (whitespace-normalised text hash); lets
    # baselines survive line moves.
    fingerprint: str | None = None

    def sort_key(self) -> tuple[str, int, int, str, str, int, int]:
        """Position, then rule, then message: two findings of one rule at one place (two
        columns of one DROP) must come out in the same order on every run."""
        return (
            self.path,
            self.line,
            self.column,
            self.rule,
            self.message,
            self.end_line,
            self.end_column,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def at_least(severity: str, threshold: str) -> bool:
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold]
