"""Suppression that silences nothing, or names an unknown rule.

## Why is this bad?
A stale suppression hides the next real problem on that statement, and one with a misspelt rule
id never worked at all. Reported by the engine, like ruff's unused-noqa.

## Example
```sql
-- UP
-- pgpreflight: ignore[missing-down-section] rolled back by restoring the backup
CREATE TABLE tags (id bigint PRIMARY KEY);
-- DOWN
DROP TABLE tags;
```

Use instead:
```sql
-- UP
CREATE TABLE tags (id bigint PRIMARY KEY);
-- DOWN
DROP TABLE tags;
```
"""

from __future__ import annotations

ID = "unused-suppression"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")
ENGINE = True
