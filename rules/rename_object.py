"""View, type, enum value, schema, function or sequence renamed while code uses the old name.

## Why is this bad?
A rename is instant, and that is the trouble: the release still running refers to the old name
(`SELECT ... FROM daily_totals`, `nextval('orders_seq')`, `'shipped'::order_status`, a call to
`calc_total()`) and fails from the moment the migration commits until every instance runs the
new code. Renaming a schema breaks every qualified name in it at once. (Tables and columns have
their own rules; index, constraint and trigger names are not used by application queries.)

A DOWN reverting its own UP's rename is not reported.

## Example
```sql
ALTER VIEW daily_totals RENAME TO daily_revenue;
```

Use instead:
```sql
-- create the new name, move the code over, drop the old one in a later release
CREATE VIEW daily_revenue AS SELECT * FROM daily_totals;
```

## Differences from squawk
Covers the objects squawk's renaming-object does, plus enum values; objects the same migration
created are not reported.

## References
- https://www.postgresql.org/docs/current/sql-alterview.html
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import ObjectType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import list_name, relation_name, short
from pgpreflight.linter.provenance import made_by_migration
from pgpreflight.linter.schema import SchemaModel

ID = "rename-object"
SEVERITY = "warning"
OPTIONS: dict[str, object] = {}
EQUIVALENTS: dict[str, list[str]] = {"squawk": ["renaming-object"]}
PRESETS = ("guide", "safety")

OT = ObjectType
_WORD = {
    OT.OBJECT_VIEW: "view",
    OT.OBJECT_MATVIEW: "materialized view",
    OT.OBJECT_TYPE: "type",
    OT.OBJECT_DOMAIN: "domain",
    OT.OBJECT_SCHEMA: "schema",
    OT.OBJECT_FUNCTION: "function",
    OT.OBJECT_PROCEDURE: "procedure",
    OT.OBJECT_SEQUENCE: "sequence",
}


def _old_name(node: ast.RenameStmt) -> str:
    if node.relation is not None:
        return relation_name(node.relation)
    if node.renameType == OT.OBJECT_SCHEMA:
        return str(node.subname)
    obj: Any = node.object
    if isinstance(obj, ast.ObjectWithArgs):
        return list_name(obj.objname)
    if isinstance(obj, ast.TypeName):
        return list_name(obj.names)
    return list_name(obj)


def _exists(kind: ObjectType, name: str) -> Any:
    def test(m: SchemaModel) -> bool:
        if kind in (OT.OBJECT_VIEW, OT.OBJECT_MATVIEW):
            return m.view(name) is not None
        if kind in (OT.OBJECT_TYPE, OT.OBJECT_DOMAIN):
            return m.type(name) is not None
        if kind == OT.OBJECT_SCHEMA:
            return name in m.schemas
        if kind in (OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE):
            return any(k.startswith(m.qualify(name) + "(") for k in m.functions)
        if kind == OT.OBJECT_SEQUENCE:
            return m.sequence(name) is not None
        return False

    return test


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for section in migration.sections():
        for stmt, node in section.of(ast.RenameStmt, ast.AlterEnumStmt):
            if isinstance(node, ast.AlterEnumStmt):
                if node.oldVal is None:
                    continue
                type_name = list_name(node.typeName)
                if made_by_migration(ctx, stmt, _exists(OT.OBJECT_TYPE, type_name)):
                    continue
                yield ctx.finding(
                    stmt,
                    f"renaming value '{node.oldVal}' of enum '{short(type_name)}' to "
                    f"'{node.newVal}' "
                    f"breaks running code and stored queries that use '{node.oldVal}'",
                    hint="add the new value, move the code and the rows over, stop using the old "
                    "value",
                )
                continue
            if not isinstance(node, ast.RenameStmt):
                continue
            kind = node.renameType
            if kind is None or kind not in _WORD:
                continue
            word = _WORD[kind]
            old = _old_name(node)
            if made_by_migration(ctx, stmt, _exists(kind, old)):
                continue
            yield ctx.finding(
                stmt,
                f"renaming {word} '{short(old)}' to '{node.newname}' breaks running code that "
                "still "
                f"uses '{short(old)}'",
                hint="create the object under the new name (or a wrapper), move the code over, and "
                "drop "
                "the old name in a later release",
            )
