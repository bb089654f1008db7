"""Suppression comment that pgpreflight cannot read.

## Why is this bad?
A `-- pgpreflight:` comment with a typo (missing brackets, no rule id) silences nothing, while
its author believes the finding is handled. Reported by the engine; it cannot be suppressed inline.

## Example
```sql
-- UP
-- pgpreflight: ignore missing-down-section because this is a seed
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

ID = "malformed-suppression"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")
ENGINE = True
