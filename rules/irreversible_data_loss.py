"""UP destroys data that no DOWN can bring back.

## Why is this bad?
DOWN can recreate a dropped table, column or type, but not the rows that were in it. A rollback
after `DROP COLUMN` gives the column back empty; a type change that rounds numbers or drops the
time from a timestamp cannot be undone by changing the type back. `TRUNCATE` empties a table for
good. The finding is a warning, not an error: deleting data is sometimes the point; then say so
in a suppression with the reason (and the backup that holds the data), so a reviewer sees it
was deliberate. Tables created earlier in the same migration are exempt: they hold no data yet.

One finding per statement: when `drop-table`, `drop-column`, `drop-schema` or `truncate-table`
is enabled, that rule reports the drop (its message says the data goes, and what else goes with
it), and this rule keeps what only it sees: type changes that lose values and columns dropped
with a type.

## Example
```sql
-- UP
CREATE TABLE users (id bigint PRIMARY KEY, phone text);

-- DOWN
DROP TABLE IF EXISTS users;
-- file: 202401020000__drop_phone.sql
-- UP
ALTER TABLE users DROP COLUMN phone;

-- DOWN
ALTER TABLE users ADD COLUMN IF NOT EXISTS phone text;
```

Use instead:
```sql
-- UP
CREATE TABLE users (id bigint PRIMARY KEY, phone text);

-- DOWN
DROP TABLE IF EXISTS users;
-- file: 202401020000__drop_phone.sql
-- UP
-- Step 1 of 2: stop using the column; it is dropped in a later release, after a backup.
COMMENT ON COLUMN users.phone IS 'deprecated: no longer written, dropped after 2024-03-01';

-- DOWN
COMMENT ON COLUMN users.phone IS NULL;
```

## References
- https://www.postgresql.org/docs/current/sql-altertable.html (DROP COLUMN, SET DATA TYPE)
- https://www.postgresql.org/docs/current/datatype-numeric.html (rounding to a smaller scale)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, DropBehavior, ObjectType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.provenance import model_before
from pgpreflight.linter.schema import SchemaModel, display
from pgpreflight.linter.schema.names import format_type

ID = "irreversible-data-loss"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")

_HINT = (
    "keep a backup of the data, or deprecate first and drop in a later release; "
    "suppress with the reason if the loss is intended"
)
_INTEGERS = {"smallint": 1, "integer": 2, "bigint": 3}
_FLOATS = {"real": 1, "double precision": 2}
_TEXT = {"text", "character varying", "character"}
_TYPE = re.compile(
    r"^(?P<base>[a-z ]+?)(\((?P<args>[\d, ]+)\))?"
    r"(?P<rest>( with(out)? time zone)?)(?P<array>\[\])?$"
)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    if ctx.schema_before is None:
        return
    before = ctx.schema_before
    statements = migration.up.statements
    first = next((i for i, s in enumerate(statements) if _may_lose_data(s.node)), None)
    if first is None:
        return  # most migrations: no replay needed
    # the model as it is just before each statement (a column may change type twice)
    if not any(s.nested for s in statements):  # the replay provenance makes of this UP
        for statement in statements[first:]:
            model = model_before(ctx, statement)
            if model is not None:
                yield from _losses(statement, model, before, ctx)
        return
    model = before.copy()  # DO blocks: what they run is not applied here
    for statement in statements[:first]:
        model.apply(statement.node)
    for statement in statements[first:]:
        yield from _losses(statement, model, before, ctx)
        model.apply(statement.node)


_LOSSY_DROPS = (
    ObjectType.OBJECT_TABLE,
    ObjectType.OBJECT_TYPE,
    ObjectType.OBJECT_DOMAIN,
    ObjectType.OBJECT_SCHEMA,
)
_LOSSY_SUBCOMMANDS = (AlterTableType.AT_DropColumn, AlterTableType.AT_AlterColumnType)


def _may_lose_data(node: Any) -> bool:
    if isinstance(node, ast.DropStmt):
        return node.removeType in _LOSSY_DROPS
    if isinstance(node, ast.AlterTableStmt):
        return any(cmd.subtype in _LOSSY_SUBCOMMANDS for cmd in node.cmds or ())
    return isinstance(node, ast.TruncateStmt)


def _existed(before: SchemaModel, table_key: str) -> bool:
    return table_key in before.tables


def _reported_elsewhere(ctx: Context, rule_id: str) -> bool:
    """The drop rules of the production-safety set say the same thing with more context."""
    return ctx.enabled(rule_id) and rule_id != ID


def _losses(
    statement: Statement, model: SchemaModel, before: SchemaModel, ctx: Context
) -> Iterator[Finding]:
    node = statement.node
    match node:
        case ast.DropStmt(removeType=ObjectType.OBJECT_TABLE) if not _reported_elsewhere(
            ctx, "drop-table"
        ):
            for item in node.objects or ():
                key = model.qualify(".".join(s.sval for s in item))
                if key in model.tables and _existed(before, key):
                    yield ctx.finding(
                        statement,
                        f"dropping table {display(key)} deletes its rows; DOWN can recreate the "
                        "table but not the data",
                        hint=_HINT,
                    )
        case ast.DropStmt(removeType=ObjectType.OBJECT_TYPE | ObjectType.OBJECT_DOMAIN):
            if node.behavior != DropBehavior.DROP_CASCADE:
                return
            for item in node.objects or ():
                key = model.qualify(".".join(s.sval for s in item.names))
                type_ = model.types.get(key)
                if type_ is None:
                    continue
                shown = display(key)
                users = [
                    f"{display(t.qualified_name)}.{c.name}"
                    for t in model.tables.values()
                    if _existed(before, t.qualified_name)
                    for c in t.columns.values()
                    if c.type in (shown, shown + "[]")
                ]
                if users:
                    yield ctx.finding(
                        statement,
                        f"dropping type {shown} with CASCADE drops column(s) {', '.join(users)} "
                        "and their data",
                        hint=_HINT,
                    )
        case ast.DropStmt(removeType=ObjectType.OBJECT_SCHEMA) if not _reported_elsewhere(
            ctx, "drop-schema"
        ):
            if node.behavior != DropBehavior.DROP_CASCADE:
                return
            for item in node.objects or ():
                schema = item.sval
                tables = sorted(
                    display(k)
                    for k in model.tables
                    if k.startswith(schema + ".") and _existed(before, k)
                )
                if tables:
                    yield ctx.finding(
                        statement,
                        f"dropping schema {schema} with CASCADE deletes table(s) "
                        f"{', '.join(tables)} and their rows",
                        hint=_HINT,
                    )
        case ast.TruncateStmt() if not _reported_elsewhere(ctx, "truncate-table"):
            for relation in node.relations or ():
                key = model.qualify(
                    f"{relation.schemaname}.{relation.relname}"
                    if relation.schemaname
                    else relation.relname
                )
                if key in model.tables and _existed(before, key):
                    yield ctx.finding(
                        statement,
                        f"TRUNCATE {display(key)} deletes every row; DOWN cannot bring them back",
                        hint=_HINT,
                    )
        case ast.AlterTableStmt(objtype=ObjectType.OBJECT_TABLE):
            rv: Any = node.relation
            key = model.qualify(f"{rv.schemaname}.{rv.relname}" if rv.schemaname else rv.relname)
            table = model.tables.get(key)
            if table is None or not _existed(before, key):
                return
            old_table = before.tables[key]
            for cmd in node.cmds or ():
                column = table.columns.get(cmd.name or "")
                if column is None or cmd.name not in old_table.columns:
                    continue
                where = f"{display(key)}.{column.name}"
                if cmd.subtype == AlterTableType.AT_DropColumn and not _reported_elsewhere(
                    ctx, "drop-column"
                ):
                    yield ctx.finding(
                        statement,
                        f"dropping column {where} deletes its values; DOWN can add the column "
                        "back but empty",
                        hint=_HINT,
                    )
                elif cmd.subtype == AlterTableType.AT_AlterColumnType:
                    new_type = format_type(cmd.def_.typeName)
                    why = narrowing(column.type, new_type)
                    if why:
                        yield ctx.finding(
                            statement,
                            f"changing column {where} from {column.type} to {new_type} {why}; "
                            "changing it back in DOWN does not restore the values",
                            node=cmd,
                            hint=(
                                "keep the old column until the conversion is checked, or convert "
                                "into a new column"
                            ),
                        )
        case _:
            return


def narrowing(old: str, new: str) -> str | None:
    """Why converting a column from `old` to `new` loses information, or None if it does not
    (as far as the type names tell: a USING expression can lose anything)."""
    a, b = _TYPE.match(old), _TYPE.match(new)
    if a is None or b is None or a["array"] != b["array"]:
        return None
    old_base, new_base = a["base"], b["base"]
    old_args = [int(x) for x in (a["args"] or "").replace(" ", "").split(",") if x]
    new_args = [int(x) for x in (b["args"] or "").replace(" ", "").split(",") if x]
    if (
        old_base in _INTEGERS
        and new_base in _INTEGERS
        and _INTEGERS[new_base] < _INTEGERS[old_base]
    ):
        return "narrows the range (larger values make the migration fail)"
    if old_base in _FLOATS and new_base in _FLOATS and _FLOATS[new_base] < _FLOATS[old_base]:
        return "drops precision"
    if (old_base in _FLOATS or old_base == "numeric") and new_base in _INTEGERS:
        return "rounds away the fractional part"
    if old_base == "numeric" and new_base == "numeric" and new_args:
        old_precision, old_scale = [*old_args, 0][:2] if old_args else (1000, 1000)
        new_precision, new_scale = [*new_args, 0][:2]
        if new_scale < old_scale:
            return f"rounds to {new_scale} decimal place(s)"
        if new_precision - new_scale < old_precision - old_scale:
            return "narrows the range (larger values make the migration fail)"
    if old_base in _TEXT and new_base in ("character varying", "character"):
        old_length = old_args[0] if old_args else None
        new_length = new_args[0] if new_args else (1 if new_base == "character" else None)
        if new_length is not None and (old_length is None or new_length < old_length):
            return (
                f"limits it to {new_length} characters "
                "(longer values make the migration fail or must be cut)"
            )
    if old_base == "timestamp":
        if new_base == "date":
            return "drops the time of day"
        old_precision = old_args[0] if old_args else 6
        if new_base == "timestamp" and new_args and new_args[0] < old_precision:
            return f"rounds to {new_args[0]} fractional digit(s) of a second"
    if (
        old_base == "time"
        and new_base == "time"
        and new_args
        and new_args[0] < (old_args[0] if old_args else 6)
    ):
        return f"rounds to {new_args[0]} fractional digit(s) of a second"
    return None
