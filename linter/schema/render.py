"""The model as JSON-able data and as text (for `pgpreflight schema` and for debugging)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .objects import (
    CHECK,
    EXCLUDE,
    FOREIGN_KEY,
    Column,
    CompositeType,
    Constraint,
    Domain,
    EnumType,
    Index,
    Table,
    Trigger,
    display,
)

if TYPE_CHECKING:
    from .expression import Expression
    from .model import SchemaModel


def _location(location: Any) -> str | None:
    from .state import _loc_text

    return _loc_text(location)


def expression_text(expression: Expression | None) -> str | None:
    """An expression's text for JSON output (printed now, if it was not yet)."""
    return None if expression is None else str(expression)


def column_to_dict(column: Column) -> dict[str, Any]:
    return {
        "name": column.name,
        "type": column.type,
        "not_null": column.not_null,
        "default": expression_text(column.default),
        "identity": column.identity,
        "generated": expression_text(column.generated),
        "collation": column.collation,
        "comment": column.comment,
    }


def constraint_to_dict(constraint: Constraint) -> dict[str, Any]:
    return {
        "name": constraint.name,
        "kind": constraint.kind,
        "columns": list(constraint.columns),
        "expression": expression_text(constraint.expression),
        "ref_table": constraint.ref_table,
        "ref_columns": list(constraint.ref_columns),
        "on_delete": constraint.on_delete,
        "on_update": constraint.on_update,
        "match": constraint.match,
        "validated": constraint.validated,
        "deferrable": constraint.deferrable,
        "initially_deferred": constraint.initially_deferred,
    }


def index_to_dict(index: Index) -> dict[str, Any]:
    return {
        "name": index.name,
        "method": index.method,
        "columns": list(index.columns),
        "opclasses": list(index.opclasses),
        "unique": index.unique,
        "primary": index.primary,
        "predicate": expression_text(index.predicate),
        "include": list(index.include),
        "constraint": index.constraint,
    }


def trigger_to_dict(trigger: Trigger) -> dict[str, Any]:
    return {
        "name": trigger.name,
        "function": trigger.function,
        "timing": trigger.timing,
        "events": list(trigger.events),
        "for_each_row": trigger.for_each_row,
        "enabled": trigger.enabled,
    }


def _indexes_of(model: SchemaModel, view: str) -> list[Index]:
    """The indexes of materialized view `view`, by name."""
    return sorted((i for i in model.view_indexes.values() if i.table == view), key=lambda i: i.name)


def table_to_dict(table: Table) -> dict[str, Any]:
    return {
        "name": table.qualified_name,
        "kind": table.kind,
        "persistence": table.persistence,
        "partition_by": table.partition_by,
        "partition_of": table.partition_of,
        "partition_bound": expression_text(table.partition_bound),
        "comment": table.comment,
        "columns": [column_to_dict(c) for c in table.columns.values()],
        "constraints": [
            constraint_to_dict(table.constraints[n]) for n in sorted(table.constraints)
        ],
        "indexes": [index_to_dict(table.indexes[n]) for n in sorted(table.indexes)],
        "triggers": [trigger_to_dict(table.triggers[n]) for n in sorted(table.triggers)],
    }


def model_to_dict(model: SchemaModel) -> dict[str, Any]:
    types: list[dict[str, Any]] = []
    for key in sorted(model.types):
        type_ = model.types[key]
        if isinstance(type_, EnumType):
            types.append({"name": key, "kind": "enum", "values": list(type_.values)})
        elif isinstance(type_, CompositeType):
            types.append(
                {
                    "name": key,
                    "kind": "composite",
                    "attributes": [{"name": n, "type": t} for n, t in type_.attributes],
                }
            )
        else:
            types.append(
                {
                    "name": key,
                    "kind": "domain",
                    "base_type": type_.base_type,
                    "not_null": type_.not_null,
                    "default": expression_text(type_.default),
                    "checks": [{"name": n, "expression": str(e)} for n, e in type_.checks],
                }
            )
    return {
        "schemas": sorted(model.schemas),
        "extensions": [
            {"name": e.name, "schema": e.schema, "version": e.version}
            for e in (model.extensions[n] for n in sorted(model.extensions))
        ],
        "types": types,
        "sequences": [
            {
                "name": key,
                "data_type": s.data_type,
                "owned_by": f"{s.owned_by[0]}.{s.owned_by[1]}" if s.owned_by else None,
                "identity": s.identity,
            }
            for key, s in sorted(model.sequences.items())
        ],
        "tables": [table_to_dict(model.tables[k]) for k in sorted(model.tables)],
        "views": [
            {
                "name": key,
                "materialized": v.materialized,
                "query": str(v.query),
                **(
                    {"indexes": [index_to_dict(i) for i in _indexes_of(model, key)]}
                    if v.materialized
                    else {}
                ),
            }
            for key, v in sorted(model.views.items())
        ],
        "functions": [
            {
                "signature": key,
                "returns": f.returns,
                "language": f.language,
                "kind": "procedure" if f.procedure else "function",
            }
            for key, f in sorted(model.functions.items())
        ],
        "comments": [
            {"object_type": kind, "name": name, "comment": text}
            for (kind, name), text in sorted(model.comments.items())
        ],
        "unmodelled": [
            {"kind": u.kind, "reason": u.reason, "location": _location(u.location)}
            for u in model.unmodelled
        ],
        "problems": [
            {"message": p.message, "location": _location(p.location)} for p in model.problems
        ],
    }


def column_text(column: Column) -> str:
    parts = [column.name, column.type]
    if column.collation:
        parts.append(f'COLLATE "{column.collation}"')
    if column.generated:
        parts.append(f"GENERATED ALWAYS AS ({column.generated}) STORED")
    if column.identity:
        parts.append(f"GENERATED {column.identity.upper()} AS IDENTITY")
    if column.not_null:
        parts.append("NOT NULL")
    if column.default is not None:
        parts.append(f"DEFAULT {column.default}")
    return " ".join(parts)


def constraint_text(constraint: Constraint) -> str:
    columns = ", ".join(constraint.columns)
    if constraint.kind == CHECK:
        body = f"CHECK ({constraint.expression})"
    elif constraint.kind == FOREIGN_KEY:
        body = (
            f"FOREIGN KEY ({columns}) REFERENCES {display(constraint.ref_table or '?')}"
            f" ({', '.join(constraint.ref_columns)})"
        )
        if constraint.on_delete and constraint.on_delete != "no action":
            body += f" ON DELETE {constraint.on_delete.upper()}"
        if constraint.on_update and constraint.on_update != "no action":
            body += f" ON UPDATE {constraint.on_update.upper()}"
        if constraint.match and constraint.match != "simple":
            body += f" MATCH {constraint.match.upper()}"
    elif constraint.kind == EXCLUDE:
        body = f"EXCLUDE ({constraint.expression})"
    else:
        body = f"{constraint.kind.upper()} ({columns})"
    if constraint.deferrable:
        body += " DEFERRABLE"
        if constraint.initially_deferred:
            body += " INITIALLY DEFERRED"
    if not constraint.validated:
        body += " NOT VALID"
    return body


def composite_text(type_: CompositeType) -> str:
    return "AS (" + ", ".join(f"{n} {t}" for n, t in type_.attributes) + ")"


def index_text(index: Index) -> str:
    elements = []
    for element in index.elements:
        text = element.text
        if element.collation:
            text += f' COLLATE "{element.collation}"'
        if element.opclass:
            text += f" {element.opclass}"
        if element.descending:
            text += " DESC"
        if element.nulls:
            text += f" NULLS {element.nulls.upper()}"
        elements.append(text)
    text = f"{'UNIQUE ' if index.unique else ''}{index.method} ({', '.join(elements)})"
    if index.include:
        text += f" INCLUDE ({', '.join(index.include)})"
    if index.predicate:
        text += f" WHERE {index.predicate}"
    return text


def model_to_text(model: SchemaModel) -> str:
    lines: list[str] = []
    lines.append("schemas: " + ", ".join(sorted(model.schemas)))
    for name in sorted(model.extensions):
        extension = model.extensions[name]
        lines.append(f"extension {name} (schema {extension.schema})")
    for key in sorted(model.types):
        type_ = model.types[key]
        if isinstance(type_, EnumType):
            values = ", ".join(repr(v) for v in type_.values)
            lines.append(f"enum {display(key)} ({values})")
        elif isinstance(type_, CompositeType):
            lines.append(f"type {display(key)} {composite_text(type_)}")
        elif isinstance(type_, Domain):
            text = f"domain {display(key)} {type_.base_type}"
            if type_.not_null:
                text += " NOT NULL"
            if type_.default is not None:
                text += f" DEFAULT {type_.default}"
            for check_name, expression in type_.checks:
                text += f" CONSTRAINT {check_name} CHECK ({expression})"
            lines.append(text)
    for key in sorted(model.sequences):
        sequence = model.sequences[key]
        owner = (
            f" owned by {display(sequence.owned_by[0])}.{sequence.owned_by[1]}"
            if sequence.owned_by
            else ""
        )
        lines.append(f"sequence {display(key)} {sequence.data_type}{owner}")
    for key in sorted(model.tables):
        table = model.tables[key]
        header = f"{table.kind} {display(key)}"
        if table.partition_by:
            header += f" PARTITION BY {table.partition_by}"
        if table.partition_of:
            bound = table.partition_bound or ""
            header += f" PARTITION OF {display(table.partition_of)} {bound}".rstrip()
        if table.persistence != "permanent":
            header += f" ({table.persistence})"
        lines.append(header)
        for column in table.columns.values():
            lines.append(f"  {column_text(column)}")
        for name in sorted(table.constraints):
            lines.append(f"  constraint {name} {constraint_text(table.constraints[name])}")
        for name in sorted(table.indexes):
            index = table.indexes[name]
            if index.constraint is None:
                lines.append(f"  index {name} {index_text(index)}")
        for name in sorted(table.triggers):
            trigger = table.triggers[name]
            row = " for each row" if trigger.for_each_row else ""
            lines.append(
                f"  trigger {name} {trigger.timing} {' or '.join(trigger.events)}{row}"
                f" execute function {display(trigger.function)}"
                + ("" if trigger.enabled else " (disabled)")
            )
    for key in sorted(model.views):
        view = model.views[key]
        lines.append(f"{'materialized view' if view.materialized else 'view'} {display(key)}")
        for index in _indexes_of(model, key) if view.materialized else ():
            lines.append(f"  index {index.name} {index_text(index)}")
    for key in sorted(model.functions):
        function = model.functions[key]
        kind = "procedure" if function.procedure else "function"
        returns = f" returns {function.returns}" if function.returns else ""
        lines.append(f"{kind} {display(key)}{returns}")
    for unmodelled in model.unmodelled:
        where = _location(unmodelled.location)
        lines.append(
            f"unmodelled {unmodelled.kind}: {unmodelled.reason}" + (f" ({where})" if where else "")
        )
    for problem in model.problems:
        where = _location(problem.location)
        lines.append(f"problem: {problem.message}" + (f" ({where})" if where else ""))
    return "\n".join(lines) + "\n"
