"""DOWN does not give back the schema as it was before UP.

## Why is this bad?
The DOWN section is the rollback plan (item 5 of the guide's pre-deploy checklist). When it
forgets a column, recreates an index under another name or drops a table that UP did not create,
rolling back leaves production in a state that no migration describes: the next deploy of the
same UP fails ("column already exists"), or code written for the old schema meets a different one.
pgpreflight applies UP and then DOWN to its schema model and compares the result with the model
before UP, object by object, and reports the differences in one finding per migration (a
deliberate one-way migration is one decision, suppressed once).

Extensions are shared by the whole database: one that UP creates with `IF NOT EXISTS` may have
been there before, so a DOWN leaving it in place is right, and a DOWN dropping it is reported
as a warning of its own (it can break objects other migrations or applications created on it). Enum values are a special case: PostgreSQL cannot remove a value
from an enum, so a DOWN cannot revert `ALTER TYPE ... ADD VALUE` except by recreating the type.

## Example
```sql
-- UP
CREATE TABLE oficinas (id bigint PRIMARY KEY, nome text NOT NULL);
CREATE INDEX idx_oficinas_nome ON oficinas (nome);

-- DOWN
DROP INDEX IF EXISTS idx_oficinas_nome;
```

Use instead:
```sql
-- UP
CREATE TABLE oficinas (id bigint PRIMARY KEY, nome text NOT NULL);
CREATE INDEX idx_oficinas_nome ON oficinas (nome);

-- DOWN
DROP TABLE IF EXISTS oficinas;
```

## Options
- `enum-values` (default true): report enum values that UP added and DOWN cannot remove.
- `failing-statements` (default true): report DOWN statements that would fail on the schema as UP
  left it (dropping a table that does not exist without IF EXISTS, dropping a table before the
  tables or views that depend on it, ...). Skipped when the history holds statements the model
  cannot follow exactly (DO blocks that change the schema or run dynamic SQL).

## References
- https://www.postgresql.org/docs/current/sql-altertype.html (enum values cannot be removed)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import ObjectType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Section, Statement
from pgpreflight.linter.provenance import section_replay
from pgpreflight.linter.schema import SchemaDifference, SchemaModel, diff
from pgpreflight.linter.schema.model import CODE_MIGRATION

ID = "down-does-not-revert"
SEVERITY = "error"
OPTIONS: dict[str, object] = {"enum-values": True, "failing-statements": True}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide", "safety")

# Unmodelled statements that may change any object: after one, the model cannot judge DOWN.
_OPAQUE = ("DoStmt", CODE_MIGRATION)


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    group = ctx.analysis.split_group(migration)
    if group:  # judged once, as a whole, at its last part
        if migration is group[-1]:
            before = ctx.schema_before_migration(group[0])
            ups = [m.up for m in group]
            downs = [m.down for m in reversed(group) if m.down is not None]
            yield from _judge(ctx, before, ups, downs)
        return
    if migration.down is not None:
        yield from _judge(ctx, ctx.schema_before, [migration.up], [migration.down])


def _judge(
    ctx: Context, before: SchemaModel | None, ups: list[Section], downs: list[Section]
) -> Iterator[Finding]:
    """Apply `downs` in turn to the model after `ups` and compare it with the one before."""
    if any(section.opaque for section in (*ups, *downs)):
        return  # a half written in Go: what it does is unknown, nothing to compare
    statements = [s for down in downs for s in down.statements]
    if not statements or before is None or ctx.schema_after is None:
        return
    seen_unmodelled = len(ctx.schema_after.unmodelled)
    seen_problems = len(ctx.schema_after.problems)
    if len(downs) == 1 and not any(s.nested for s in statements):
        # the replay provenance makes of this DOWN too (the same statements on the same model)
        after_down = section_replay(ctx, ctx.schema_after, downs[0]).after
    else:
        after_down = ctx.schema_after.copy()
        for statement in statements:
            after_down.apply(statement.node, location=statement)
    if any(_opaque(u.kind, u.reason) for u in after_down.unmodelled[seen_unmodelled:]):
        return  # DOWN does something the model cannot follow; the database check can
    # An UP that already failed on the model (an ALTER of a table the history never created,
    # as when one file is linted alone) leaves nothing for DOWN to be judged against.
    up_failed = len(ctx.schema_after.problems) > len(before.problems)
    if (
        ctx.options.get("failing-statements", True)
        and not up_failed
        and not any(_opaque(u.kind, u.reason) for u in ctx.schema_after.unmodelled)
    ):
        for problem in after_down.problems[seen_problems:]:
            if isinstance(problem.location, Statement):
                yield ctx.finding(
                    problem.location,
                    f"DOWN would fail: {problem.message}",
                    hint="write DOWN against the schema as UP leaves it, in reverse order of UP",
                )
    shared = set().union(*(_extensions_if_missing(up) for up in ups))
    left: list[SchemaDifference] = []
    # Views' texts are never shown (a view left different is named, not printed), and printing
    # them was most of the diff's cost.
    for difference in diff(before, after_down, view_texts=False):
        if difference.object_type == "enum value" and not ctx.options.get("enum-values", True):
            continue
        if difference.object_type == "extension" and difference.name in shared:
            continue  # left in place on purpose: other objects may use it
        if _only_validated(difference, before, after_down):
            continue
        left.append(difference)
    if left:
        # What UP itself changed only tells how to word and where to place a difference: asked
        # for the few migrations DOWN does not revert, not for every one.
        up_changes = {
            (d.kind, d.object_type, d.name)
            for d in diff(before, ctx.schema_after, view_texts=False)
        }
        mentions = _Mentions()
        found = [
            (_locate(d, after_down, ups, downs, up_changes, mentions), *_describe(d, up_changes))
            for d in left
        ]
        yield _one_finding(ctx, found)
    for down in downs:
        yield from _shared_extensions_dropped(ctx, before, down, shared)


def _shared_extensions_dropped(
    ctx: Context, before: SchemaModel, down: Section, shared: set[str]
) -> Iterator[Finding]:
    """DOWN dropping an extension UP only created if missing: a warning of its own, since the
    extension may have been there before and other objects may depend on it."""
    for stmt, node in down.of(ast.DropStmt):
        if node.removeType != ObjectType.OBJECT_EXTENSION:
            continue
        names = [str(getattr(o, "sval", o)) for o in node.objects or ()]
        dropped = [n for n in names if n in shared and n not in before.extensions]
        if dropped:
            yield ctx.finding(
                stmt,
                f"DOWN drops extension {', '.join(dropped)} that UP only created if missing: it "
                "may have been there before, and other objects may use it",
                hint="leave shared extensions in place in DOWN",
                severity="warning" if ctx.severity == "error" else ctx.severity,
            )


_LISTED = 5  # differences named in the message; the rest are counted


def _one_finding(ctx: Context, found: list[tuple[Statement | Section, str, str]]) -> Finding:
    """One finding per migration, at its first difference: a deliberate one-way migration is one
    decision to review (and suppress), not fifty."""
    at, message, hint = min(found, key=lambda f: _position(f[0]))
    if len(found) == 1:
        return ctx.finding(at, message, hint=hint)
    listed = "; ".join(m.removeprefix("DOWN ") for _, m, _ in found[:_LISTED])
    more = f"; and {len(found) - _LISTED} more" if len(found) > _LISTED else ""
    return ctx.finding(
        at,
        f"DOWN does not revert {len(found)} changes of UP: it {listed}{more}",
        hint="undo each of them in DOWN, or say in a suppression that the migration is one-way",
    )


def _position(at: Statement | Section) -> tuple[int, int]:
    """Sort key: UP before DOWN, then file position."""
    kind = at.section if isinstance(at, Statement) else at.kind
    offset = at.offset if isinstance(at, Statement) else at.start
    return (kind != "up", offset)


def _extensions_if_missing(up: Section) -> set[str]:
    """Extensions UP creates with IF NOT EXISTS: shared, maybe there before, kept by DOWN."""
    return {
        str(node.extname) for _stmt, node in up.of(ast.CreateExtensionStmt) if node.if_not_exists
    }


def _only_validated(d: SchemaDifference, before: SchemaModel, after: SchemaModel) -> bool:
    """`VALIDATE CONSTRAINT` in UP: the data was checked, nothing to undo in DOWN."""
    if d.kind != "changed" or d.object_type != "constraint" or d.table is None:
        return False
    old_table, new_table = before.table(d.table), after.table(d.table)
    if old_table is None or new_table is None:
        return False
    old, new = old_table.constraints.get(d.name), new_table.constraints.get(d.name)
    return (
        old is not None
        and new is not None
        and not old.validated
        and new.validated
        and dataclasses.replace(old, validated=True) == new
    )


def _opaque(kind: str, reason: str) -> bool:
    return kind in _OPAQUE or reason.startswith(
        ("statement kind is not modelled", "internal error")
    )


def _describe(d: SchemaDifference, up_changes: set[tuple[str, str, str]]) -> tuple[str, str]:
    what = f"{d.object_type} {d.name}"
    if d.object_type == "enum value" and d.kind == "added":
        type_name, _, value = d.name.rpartition(".")
        return (
            f"DOWN leaves value {value!r} in enum {type_name} that UP added: PostgreSQL cannot "
            "remove a value from an enum",
            "accept the value and say why in a suppression, or make DOWN recreate the type without "
            "it (new type, ALTER the columns to it with USING, drop the old type, rename)",
        )
    if d.kind == "added":
        return (f"DOWN leaves {what} that UP added", f"drop the {d.object_type} in DOWN")
    if d.kind == "removed":
        if ("removed", d.object_type, d.name) in up_changes:
            return (
                f"DOWN does not recreate {what} that UP dropped",
                f"recreate the {d.object_type} in DOWN as it was before UP",
            )
        return (
            f"DOWN drops {what} that existed before UP",
            f"DOWN should only undo UP: keep the {d.object_type}",
        )
    if d.kind == "renamed":
        return (
            f"DOWN leaves {d.object_type} {d.name} renamed to {d.new_name}",
            f"rename it back to {d.name} in DOWN",
        )
    if d.object_type == "view":
        return (
            f"DOWN leaves view {d.name} defined differently from before UP",
            "recreate the view in DOWN with the query it had before UP",
        )
    return (
        f"DOWN leaves {what} changed: {d.after} (before UP: {d.before})",
        f"restore the {d.object_type} in DOWN as it was before UP",
    )


def _locate(
    d: SchemaDifference,
    model: SchemaModel,
    ups: list[Section],
    downs: list[Section],
    up_changes: set[tuple[str, str, str]],
    mentions: _Mentions,
) -> Statement | Section:
    """Where a reviewer fixes it: the UP statement that created what DOWN leaves behind, else
    the statement naming the object, looked for first in the section that made the difference."""
    created = _creator(d, model)
    if isinstance(created, Statement):
        return created
    by_up = d.kind == "added" or (d.kind, d.object_type, d.name) in up_changes
    sections = [*ups, *downs] if by_up else [*downs, *ups]
    for names in _names_of(d):
        for section in sections:
            for statement in section.statements:
                if names <= mentions.of(statement):
                    return statement
    return downs[0]


def _creator(d: SchemaDifference, model: SchemaModel) -> Any:
    if d.kind != "added":
        return None
    if d.object_type == "table":
        table = model.table(d.name)
        return table.location if table else None
    if d.object_type in ("column", "constraint", "index", "trigger") and d.table:
        table = model.table(d.table)
        if table is None:
            return None
        leaf = d.name.rpartition(".")[2] if d.object_type in ("column", "trigger") else d.name
        objects: dict[str, dict[str, Any]] = {
            "column": table.columns,
            "constraint": table.constraints,
            "index": table.indexes,
            "trigger": table.triggers,
        }
        found = objects[d.object_type].get(leaf)
        return getattr(found, "location", None)
    return None


def _short(name: str | None) -> str:
    return (name or "").rpartition(".")[2]


def _names_of(d: SchemaDifference) -> list[set[str]]:
    """Sets of names a statement must mention to be the one that made `d`, best first."""
    if d.object_type == "enum value":
        type_name, _, value = d.name.rpartition(".")
        return [{_short(type_name), value}, {_short(type_name)}]
    leaf = _short((d.new_name if d.kind == "renamed" and d.new_name else d.name).split("(")[0])
    table = {_short(d.table)} if d.table else set()
    return [{leaf} | table, {leaf}, table] if table else [{leaf}]


class _Mentions:
    """`_mentions` of each statement, walked once per migration judged: `_locate` looks for
    every difference's names in the same statements, and walking their trees (a view's query
    is thousands of nodes) again for each difference was most of its cost."""

    def __init__(self) -> None:
        self._found: dict[int, set[str]] = {}

    def of(self, statement: Statement) -> set[str]:
        found = self._found.get(id(statement))
        if found is None:
            found = self._found[id(statement)] = _mentions(statement.node)
        return found


def _mentions(node: Any) -> set[str]:
    """Every identifier and string a statement's tree holds (relation, column, object names)."""
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, ast.Node):
            for attr in value:
                visit(getattr(value, attr))
        elif isinstance(value, (tuple, list)):
            for item in value:
                visit(item)

    visit(node)
    return found
