"""Table has `updated_at` but no trigger keeps it current.

Judged on the schema at the end of the migration history, so a trigger added by a later migration
counts: a row-level `BEFORE UPDATE` trigger on the table must exist.

## Why is this bad?
`DEFAULT now()` fills `updated_at` on INSERT only. Unless every UPDATE in every code path (and every
manual fix in `psql`) remembers to set it, the column keeps the creation time and lies: caches and
sync jobs that fetch "rows changed since" miss the change, and an investigation trusts a wrong
timestamp. A `BEFORE UPDATE` trigger sets it once for everybody.

## Example
```sql
CREATE TABLE notes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    body text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
```

Use instead:
```sql
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TABLE notes (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    body text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER trg_notes_updated_at BEFORE UPDATE ON notes
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
```

## Options
- `column`: the name of the "last modified" column.

## References
- https://www.postgresql.org/docs/current/plpgsql-trigger.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short

ID = "updated-at-without-trigger"
SEVERITY = "info"
OPT_IN = True
OPTIONS: dict[str, object] = {"column": "updated_at"}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    name = str(ctx.options["column"])
    for fact in ctx.facts.added_columns():
        if fact.name != name:
            continue
        final = ctx.schema_final  # asked only for such a column: it replays the later history
        assert final is not None
        table = final.table(fact.table)
        if table is None or name not in table.columns:
            continue
        if any(
            t.timing == "before" and "update" in t.events and t.for_each_row
            for t in table.triggers.values()
        ):
            continue
        yield ctx.finding(
            fact.stmt,
            f"{short(fact.table)}.{name} has no BEFORE UPDATE trigger: it keeps the insert time "
            "unless every UPDATE remembers to set it",
            node=fact.node,
            hint=f"CREATE TRIGGER trg_{table.name}_{name} BEFORE UPDATE ON {short(fact.table)} "
            f"FOR EACH ROW EXECUTE FUNCTION set_{name}()",
        )
