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

## Fix
Adds the BEFORE UPDATE trigger after the statement that adds the column, and its function
`set_<column>()` above that statement when the history has none (dropped at the end of the DOWN,
when there is one). Safe, for a table this migration creates: nothing updates its rows yet. No fix
for a table created before, where CREATE TRIGGER takes a lock that blocks writes
(trigger-on-existing-table).

## Options
- `column`: the name of the "last modified" column.

## References
- https://www.postgresql.org/docs/current/plpgsql-trigger.html
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast.stream import maybe_double_quote_name as quote
from pgpreflight.linter import fixes
from pgpreflight.linter.context import Context
from pgpreflight.linter.facts import ColumnFact
from pgpreflight.linter.findings import Finding, Fix
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short
from pgpreflight.linter.tokens import semicolon_after

ID = "updated-at-without-trigger"
SEVERITY = "info"
OPT_IN = True
OPTIONS: dict[str, object] = {"column": "updated_at"}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)
FIX = "safe"


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
            fix=_fix(migration, ctx, fact),
        )


def _fix(migration: Migration, ctx: Context, fact: ColumnFact) -> Fix | None:
    """The trigger after the statement that adds the column, and its function before it when
    the history has none (dropped again at the end of the DOWN, when there is one), for a table
    this migration creates: on an existing one, CREATE TRIGGER takes a lock that blocks writes
    (trigger-on-existing-table)."""
    stmt = fact.stmt
    if stmt.parent is not None or not ctx.facts.created_here(fact.table, stmt):
        return None
    source = stmt.source
    semicolon = semicolon_after(source, stmt.end_offset)
    if semicolon is None:
        return None
    column, (schema, table) = fact.name, fact.table.split(".", 1)
    function = f"set_{column}"
    nl = fixes.newline(source)
    execute = "FUNCTION" if ctx.pg_version >= (11,) else "PROCEDURE"
    target = quote(table) if schema == "public" else f"{quote(schema)}.{quote(table)}"
    trigger = (
        f"{nl}{nl}CREATE TRIGGER {quote(f'trg_{table}_{column}')} BEFORE UPDATE ON {target}{nl}"
        f"    FOR EACH ROW EXECUTE {execute} {quote(function)}();"
    )
    known = ctx.schema_after is not None and any(
        f.name == function and not f.arguments for f in ctx.schema_after.functions.values()
    )
    edits = []
    if not known:
        body = (
            f"CREATE FUNCTION {quote(function)}() RETURNS trigger LANGUAGE plpgsql AS $${nl}"
            f"BEGIN{nl}    NEW.{quote(column)} := now();{nl}    RETURN NEW;{nl}END;{nl}$$;{nl}{nl}"
        )
        edits.append(fixes.insert(source, fixes.line_start(source, stmt.offset), body))
        down = migration.down
        if down is not None and down.statements:
            end = down.statements[-1]
            after = semicolon_after(down.source, end.end_offset)
            if after is None:
                return None
            edits.append(
                fixes.insert(
                    down.source, after.end, f"{nl}DROP FUNCTION IF EXISTS {quote(function)}();"
                )
            )
    edits.append(fixes.insert(source, semicolon.end, trigger))
    made = "" if known else f" and its function {function}()"
    return fixes.safe(f"add a BEFORE UPDATE trigger{made} that sets {column}", *edits)
