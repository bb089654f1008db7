"""The unit every rule produces and every reporter renders."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


FIX_APPLICABILITIES = ("safe", "unsafe")


@dataclass(frozen=True)
class Edit:
    """Replace `[start, end)` of one file's text by `replacement`.

    Offsets count characters of the decoded text (as Finding columns do); the 1-based line and
    column pairs say the same for consumers that work in lines (SARIF, editors). `new_file`:
    the edit creates the file `path` (a split-off migration), with `start == end == 0`."""

    path: str
    start: int
    end: int
    replacement: str
    start_line: int
    start_column: int
    end_line: int
    end_column: int
    new_file: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # plain values only


@dataclass(frozen=True)
class Fix:
    """A mechanical rewrite that makes a finding go away. `safe` fixes keep the migration's
    meaning (`lint --fix`); `unsafe` ones change behaviour and need `--unsafe-fixes`."""

    description: str
    applicability: str
    edits: tuple[Edit, ...]

    def to_dict(self) -> dict[str, Any]:
        """What `asdict` gives, without its deep copy of every value (all plain here)."""
        return {
            "description": self.description,
            "applicability": self.applicability,
            "edits": tuple(edit.to_dict() for edit in self.edits),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fix:
        return cls(
            description=data["description"],
            applicability=data["applicability"],
            edits=tuple(Edit(**e) for e in data["edits"]),
        )


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
    fix: Fix | None = None
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
        # asdict's deep copy of every field was a fifth of rendering a large history's report;
        # only the fix is nested
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.fix is not None:
            out["fix"] = self.fix.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """The inverse of `to_dict` (a saved result or a cache entry)."""
        fix = data.get("fix")
        if fix is None:
            return cls(**data)
        return cls(**{**data, "fix": Fix.from_dict(fix)})


def at_least(severity: str, threshold: str) -> bool:
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold]
