"""Column uses `char(n)` / `character(n)`.

## Why is this bad?
`char(n)` pads every value with spaces to `n` characters and then ignores the padding in some
comparisons but not others (`LIKE`, `||`, casts to text): `'ab'::char(3) = 'ab '` is true, yet
the application reads back `'ab '`. It saves no space over `text` and is no faster. A fixed-length
code is better written as `text` with a CHECK on its format.

## Example
```sql
CREATE TABLE countries (
    code char(2) PRIMARY KEY,
    name text NOT NULL
);
```

Use instead:
```sql
CREATE TABLE countries (
    code text PRIMARY KEY CONSTRAINT countries_code_format CHECK (code ~ '^[A-Z]{2}$'),
    name text NOT NULL
);
```

## Differences from squawk
Same scope as ban-char-field.

## References
- https://www.postgresql.org/docs/current/datatype-character.html
- https://wiki.postgresql.org/wiki/Don%27t_Do_This#Don.27t_use_char.28n.29
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short

ID = "char-type"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["ban-char-field"]}
PRESETS = ("guide",)

# format_type() prints char, char(n), bpchar and character as character(n); the one-byte
# internal type "char" prints as char and is left alone.
_CHAR = re.compile(r"^character(\(\d+\))?(\[\])?$")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for column in ctx.facts.columns:
        if not _CHAR.match(column.type):
            continue
        yield ctx.finding(
            column.stmt,
            f"column {short(column.table)}.{column.name} is {column.type.removesuffix('[]')}: "
            "values are blank-padded and compare inconsistently",
            node=column.node,
            hint="use text, with a CHECK on the length or format if it is fixed",
        )
