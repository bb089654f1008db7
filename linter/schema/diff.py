"""`diff(before, after)`: what changed between two models, object by object.

Used by `down-does-not-revert` (the model before UP against the model after UP then DOWN) and by
`irreversible-data-loss`. Renames are recognised (an object gone and an equal one under a new
name), so a DOWN that renames a constraint back wrongly reads as "renamed", not as a drop and an
add. Column order, comments and privileges are not compared.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .cowmap import CowMap
from .derive import UNKNOWN
from .expression import Deparsed, Expression, ignored, loosened, unqualified
from .expression import canonical as canonical
from .objects import (
    Column,
    CompositeType,
    Constraint,
    EnumType,
    Index,
    Table,
    Trigger,
    UserType,
    display,
)
from .render import column_text, composite_text, constraint_text, index_text

if TYPE_CHECKING:
    from .model import SchemaModel

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
RENAMED = "renamed"

T = TypeVar("T")


@dataclass(frozen=True)
class SchemaDifference:
    kind: str
    """`added`, `removed`, `changed` or `renamed` (from `before` to `after`)."""
    object_type: str
    """`table`, `column`, `constraint`, `index`, `trigger`, `enum value`, `type`, `sequence`,
    `view`, `function`, `extension` or `schema`."""
    name: str
    """Display name: `oficinas.cidade` for a column, `users_email_key` for a constraint."""
    message: str
    table: str | None = None
    """Display name of the table for columns, constraints, indexes and triggers."""
    new_name: str | None = None
    before: str | None = None
    """Definition before (for removed, changed and renamed objects)."""
    after: str | None = None


def diff(
    before: SchemaModel, after: SchemaModel, *, view_texts: bool = True
) -> list[SchemaDifference]:
    """Differences from `before` to `after`, in a stable order.

    Only entries whose storage `before` and `after` do not share are compared, so diffing two
    snapshots of one history costs what changed between them, not the size of the schema.
    `view_texts=False` leaves views' definitions out of the differences (`before`/`after` None):
    printing a view's query is most of a diff's cost, and a caller asking only what changed
    never shows them."""
    out: list[SchemaDifference] = []
    for name in sorted(after.schemas - before.schemas):
        out.append(_simple(ADDED, "schema", name))
    for name in sorted(before.schemas - after.schemas):
        out.append(_simple(REMOVED, "schema", name))
    _compare_named(
        out,
        "extension",
        *_changed_parts(before.extensions, after.extensions),
        lambda e: f"schema {e.schema}",
    )
    _compare_types(out, *_changed_parts(before.types, after.types))
    _compare_tables(out, *_changed_parts(before.tables, after.tables))
    old_sequences, new_sequences = _changed_parts(before.sequences, after.sequences)
    _compare_named(
        out,
        "sequence",
        {k: s for k, s in old_sequences.items() if s.owned_by is None},
        {k: s for k, s in new_sequences.items() if s.owned_by is None},
        lambda s: s.data_type,
    )
    _compare_named(
        out,
        "view",
        *_changed_parts(before.views, after.views),
        (lambda v: str(v.query)) if view_texts else (lambda v: None),
        equal=lambda a, b: (
            a.materialized == b.materialized
            and (a.query == b.query or _same_query(a.query, b.query))
        ),
    )
    _compare_named(
        out,
        "index",
        *_changed_parts(before.view_indexes, after.view_indexes),
        lambda i: f"on {display(i.table)} {index_text(i)}",
        rename_key=lambda i: (i.table, _index_definition(i)),
        equal=lambda a, b: a.table == b.table and _same_index(a, b),
    )
    _compare_named(
        out,
        "function",
        *_changed_parts(before.functions, after.functions),
        lambda f: f"returns {f.returns}",
    )
    return out


def _changed_parts(
    before: CowMap[str, T], after: CowMap[str, T]
) -> tuple[dict[str, T], dict[str, T]]:
    """The entries of both maps that may differ (those not in storage the two share)."""
    keys = sorted(before.differing_keys(after))
    return (
        {k: before[k] for k in keys if k in before},
        {k: after[k] for k in keys if k in after},
    )


def _simple(kind: str, object_type: str, name: str, **extra: Any) -> SchemaDifference:
    return SchemaDifference(kind, object_type, name, f"{object_type} {name} {kind}", **extra)


def _changed(
    object_type: str, name: str, old: str | None, new: str | None, table: str | None = None
) -> SchemaDifference:
    texts = f": {new} (was {old})" if old is not None or new is not None else ""
    return SchemaDifference(
        CHANGED,
        object_type,
        name,
        f"{object_type} {name} changed{texts}",
        table=table,
        before=old,
        after=new,
    )


def _renamed(
    object_type: str, old: str, new: str, definition: str | None, table: str | None = None
) -> SchemaDifference:
    return SchemaDifference(
        RENAMED,
        object_type,
        old,
        f"{object_type} {old} renamed to {new}",
        table=table,
        new_name=new,
        before=definition,
        after=definition,
    )


def _compare_named(
    out: list[SchemaDifference],
    object_type: str,
    before: Mapping[str, T],
    after: Mapping[str, T],
    describe: Callable[[T], str | None],
    *,
    table: str | None = None,
    prefix: str = "",
    rename_key: Callable[[T], Any] | None = None,
    equal: Callable[[T, T], bool] | None = None,
) -> None:
    """Added/removed/changed/renamed objects of one kind, keyed by name."""
    removed = [k for k in before if k not in after]
    added = [k for k in after if k not in before]
    if rename_key is not None:
        for old in list(removed):
            match = next(
                (new for new in added if rename_key(after[new]) == rename_key(before[old])), None
            )
            if match is not None:
                out.append(
                    _renamed(
                        object_type,
                        prefix + display(old),
                        prefix + display(match),
                        describe(before[old]),
                        table,
                    )
                )
                removed.remove(old)
                added.remove(match)
    for key in sorted(added):
        out.append(
            _simple(
                ADDED, object_type, prefix + display(key), table=table, after=describe(after[key])
            )
        )
    for key in sorted(removed):
        out.append(
            _simple(
                REMOVED,
                object_type,
                prefix + display(key),
                table=table,
                before=describe(before[key]),
            )
        )
    for key in sorted(k for k in before if k in after):
        old_object, new_object = before[key], after[key]
        if old_object is new_object:
            continue
        same = equal(old_object, new_object) if equal is not None else old_object == new_object
        if not same:
            old_text, new_text = describe(old_object), describe(new_object)
            if old_text == new_text and old_text is not None:
                old_text, new_text = repr(old_object), repr(new_object)
            out.append(_changed(object_type, prefix + display(key), old_text, new_text, table))


def _compare_types(
    out: list[SchemaDifference],
    before: Mapping[str, UserType],
    after: Mapping[str, UserType],
) -> None:
    def describe(type_: UserType) -> str:
        if isinstance(type_, EnumType):
            return "enum (" + ", ".join(repr(v) for v in type_.values) + ")"
        if isinstance(type_, CompositeType):
            return composite_text(type_)
        return f"domain {type_.base_type}"

    same = {
        k: v
        for k, v in before.items()
        if k in after and isinstance(after[k], EnumType) and isinstance(v, EnumType)
    }
    _compare_named(
        out,
        "type",
        {k: v for k, v in before.items() if k not in same},
        {k: v for k, v in after.items() if k not in same},
        describe,
        rename_key=lambda t: (
            type(t),
            getattr(t, "values", None),
            getattr(t, "base_type", None),
            getattr(t, "attributes", None),
        ),
    )
    for key in sorted(same):
        old, new = same[key], after[key]
        assert isinstance(new, EnumType)
        if old is new or old.values == new.values:
            continue
        name = display(key)
        for value in new.values:
            if value not in old.values:
                out.append(
                    SchemaDifference(
                        ADDED,
                        "enum value",
                        f"{name}.{value}",
                        f"enum value {value!r} added to type {name}",
                        table=None,
                        after=value,
                    )
                )
        for value in old.values:
            if value not in new.values:
                out.append(
                    SchemaDifference(
                        REMOVED,
                        "enum value",
                        f"{name}.{value}",
                        f"enum value {value!r} removed from type {name}",
                        before=value,
                    )
                )
        if [v for v in old.values if v in new.values] != [v for v in new.values if v in old.values]:
            out.append(_changed("type", name, describe(old), describe(new)))


def normalise_expression(text: str | None) -> str | None:
    """Expression text as `expression_key` sees it, printed: for names made from an expression."""
    if text is None:
        return None
    return _printed(text)


def expression_key(expression: Expression | None) -> Any:
    """What an expression is, compared loosely: casts, `public.`/`pg_catalog.` on function names,
    case and spacing do not count. PostgreSQL stores `lower(name)` on a varchar column as
    `lower((name)::text)` and `x <> 0` on a float as `x <> (0)::double precision` either way,
    so two spellings of one definition must compare equal. A key taken from the parse tree
    (`Expression.key`), not from text: printing the trees with pglast's Python printer to
    compare them was most of a cold lint of a long history."""
    return None if expression is None else expression.key


def _same_query(a: Any, b: Any) -> bool:
    """Two views' queries (`Deparsed`) define the same view, as `expression_key` compares:
    their trees side by side where both have one (stopping at the first difference), else
    their keys."""
    tree_a, tree_b = getattr(a, "node", None), getattr(b, "node", None)
    if tree_a is not None and tree_b is not None:
        return loosely_equal(tree_a, tree_b)
    return bool(_query_key(a) == _query_key(b))


def _query_key(query: Any) -> Any:
    """`expression_key` of a view's query (a `Deparsed`, or text)."""
    return (query if isinstance(query, Deparsed) else Deparsed.of_text(str(query))).key


def loosely_equal(a: Any, b: Any) -> bool:
    """`canonical(a) == canonical(b)`, walking both trees together and stopping at the first
    difference instead of building both keys."""
    from pglast import ast

    if isinstance(a, ast.TypeCast):
        return loosely_equal(a.arg, b)
    if isinstance(b, ast.TypeCast):
        return loosely_equal(a, b.arg)
    if isinstance(a, ast.Node):
        if type(a) is not type(b):
            return False
        skipped = ignored(a)
        for attr in a:
            if attr in skipped:
                continue
            x, y = getattr(a, attr), getattr(b, attr)
            if attr == "funcname" and isinstance(a, ast.FuncCall):
                x, y = unqualified(x), unqualified(y)
            if not loosely_equal(x, y):
                return False
        return True
    if isinstance(a, (tuple, list)):
        return (
            isinstance(b, (tuple, list))
            and len(a) == len(b)
            and all(loosely_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, str):
        return isinstance(b, str) and a.lower() == b.lower()
    return bool(a == b) and not isinstance(b, (str, tuple, list, ast.Node))


def _parsed(text: str) -> Any:
    from pgpreflight.linter.parser import parse_sql

    try:
        return parse_sql(text if _is_query(text) else f"SELECT {text}")[0].stmt
    except Exception:
        return None


def _is_query(text: str) -> bool:
    return text.lstrip().split(" ", 1)[0].upper() in ("SELECT", "WITH", "VALUES", "(")


@functools.lru_cache(maxsize=1024)
def _printed(text: str) -> str:
    from pglast import ast

    from .names import deparse

    stmt = _parsed(text)
    if stmt is None:
        return loosened(text)

    def strip(value: Any) -> Any:
        if isinstance(value, ast.TypeCast):
            return strip(value.arg)
        if isinstance(value, ast.FuncCall):
            value.funcname = unqualified(value.funcname)
        if isinstance(value, ast.Node):
            for attr in value:
                setattr(value, attr, strip(getattr(value, attr)))
            return value
        if isinstance(value, tuple):
            return tuple(strip(item) for item in value)
        return value

    printed = deparse(strip(stmt))
    return (printed if _is_query(text) else printed.removeprefix("SELECT ")).lower()


def _column_definition(column: Column) -> tuple[Any, ...]:
    return (
        column.type,
        column.not_null,
        expression_key(column.default),
        column.identity,
        expression_key(column.generated),
        column.collation,
    )


def _same_column(old: Column, new: Column) -> bool:
    """Equal definitions; a type the model could not derive (`unknown`) matches any type."""
    if UNKNOWN in (old.type, new.type):
        return _column_definition(old)[1:] == _column_definition(new)[1:]
    return _column_definition(old) == _column_definition(new)


def _constraint_definition(constraint: Constraint) -> tuple[Any, ...]:
    return (
        constraint.kind,
        constraint.columns,
        expression_key(constraint.expression),
        constraint.ref_table,
        constraint.ref_columns,
        constraint.on_delete,
        constraint.on_update,
    )


def _index_definition(index: Index) -> tuple[Any, ...]:
    elements = tuple(
        dataclasses.replace(e, expression=expression_key(e.expression)) for e in index.elements
    )
    return (
        elements,
        index.method,
        index.unique,
        expression_key(index.predicate),
        index.include,
        index.nulls_not_distinct,
    )


def _same_index(old: Index, new: Index) -> bool:
    return _index_definition(old) == _index_definition(new)


def _same_constraint(old: Constraint, new: Constraint) -> bool:
    return dataclasses.replace(old, expression=expression_key(old.expression)) == (
        dataclasses.replace(new, expression=expression_key(new.expression))
    )


def _trigger_text(trigger: Trigger) -> str:
    row = " for each row" if trigger.for_each_row else ""
    events = " or ".join(trigger.events)
    disabled = "" if trigger.enabled else " (disabled)"
    return f"{trigger.timing} {events}{row} execute function {display(trigger.function)}{disabled}"


def _compare_tables(
    out: list[SchemaDifference], before: Mapping[str, Table], after: Mapping[str, Table]
) -> None:
    removed = [k for k in before if k not in after]
    added = [k for k in after if k not in before]
    for old in list(removed):
        match = next((new for new in added if after[new].same_definition(before[old])), None)
        if match is not None:
            out.append(_renamed("table", display(old), display(match), before[old].kind))
            removed.remove(old)
            added.remove(match)
    for key in sorted(added):
        out.append(_simple(ADDED, "table", display(key), after=after[key].kind))
    for key in sorted(removed):
        out.append(_simple(REMOVED, "table", display(key), before=before[key].kind))
    for key in sorted(k for k in before if k in after):
        old_table, new_table = before[key], after[key]
        if old_table is not new_table:
            _compare_table(out, old_table, new_table)


def _compare_table(out: list[SchemaDifference], old: Table, new: Table) -> None:
    name = display(old.qualified_name)
    if (old.kind, old.partition_of, old.partition_bound) != (
        new.kind,
        new.partition_of,
        new.partition_bound,
    ):
        out.append(_changed("table", name, _table_kind(old), _table_kind(new)))
    _compare_named(
        out,
        "column",
        old.columns,
        new.columns,
        column_text,
        table=name,
        prefix=name + ".",
        rename_key=_column_definition,
        equal=_same_column,
    )
    _compare_named(
        out,
        "constraint",
        old.constraints,
        new.constraints,
        constraint_text,
        table=name,
        rename_key=_constraint_definition,
        equal=_same_constraint,
    )
    _compare_named(
        out,
        "index",
        _plain_indexes(old.indexes.values()),
        _plain_indexes(new.indexes.values()),
        index_text,
        table=name,
        rename_key=_index_definition,
        equal=_same_index,
    )
    _compare_named(
        out, "trigger", old.triggers, new.triggers, _trigger_text, table=name, prefix=name + "."
    )


def _plain_indexes(indexes: Iterable[Index]) -> dict[str, Index]:
    """Indexes that do not back a constraint (those follow their constraint)."""
    return {i.name: i for i in indexes if i.constraint is None}


def _table_kind(table: Table) -> str:
    if table.partition_of:
        return f"partition of {display(table.partition_of)} {table.partition_bound or ''}".rstrip()
    return table.kind
