"""One result object per run: what every reporter reads and what `--json` saves.

Renderers read only this, so a saved result renders again without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from linter import __version__
from linter.config import Config
from linter.findings import SEVERITIES, Finding, at_least
from linter.migration import Migration, SourceFile
from linter.registry import Rule

RESULT_VERSION = 1


@dataclass
class RunResult:
    findings: list[Finding]
    migrations: list[Migration]
    rules: list[Rule]
    config: Config
    sources: dict[str, SourceFile] = field(default_factory=dict)
    # Filled by `pgpreflight check`: execution facts, round trips, EXPLAIN evidence.
    check: dict[str, Any] | None = None

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            out[f.severity] += 1
        return out

    def failed(self, threshold: str) -> bool:
        return any(at_least(f.severity, threshold) for f in self.findings)

    def reported_migrations(self) -> list[Migration]:
        return [m for m in self.migrations if m.reported]

    def to_dict(self) -> dict[str, Any]:
        rules_by_id = {r.id: r for r in self.rules}
        used = sorted({f.rule for f in self.findings})
        return {
            "version": RESULT_VERSION,
            "tool": {"name": "pgpreflight", "version": __version__},
            "pg_version": str(self.config.pg_version),
            "findings": [f.to_dict() for f in self.findings],
            "summary": self.counts(),
            "migrations": [
                {
                    "id": m.id,
                    "version": m.version,
                    "name": m.name,
                    "convention": m.convention,
                    "paths": [s.display for s in m.sources],
                    "in_transaction": m.in_transaction,
                    "up_statements": len(m.up.statements),
                    "down_statements": None if m.down is None else len(m.down.statements),
                    "reported": m.reported,
                }
                for m in self.migrations
            ],
            "rules": [rules_by_id[r].to_dict() for r in used if r in rules_by_id],
            "check": self.check,
        }
