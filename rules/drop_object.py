"""Type, view, function, sequence, extension, domain or trigger dropped while code may use it.

## Why is this bad?
These objects hold little or no data, but dropping one breaks whatever depends on it the moment
the migration commits: queries that select from a view, code that calls a function, defaults
that call `nextval()` on a sequence, columns of an enum type (with `CASCADE`, those columns and
their data are dropped too), and triggers that enforce behaviour the application counts on.
Dropping an extension removes every function, type and operator it installed, and the indexes
built with them.

An object created earlier in the same migration, and a DOWN dropping what its own UP created,
are not reported.

## Example
```sql
DROP FUNCTION set_updated_at();
```

Use instead:
```sql
-- pgpreflight: ignore[drop-object] no trigger or code calls set_updated_at since release 42
DROP FUNCTION set_updated_at();
```

## Differences from squawk
One rule for squawk's seven ban-drop-* rules on non-table objects; objects the same migration
created are not reported.

## References
- https://www.postgresql.org/docs/current/ddl-depend.html
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import DropBehavior, ObjectType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration, Statement
from pgpreflight.linter.names import list_name, short
from pgpreflight.linter.provenance import (
    made_by_migration,
    model_before,
    recreated_later,
    reverts_up,
)
from pgpreflight.linter.schema import SchemaModel

ID = "drop-object"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {
    "squawk": [
        "ban-drop-type",
        "ban-drop-view",
        "ban-drop-function",
        "ban-drop-sequence",
        "ban-drop-extension",
        "ban-drop-domain",
        "ban-drop-trigger",
    ],
}
PRESETS = ("guide", "safety")

OT = ObjectType
_WORD = {
    OT.OBJECT_TYPE: "type",
    OT.OBJECT_DOMAIN: "domain",
    OT.OBJECT_VIEW: "view",
    OT.OBJECT_MATVIEW: "materialized view",
    OT.OBJECT_FUNCTION: "function",
    OT.OBJECT_PROCEDURE: "procedure",
    OT.OBJECT_ROUTINE: "routine",
    OT.OBJECT_SEQUENCE: "sequence",
    OT.OBJECT_EXTENSION: "extension",
    OT.OBJECT_TRIGGER: "trigger",
}

# provenance kinds; objects without data are replaced, not lost, when re-created in the same section
_KIND = {
    OT.OBJECT_TYPE: "type",
    OT.OBJECT_DOMAIN: "type",
    OT.OBJECT_VIEW: "view",
    OT.OBJECT_MATVIEW: "view",
    OT.OBJECT_FUNCTION: "function",
    OT.OBJECT_PROCEDURE: "function",
    OT.OBJECT_ROUTINE: "function",
    OT.OBJECT_SEQUENCE: "sequence",
    OT.OBJECT_EXTENSION: "extension",
    OT.OBJECT_TRIGGER: "trigger",
}
_NO_DATA = {"view", "function", "trigger", "type"}


def _name(kind: ObjectType, obj: Any) -> str:
    if isinstance(obj, ast.TypeName):
        return list_name(obj.names)
    if isinstance(obj, ast.ObjectWithArgs):
        return list_name(obj.objname)
    if isinstance(obj, ast.String):
        return str(obj.sval)
    if kind == OT.OBJECT_TRIGGER:
        parts = [getattr(p, "sval", "") for p in obj]
        return f"{parts[-1]} on {list_name(obj[:-1])}"
    return list_name(obj)


def _exists(kind: ObjectType, name: str) -> Any:
    def test(m: SchemaModel) -> bool:
        if kind in (OT.OBJECT_TYPE, OT.OBJECT_DOMAIN):
            return m.type(name) is not None
        if kind in (OT.OBJECT_VIEW, OT.OBJECT_MATVIEW):
            return m.view(name) is not None
        if kind in (OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE, OT.OBJECT_ROUTINE):
            return any(k.startswith(m.qualify(name) + "(") for k in m.functions)
        if kind == OT.OBJECT_SEQUENCE:
            return m.sequence(name) is not None
        if kind == OT.OBJECT_EXTENSION:
            return name in m.extensions
        if kind == OT.OBJECT_TRIGGER:
            trig, _, table = name.partition(" on ")
            t = m.table(table)
            return t is not None and trig in t.triggers
        return False

    return test


_WITH_DEPENDANTS = (
    OT.OBJECT_TYPE,
    OT.OBJECT_DOMAIN,
    OT.OBJECT_SEQUENCE,
    OT.OBJECT_FUNCTION,
    OT.OBJECT_PROCEDURE,
)
"""The kinds whose dependants are named: only for them is the model before the drop needed
(replaying the section up to it, which views and triggers would pay for nothing)."""


def _dependants(ctx: Context, stmt: Statement, kind: ObjectType, name: str, cascade: bool) -> str:
    if kind not in _WITH_DEPENDANTS:
        return ""
    model = model_before(ctx, stmt) or ctx.schema_before
    if model is None:
        return ""
    if kind in (OT.OBJECT_TYPE, OT.OBJECT_DOMAIN):
        shown = short(model.qualify(name))
        cols = [
            f"{short(t.schema + '.' + t.name)}.{c.name}"
            for t in model.tables.values()
            for c in t.columns.values()
            if c.type in (shown, shown + "[]")
        ]
        if cols:
            many = len(cols) > 1
            verb = (
                f"{'are' if many else 'is'} dropped with {'their' if many else 'its'} data "
                "(CASCADE)"
                if cascade
                else f"use{'' if many else 's'} it and block{'' if many else 's'} the drop"
            )
            return f"; column{'s' if len(cols) > 1 else ''} {', '.join(sorted(cols))} {verb}"
    if kind == OT.OBJECT_SEQUENCE:
        seq = model.sequence(name)
        if seq is not None and seq.owned_by:
            return f"; it numbers {short(seq.owned_by[0])}.{seq.owned_by[1]}"
    if kind in (OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE):
        plain = name.split(".")[-1]
        trig = sorted(
            f"{tr.name} on {short(t.schema + '.' + t.name)}"
            for t in model.tables.values()
            for tr in t.triggers.values()
            if tr.function.split(".")[-1].split("(")[0] == plain
        )
        if trig:
            many = len(trig) > 1
            return f"; trigger{'s' if many else ''} {', '.join(trig)} call{'' if many else 's'} it"
    return ""


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.DropStmt):
            kind = node.removeType
            if kind is None or kind not in _WORD:
                continue
            word = _WORD[kind]
            cascade = node.behavior == DropBehavior.DROP_CASCADE
            for obj in node.objects or ():
                name = _name(kind, obj)
                if made_by_migration(ctx, stmt, _exists(kind, name), name=name.split(" on ")[0]):
                    continue
                what, plain, table = _KIND[kind], name, None
                if kind == OT.OBJECT_TRIGGER:
                    plain, _, table = name.partition(" on ")
                if reverts_up(ctx, stmt, what, plain, table):
                    continue
                dependants = _dependants(ctx, stmt, kind, name, cascade)
                if (
                    what in _NO_DATA
                    and not (what == "type" and dependants)
                    and recreated_later(ctx, stmt, what, plain, table)
                ):
                    continue  # DROP VIEW v; CREATE VIEW v ...: the definition is replaced
                yield ctx.finding(
                    stmt,
                    f"dropping {word} "
                    f"'{short(name) if table is None else f'{plain} on {short(table)}'}' breaks "
                    f"whatever still uses it{dependants}",
                    hint="deploy code that no longer uses it first, then drop it in a later "
                    "migration",
                )
