"""Suppression that does not say why.

## Why is this bad?
A silenced rule is a decision a reviewer must be able to check: why is a blocking index build
acceptable here, why may this column be NULL? Without a reason the next person cannot tell an
informed exception from a way to make CI green. Reported by the engine.

## Example
```sql
-- UP
-- pgpreflight: ignore-file[missing-down-section]
CREATE TABLE tags (id bigint PRIMARY KEY);
```

Use instead:
```sql
-- UP
-- pgpreflight: ignore-file[missing-down-section] reference data loaded once; dropping it is a manual decision
CREATE TABLE tags (id bigint PRIMARY KEY);
```
"""

from __future__ import annotations

ID = "suppression-without-reason"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")
ENGINE = True
