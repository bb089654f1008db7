"""ALTER COLUMN TYPE that rewrites an existing table.

## Why is this bad?
Changing a column's type takes ACCESS EXCLUSIVE and, unless the new type is binary compatible,
rewrites every row and rebuilds every index of the table: reads and writes stop for the whole
rewrite. PostgreSQL skips the rewrite only for: varchar widening or varchar to text; numeric
precision increase at the same scale (or to unconstrained numeric); timestamp/time precision
increase; cidr to inet; and, from PostgreSQL 12, timestamp to timestamptz (and back) when the
session time zone is UTC (set the `utc-session` option when the runner guarantees it). A `USING`
clause that computes something (`USING amount::numeric * 100`, `USING status::text::mood`)
rewrites; `USING col` or `USING col::newtype` is the same conversion as no USING at all, so the
types decide. The old type comes from the schema model; when the history does not show it, the
change is reported as a possible rewrite.

## Example
```sql
-- file: 202301011200__create_orders.sql
CREATE TABLE orders (id integer PRIMARY KEY, note varchar(50));
-- file: 202401011200__widen_id.sql
ALTER TABLE orders ALTER COLUMN id TYPE bigint;
```

Use instead:
```sql
-- file: 202301011200__create_orders.sql
CREATE TABLE orders (id integer PRIMARY KEY, note varchar(50));
-- file: 202401011200__widen_note.sql
ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);
```

## Differences from squawk
squawk reports every ALTER COLUMN TYPE; this rule knows the old type from the history and stays
quiet on the binary-compatible changes PostgreSQL does without a rewrite (varchar widening, varchar
to text, ...), and on tables created earlier in the same section. An unknown old type is a warning,
not an error.

## Options
- `utc-session` (default false): the migration session's TimeZone is UTC, so timestamp <->
  timestamptz changes are catalog-only on PostgreSQL 12+.

## References
- https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast.enums import AlterTableType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.locks import column_type, has_using, new_type_name, type_change_rewrites
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import short

ID = "column-type-rewrite"
SEVERITY = "error"
OPTIONS: dict[str, object] = {"utc-session": False}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": ["changing-column-type"],
    "eugene": ["E5"],
    "strong_migrations": ["change_column"],
}
PRESETS = ("guide", "safety")


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    utc = bool(ctx.options["utc-session"])
    added = {(c.table, c.name): c.type for c in ctx.facts.columns if c.added}
    for section in migration.sections():
        for stmt, table, cmd in section.alter_commands(AlterTableType.AT_AlterColumnType):
            if not ctx.facts.existing(table, stmt) or not ctx.facts.forward(stmt):
                continue
            schema = ctx.schema_before if stmt.section == "up" else ctx.schema_after
            column = str(cmd.name)
            old = added.get((table, column)) or column_type(
                schema, ctx.facts.name_before(table, stmt), column
            )
            new = new_type_name(cmd)
            using = has_using(cmd)
            where = f"'{short(table)}.{column}'"
            if old is not None and new is not None and not using:
                if not type_change_rewrites(old, new, utc=utc, pg_version=ctx.pg_version):
                    continue
                message = (
                    f"changing {where} from {old} to {new} rewrites '{short(table)}' and its "
                    "indexes under ACCESS EXCLUSIVE, blocking reads and writes"
                )
                severity = ctx.severity
            elif using:
                message = (
                    f"changing {where} to {new} with USING rewrites '{short(table)}' and its "
                    "indexes under ACCESS EXCLUSIVE, blocking reads and writes"
                )
                severity = ctx.severity
            else:
                message = (
                    f"changing {where} to {new} rewrites '{short(table)}' under ACCESS "
                    "EXCLUSIVE "
                    "unless the old type is binary compatible (the history does not show it)"
                )
                severity = "warning"
            yield ctx.finding(
                stmt,
                message,
                node=cmd,
                severity=ctx.facts.severity(table, severity),
                hint=f"add a new column ({column}_new {new}), write to both, backfill in "
                "batches, "
                "switch reads, then drop the old column; or keep to a binary-compatible change",
            )
