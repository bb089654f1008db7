"""Replaying statements on everything but tables' insides: schemas, DROP / RENAME / COMMENT,
SET SCHEMA, sequences, views, enum, domain and composite types, functions, triggers and extensions."""

from __future__ import annotations

import dataclasses
from typing import Any

from pglast import ast, enums

from . import names as N
from .derive import UNKNOWN, derive_columns
from .expression import Deparsed, Expression, optional
from .objects import (
    CHECK,
    DEFAULT_SCHEMA,
    CompositeType,
    Domain,
    EnumType,
    Extension,
    Function,
    Sequence,
    Table,
    Trigger,
    View,
    qualify,
)
from .replay_tables import TableStatements
from .state import AT, CT, OT


class ObjectStatements(TableStatements):
    # ----------------------------------------------------------------- schemas

    def _create_schema(self, node: Any) -> None:
        name = node.schemaname
        if name is None:
            self._unmodelled(node, "CREATE SCHEMA AUTHORIZATION without a name is not modelled")
            return
        if name in self.schemas:
            if not node.if_not_exists:
                self._problem(f"schema {name} already exists")
            return
        self.schemas.add(name)
        previous, self._current_schema = self._current_schema, name
        try:
            for element in node.schemaElts or ():
                if not self._dispatch(element):
                    self._unmodelled(element, "statement kind is not modelled")
        finally:
            self._current_schema = previous

    def _drop_schema(self, node: Any) -> None:
        cascade = node.behavior == enums.DropBehavior.DROP_CASCADE
        for item in node.objects or ():
            name = item.sval if isinstance(item, ast.String) else N.strings(item)[-1]
            if name not in self.schemas:
                if not node.missing_ok:
                    self._problem(f"schema {name} does not exist")
                continue
            prefix = name + "."
            contents = [
                k
                for k in [*self.tables, *self.views, *self.sequences, *self.types, *self.functions]
                if k.startswith(prefix)
            ]
            if contents and not cascade:
                self._problem(f"schema {name} is not empty: DROP SCHEMA needs CASCADE")
            for key in [k for k in self.tables if k.startswith(prefix)]:
                if key in self.tables:
                    self._drop_table(key, cascade=True)
            for key in [k for k in self.sequences if k.startswith(prefix)]:
                self._pop_sequence(key)
            for key in [k for k in self.views if k.startswith(prefix)]:
                self._drop_view(key)
            for collection in (self.types, self.functions):
                for key in [k for k in collection if k.startswith(prefix)]:
                    del collection[key]
                    self._relations.pop(key, None)
            for ext_name, ext in list(self.extensions.items()):
                if ext.schema == name:
                    del self.extensions[ext_name]
            self.schemas.discard(name)

    def _set(self, node: Any) -> None:
        if node.name != "search_path":
            return
        if node.kind == enums.VariableSetKind.VAR_SET_VALUE and node.args:
            for arg in node.args:
                value = getattr(getattr(arg, "val", None), "sval", None)
                if value and value != "$user":
                    self._current_schema = value
                    return
        elif node.kind in (enums.VariableSetKind.VAR_SET_DEFAULT, enums.VariableSetKind.VAR_RESET):
            self._current_schema = DEFAULT_SCHEMA

    # ----------------------------------------------------------------- DROP / RENAME / COMMENT

    def _drop(self, node: Any) -> None:
        kind = node.removeType
        if kind == OT.OBJECT_TABLE:
            self._drop_relations(node, "table")
        elif kind == OT.OBJECT_INDEX:
            self._drop_relations(node, "index")
        elif kind == OT.OBJECT_VIEW:
            self._drop_relations(node, "view")
        elif kind == OT.OBJECT_MATVIEW:
            self._drop_relations(node, "materialized view")
        elif kind == OT.OBJECT_SEQUENCE:
            self._drop_relations(node, "sequence")
        elif kind in (OT.OBJECT_TYPE, OT.OBJECT_DOMAIN):
            self._drop_types(node)
        elif kind in (OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE, OT.OBJECT_ROUTINE):
            self._drop_functions(node)
        elif kind == OT.OBJECT_TRIGGER:
            for item in node.objects or ():
                parts = N.strings(item)
                table_key = self._key(parts[-3] if len(parts) > 2 else None, parts[-2])
                if table_key not in self.tables or parts[-1] not in self.tables[table_key].triggers:
                    if not node.missing_ok:
                        self._problem(f"trigger {parts[-1]} on {table_key} does not exist")
                    continue
                del self._writable(table_key).triggers[parts[-1]]
        elif kind == OT.OBJECT_EXTENSION:
            for item in node.objects or ():
                name = item.sval
                if self.extensions.pop(name, None) is None and not node.missing_ok:
                    self._problem(f"extension {name} does not exist")
        elif kind == OT.OBJECT_SCHEMA:
            self._drop_schema(node)
        else:
            self._unmodelled(node, f"DROP {kind.name[7:]} is not modelled")

    def _drop_types(self, node: Any) -> None:
        cascade = node.behavior == enums.DropBehavior.DROP_CASCADE
        for item in node.objects or ():
            schema, name = N.split_name(item.names)
            key = self._key(schema, name)
            if key not in self.types:
                if not node.missing_ok:
                    self._problem(f"type {key} does not exist")
                continue
            del self.types[key]
            shown = name if key.startswith(DEFAULT_SCHEMA + ".") else key
            for table_key, table in list(self.tables.items()):
                users = [c.name for c in table.columns.values() if c.type in (shown, shown + "[]")]
                if users and not cascade:
                    self._problem(
                        f"cannot drop type {key}: column {users[0]} of {table_key} uses it"
                    )
                for column_name in users:
                    self._drop_column(self._writable(table_key), column_name, cascade=cascade)

    def _drop_functions(self, node: Any) -> None:
        for item in node.objects or ():
            schema, name = N.split_name(item.objname)
            prefix = self._key(schema, name) + "("
            if item.args_unspecified:
                matches = [k for k in self.functions if k.startswith(prefix)]
            else:
                args = (
                    [
                        self._format_type(p.argType)
                        for p in item.objfuncargs or ()
                        if p.mode
                        not in (
                            enums.FunctionParameterMode.FUNC_PARAM_OUT,
                            enums.FunctionParameterMode.FUNC_PARAM_TABLE,
                        )
                    ]
                    if item.objfuncargs is not None
                    else [self._format_type(t) for t in item.objargs or ()]
                )
                signature = prefix + ", ".join(args) + ")"
                matches = [signature] if signature in self.functions else []
            if not matches:
                if not node.missing_ok:
                    self._problem(f"function {prefix[:-1]} does not exist")
                continue
            for match in matches:
                function = self.functions.pop(match)
                if function.arguments:
                    continue  # trigger functions take no arguments
                self._drop_dependent_triggers(function.signature[: -len("()")], node)

    def _drop_dependent_triggers(self, function: str, node: Any) -> None:
        cascade = node.behavior == enums.DropBehavior.DROP_CASCADE
        for table_key, table in list(self.tables.items()):
            users = [t.name for t in table.triggers.values() if t.function == function]
            if users and not cascade:
                self._problem(
                    f"cannot drop function {function}(): trigger {users[0]} on {table_key} "
                    "depends on it (CASCADE would drop the trigger)"
                )
            for trigger in users:
                del self._writable(table_key).triggers[trigger]

    def _rename(self, node: Any) -> None:
        kind = node.renameType
        new = str(node.newname)
        if kind in (
            OT.OBJECT_TABLE,
            OT.OBJECT_VIEW,
            OT.OBJECT_MATVIEW,
            OT.OBJECT_SEQUENCE,
            OT.OBJECT_INDEX,
            OT.OBJECT_FOREIGN_TABLE,
        ):
            self._rename_relation(node, new)
        elif kind == OT.OBJECT_COLUMN and node.relationType == OT.OBJECT_TABLE:
            key = self._lookup_table(node.relation, bool(node.missing_ok), "RENAME COLUMN")
            if key is not None:
                self._rename_column(key, str(node.subname), new)
        elif kind == OT.OBJECT_TABCONSTRAINT:
            key = self._lookup_table(node.relation, bool(node.missing_ok), "RENAME CONSTRAINT")
            if key is not None:
                self._rename_constraint(key, str(node.subname), new)
        elif kind == OT.OBJECT_TRIGGER:
            key = self._lookup_table(node.relation, bool(node.missing_ok), "RENAME TRIGGER")
            if key is None:
                return
            table = self._writable(key)
            trigger = table.triggers.pop(str(node.subname), None)
            if trigger is None:
                self._problem(f"trigger {node.subname} on {key} does not exist")
                return
            table.triggers[new] = dataclasses.replace(trigger, name=new)
        elif kind in (OT.OBJECT_TYPE, OT.OBJECT_DOMAIN):
            names = node.object.names if isinstance(node.object, ast.TypeName) else node.object
            self._rename_type(self._names_key(names), new)
        elif kind in (OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE, OT.OBJECT_ROUTINE):
            schema, name = N.split_name(node.object.objname)
            prefix = self._key(schema, name) + "("
            matches = [k for k in self.functions if k.startswith(prefix)]
            if not matches:
                self._problem(f"function {prefix[:-1]} does not exist")
            for match in matches:
                old = self.functions.pop(match)
                function = dataclasses.replace(old, name=new)
                self.functions[function.signature] = function
                if not function.arguments:  # a trigger calls its function by OID: it follows
                    self._follow_function_rename(qualify(old.schema, old.name), new)
        elif kind == OT.OBJECT_ATTRIBUTE:
            self._rename_attribute(node)
        elif kind == OT.OBJECT_SCHEMA:
            self._unmodelled(node, "ALTER SCHEMA RENAME is not modelled")
        else:
            self._unmodelled(node, f"RENAME of {kind.name[7:]} is not modelled")

    def _rename_relation(self, node: Any, new: str) -> None:
        key = self._rel_key(node.relation)
        schema = key.split(".", 1)[0]
        new_key = qualify(schema, new)
        kind = self._relations.get(key)
        if kind is None:
            if not node.missing_ok:
                self._problem(f"relation {key} does not exist")
            return
        if new_key in self._relations:
            self._problem(f"relation {new_key} already exists")
            return
        if kind == "index" and key in self.view_indexes:
            index = self.view_indexes[key]
            self._remove_view_index(key)
            self._add_view_index(dataclasses.replace(index, name=new))
        elif kind == "index":
            table = self._writable(self._index_table[key])
            index = table.indexes[key.split(".", 1)[1]]
            if index.constraint:
                # renaming the index of a constraint renames the constraint as well
                self._rename_constraint(table.qualified_name, index.constraint, new)
            else:
                self._remove_index(table, index.name)
                self._add_index(table, dataclasses.replace(index, name=new))
        elif kind == "table":
            self._rename_table(key, new_key)
        elif kind in ("view", "materialized view"):
            view = self.views.pop(key)
            self.views[new_key] = dataclasses.replace(view, name=new)
            del self._relations[key]
            self._relations[new_key] = kind
            for index_key, index in list(self.view_indexes.items()):
                if index.table == key:
                    self.view_indexes[index_key] = dataclasses.replace(index, table=new_key)
        elif kind == "sequence":
            sequence = self._pop_sequence(key)
            assert sequence is not None
            self._put_sequence(new_key, dataclasses.replace(sequence, name=new))
            self._follow_sequence_rename(key, new_key)

    def _follow_function_rename(self, key: str, new: str) -> None:
        """Triggers that execute function `key` execute it under its new name."""
        new_key = qualify(key.split(".", 1)[0], new)
        for table_key, table in list(self.tables.items()):
            users = [t for t in table.triggers.values() if t.function == key]
            if users:
                writable = self._writable(table_key)
                for trigger in users:
                    writable.triggers[trigger.name] = dataclasses.replace(trigger, function=new_key)

    def _follow_sequence_rename(self, key: str, new_key: str) -> None:
        """Defaults name a sequence by its OID (`nextval('s'::regclass)`): after a rename,
        PostgreSQL shows them with the new name, and so does the model."""

        def shown(k: str) -> str:
            return k.split(".", 1)[1] if k.startswith(DEFAULT_SCHEMA + ".") else k

        old_default = f"nextval('{shown(key)}'::regclass)"
        new_default = Expression.of_text(f"nextval('{shown(new_key)}'::regclass)")
        for table_key, table in list(self.tables.items()):
            # only a call of nextval can print as one: the other defaults are not printed
            users = [
                c
                for c in table.columns.values()
                if c.default is not None and c.default.calls("nextval") and c.default == old_default
            ]
            if users:
                writable = self._writable(table_key)
                for column in users:
                    writable.columns[column.name] = dataclasses.replace(column, default=new_default)

    def _rename_table(self, key: str, new_key: str) -> None:
        children = self._children(key)
        incoming = self._fk_refs.pop(key, frozenset())
        table = self._writable(key)
        for name, c in table.constraints.items():
            if c.ref_table is not None and c.ref_table != key:
                self._index_fk(c.ref_table, key, name, add=False)
        del self.tables[key]
        self._owned.discard(key)
        del self._relations[key]
        table.columns = table.with_not_null_names()
        table.name = new_key.split(".", 1)[1]
        table.schema = new_key.split(".", 1)[0]
        self.tables[new_key] = table
        self._owned.add(new_key)
        self._relations[new_key] = "table"
        for name, index in list(table.indexes.items()):
            table.indexes[name] = dataclasses.replace(index, table=new_key)
            self._index_table[qualify(table.schema, name)] = new_key
        for name, trigger in list(table.triggers.items()):
            table.triggers[name] = dataclasses.replace(trigger, table=new_key)
        for name, c in list(table.constraints.items()):
            if c.ref_table == key:
                table.constraints[name] = dataclasses.replace(c, ref_table=new_key)
            elif c.ref_table is not None:
                self._index_fk(c.ref_table, new_key, name, add=True)
        renamed_incoming = set()
        for source, name in incoming:
            source = new_key if source == key else source
            other = self.tables.get(source)
            if other is not None and source != new_key and name in other.constraints:
                writable = self._writable(source)
                writable.constraints[name] = dataclasses.replace(
                    writable.constraints[name], ref_table=new_key
                )
            renamed_incoming.add((source, name))
        if renamed_incoming:
            self._fk_refs[new_key] = frozenset(renamed_incoming)
        for child in children:
            self._writable(child).partition_of = new_key
        for view_key, view in list(self.views.items()):
            if key in view.depends_on:
                self.views[view_key] = dataclasses.replace(
                    view, depends_on=(view.depends_on - {key}) | {new_key}
                )
        for seq_key in self._sequences_of(key):
            sequence = self.sequences[seq_key]
            assert sequence.owned_by is not None
            self._put_sequence(
                seq_key, dataclasses.replace(sequence, owned_by=(new_key, sequence.owned_by[1]))
            )

    def _rename_column(self, key: str, old: str, new: str) -> None:
        table = self._writable(key)
        if old not in table.columns:
            self._problem(f"column {old} of {key} does not exist")
            return
        if new in table.columns:
            self._problem(f"column {new} of {key} already exists")
            return
        table.columns = {
            (new if name == old else name): (dataclasses.replace(c, name=new) if name == old else c)
            for name, c in table.with_not_null_names().items()
        }

        def names(values: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(new if v == old else v for v in values)

        def uses(values: frozenset[str]) -> frozenset[str]:
            return frozenset(names(tuple(values)))

        for name, c in list(table.constraints.items()):
            if old in c.uses:
                expression = c.expression
                if expression is not None and c.kind == CHECK:
                    expression = expression.with_column_renamed(old, new)
                table.constraints[name] = dataclasses.replace(
                    c, columns=names(c.columns), expression=expression, uses=uses(c.uses)
                )
        for name, index in list(table.indexes.items()):
            if old in index.uses:
                elements = tuple(
                    dataclasses.replace(
                        e,
                        column=new if e.column == old else e.column,
                        expression=e.expression.with_column_renamed(old, new)
                        if e.expression
                        else None,
                    )
                    for e in index.elements
                )
                predicate = index.predicate
                if predicate is not None:
                    predicate = predicate.with_column_renamed(old, new)
                table.indexes[name] = dataclasses.replace(
                    index,
                    elements=elements,
                    predicate=predicate,
                    include=names(index.include),
                    uses=uses(index.uses),
                )
        for other, c in self.referencing(key):
            if old in c.ref_columns:
                writable = self._writable(other.qualified_name)
                writable.constraints[c.name] = dataclasses.replace(
                    c, ref_columns=names(c.ref_columns)
                )
        for seq_key in self._sequences_of(key, old):
            self._put_sequence(
                seq_key, dataclasses.replace(self.sequences[seq_key], owned_by=(key, new))
            )
        for child in self._children(key):
            self._rename_column(child, old, new)

    def _rename_constraint(self, key: str, old: str, new: str) -> None:
        table = self._writable(key)
        constraint = table.constraints.get(old)
        not_null = table.not_null_constraint(old) if constraint is None else None
        if not_null is not None:
            table.columns[not_null.name] = dataclasses.replace(not_null, not_null_name=new)
            return
        if constraint is None:
            self._problem(f"constraint {old} of {key} does not exist")
            return
        index = table.indexes.get(old) if constraint.has_index else None
        if index is not None:
            table.indexes.pop(old)
            self._relations.pop(qualify(table.schema, old), None)
            self._index_table.pop(qualify(table.schema, old), None)
        self._remove_constraint(table, old)
        self._add_constraint(table, dataclasses.replace(constraint, name=new))
        if index is not None:
            self._add_index(table, dataclasses.replace(index, name=new, constraint=new))

    def _rename_type(self, key: str, new: str) -> None:
        type_ = self.types.pop(key, None)
        if type_ is None:
            self._problem(f"type {key} does not exist")
            return
        renamed = dataclasses.replace(type_, name=new)
        self.types[renamed.qualified_name] = renamed
        old_shown = type_.name if type_.schema == DEFAULT_SCHEMA else key
        new_shown = new if type_.schema == DEFAULT_SCHEMA else renamed.qualified_name
        for table_key, table in list(self.tables.items()):
            if any(c.type in (old_shown, old_shown + "[]") for c in table.columns.values()):
                writable = self._writable(table_key)
                for name, c in list(writable.columns.items()):
                    if c.type in (old_shown, old_shown + "[]"):
                        writable.columns[name] = dataclasses.replace(
                            c, type=new_shown + c.type[len(old_shown) :]
                        )

    def _comment(self, node: Any) -> None:
        kind = node.objtype
        if kind == OT.OBJECT_TABLE:
            key = self._names_key(node.object)
            if key in self.tables:
                self._writable(key).comment = node.comment
            else:
                self._problem(f"table {key} does not exist")
        elif kind == OT.OBJECT_COLUMN:
            parts = N.strings(node.object)
            key = self._key(parts[-3] if len(parts) > 2 else None, parts[-2])
            table = self.tables.get(key)
            if table is None or parts[-1] not in table.columns:
                self._problem(f"column {parts[-1]} of {key} does not exist")
                return
            writable = self._writable(key)
            writable.columns[parts[-1]] = dataclasses.replace(
                writable.columns[parts[-1]], comment=node.comment
            )
        else:
            target = node.object
            if isinstance(target, (tuple, list)):
                name = ".".join(N.strings(target))
            elif isinstance(target, ast.String):
                name = str(target.sval)
            else:
                name = N.deparse(target) if isinstance(target, ast.Node) else str(target)
            ref = (kind.name[7:].lower().replace("_", " "), name)
            if node.comment is None:
                self.comments.pop(ref, None)
            else:
                self.comments[ref] = node.comment

    def _alter_object_schema(self, node: Any) -> None:
        new_schema = str(node.newschema)
        if new_schema not in self.schemas:
            self._problem(f"schema {new_schema} does not exist")
        if node.objectType == OT.OBJECT_TABLE:
            key = self._lookup_table(node.relation, bool(node.missing_ok), "SET SCHEMA")
            if key is None:
                return
            table = self.tables[key]
            for name in list(table.indexes):
                self._relations.pop(qualify(table.schema, name), None)
                self._index_table.pop(qualify(table.schema, name), None)
                self._relations[qualify(new_schema, name)] = "index"
                self._index_table[qualify(new_schema, name)] = key
            old_schema = table.schema
            self._rename_table(key, qualify(new_schema, table.name))
            new_key = qualify(new_schema, table.name)
            for name in list(self.tables[new_key].indexes):
                self._index_table[qualify(new_schema, name)] = new_key
            for name in table.constraints:
                for schema, delta in ((old_schema, -1), (new_schema, 1)):
                    ref = (schema, name)
                    count = self._constraint_names.get(ref, 0) + delta
                    if count > 0:
                        self._constraint_names[ref] = count
                    else:
                        self._constraint_names.pop(ref, None)
        elif node.objectType in (OT.OBJECT_TYPE, OT.OBJECT_DOMAIN):
            key = self._names_key(
                node.object.names if isinstance(node.object, ast.TypeName) else node.object
            )
            type_ = self.types.pop(key, None)
            if type_ is None:
                self._problem(f"type {key} does not exist")
                return
            moved = dataclasses.replace(type_, schema=new_schema)
            self.types[moved.qualified_name] = moved
        else:
            self._unmodelled(node, f"SET SCHEMA of {node.objectType.name[7:]} is not modelled")

    # ----------------------------------------------------------------- sequences, views

    def _create_sequence(self, node: Any) -> None:
        key = self._rel_key(node.sequence)
        if key in self._relations:
            if not node.if_not_exists:
                self._problem(f"relation {key} already exists")
            return
        schema, name = key.split(".", 1)
        data_type, owned_by = "bigint", None
        for option in node.options or ():
            if option.defname == "as":
                data_type = self._format_type(option.arg)
            elif option.defname == "owned_by":
                owned_by = self._owned_by(option.arg)
        self._put_sequence(
            key, Sequence(schema, name, data_type, owned_by, location=self._location)
        )

    def _owned_by(self, parts_nodes: Any) -> tuple[str, str] | None:
        parts = N.strings(parts_nodes)
        if parts == ["none"] or len(parts) < 2:
            return None
        return (self._key(parts[-3] if len(parts) > 2 else None, parts[-2]), parts[-1])

    def _alter_sequence(self, node: Any) -> None:
        key = self._rel_key(node.sequence)
        sequence = self.sequences.get(key)
        if sequence is None:
            if not node.missing_ok:
                self._problem(f"sequence {key} does not exist")
            return
        for option in node.options or ():
            if option.defname == "as":
                sequence = dataclasses.replace(sequence, data_type=self._format_type(option.arg))
            elif option.defname == "owned_by":
                sequence = dataclasses.replace(sequence, owned_by=self._owned_by(option.arg))
        self._put_sequence(key, sequence)

    def _create_view(self, node: Any) -> None:
        key = self._rel_key(node.view)
        if key in self._relations and not (node.replace and key in self.views):
            self._problem(f"relation {key} already exists")
            return
        schema, name = key.split(".", 1)
        self.views[key] = View(
            schema,
            name,
            Deparsed(node.query, Deparsed.key_of(self._location)),
            depends_on=self._reads(node.query),
            columns=tuple(derive_columns(node.query, self._known_table, self._format_type)),
            location=self._location,
        )
        self._relations[key] = "view"

    def _reads(self, query: Any) -> frozenset[str]:
        """Tables and views a query names that the model knows (CTE names are not relations)."""
        found = set()
        for rv in N.nodes_of(query, ast.RangeVar):
            key = self._rel_key(rv)
            if key in self.tables or key in self.views:
                found.add(key)
        return frozenset(found)

    def _create_table_as(self, node: Any) -> None:
        key = self._rel_key(node.into.rel)
        if key in self._relations:
            if not node.if_not_exists:
                self._problem(f"relation {key} already exists")
            return
        schema, name = key.split(".", 1)
        if node.objtype == OT.OBJECT_MATVIEW:
            self.views[key] = View(
                schema,
                name,
                Deparsed(node.query, Deparsed.key_of(self._location)),
                materialized=True,
                depends_on=self._reads(node.query),
                columns=tuple(derive_columns(node.query, self._known_table, self._format_type)),
                location=self._location,
            )
            self._relations[key] = "materialized view"
        else:
            table = Table(schema, name, location=self._location)
            columns = derive_columns(node.query, self._known_table, self._format_type)
            given = N.strings(node.into.colNames)
            for i, column in enumerate(columns):
                name = given[i] if i < len(given) else column.name
                table.columns[name] = dataclasses.replace(
                    column, name=name, location=self._location
                )
            self.tables[key] = table
            self._owned.add(key)
            self._relations[key] = "table"
            unknown = [c.name for c in table.columns.values() if c.type == UNKNOWN]
            if not columns:
                self._unmodelled(node, f"CREATE TABLE AS: the columns of {key} are not derived")
            elif unknown:
                self._unmodelled(
                    node,
                    f"CREATE TABLE AS: the types of {', '.join(unknown)} in {key} are not derived",
                )

    def _known_table(self, rv: Any) -> Table | None:
        """A table, or a view seen as a table of its columns, for deriving query columns."""
        key = self._rel_key(rv)
        view = self.views.get(key)
        if view is not None:
            schema, name = key.split(".", 1)
            return Table(schema, name, columns={c.name: c for c in view.columns})
        return self.tables.get(key)

    # ----------------------------------------------------------------- types

    def _create_enum(self, node: Any) -> None:
        key = self._names_key(node.typeName)
        if key in self.types:
            self._problem(f"type {key} already exists")
            return
        schema, name = key.split(".", 1)
        values = tuple(v.sval for v in node.vals or ())
        self.types[key] = EnumType(schema, name, values, location=self._location)

    def _alter_enum(self, node: Any) -> None:
        key = self._names_key(node.typeName)
        enum = self.types.get(key)
        if not isinstance(enum, EnumType):
            self._problem(f"enum type {key} does not exist")
            return
        values = list(enum.values)
        if node.oldVal:
            if node.oldVal not in values:
                self._problem(f"{node.oldVal!r} is not a value of enum {key}")
                return
            values[values.index(node.oldVal)] = str(node.newVal)
        else:
            new = str(node.newVal)
            if new in values:
                if not node.skipIfNewValExists:
                    self._problem(f"enum label {new!r} already exists in {key}")
                return
            if node.newValNeighbor and node.newValNeighbor in values:
                position = values.index(node.newValNeighbor) + (1 if node.newValIsAfter else 0)
                values.insert(position, new)
            else:
                values.append(new)
        self.types[key] = dataclasses.replace(enum, values=tuple(values))

    def _create_domain(self, node: Any) -> None:
        key = self._names_key(node.domainname)
        if key in self.types:
            self._problem(f"type {key} already exists")
            return
        schema, name = key.split(".", 1)
        domain = Domain(schema, name, self._format_type(node.typeName), location=self._location)
        for constraint in node.constraints or ():
            domain = self._domain_constraint(domain, constraint)
        self.types[key] = domain

    def _create_composite(self, node: Any) -> None:
        key = self._rel_key(node.typevar)
        # a composite type is a row type, like a table's: the names are one namespace
        if key in self.types or key in self._relations:
            self._problem(f"type {key} already exists")
            return
        schema, name = key.split(".", 1)
        attributes = tuple(
            (str(c.colname), self._format_type(c.typeName)) for c in node.coldeflist or ()
        )
        self.types[key] = CompositeType(schema, name, attributes, location=self._location)

    def _alter_table(self, node: Any) -> None:
        if node.objtype == OT.OBJECT_TYPE:
            self._alter_composite(node)
        else:
            super()._alter_table(node)

    def _alter_composite(self, node: Any) -> None:
        """`ALTER TYPE name ADD | DROP | ALTER ATTRIBUTE ...` (parsed as an ALTER TABLE)."""
        key = self._rel_key(node.relation)
        type_ = self.types.get(key)
        if not isinstance(type_, CompositeType):
            self._problem(f"composite type {key} does not exist")
            return
        attributes = dict(type_.attributes)
        for cmd in node.cmds or ():
            name = str(cmd.name or getattr(cmd.def_, "colname", "") or "")
            if cmd.subtype == AT.AT_AddColumn:
                if name in attributes:
                    self._problem(f"attribute {name} of type {key} already exists")
                    continue
                attributes[name] = self._format_type(cmd.def_.typeName)
            elif cmd.subtype == AT.AT_DropColumn:
                if attributes.pop(name, None) is None and not cmd.missing_ok:
                    self._problem(f"attribute {name} of type {key} does not exist")
            elif cmd.subtype == AT.AT_AlterColumnType:
                if name not in attributes:
                    self._problem(f"attribute {name} of type {key} does not exist")
                    continue
                attributes[name] = self._format_type(cmd.def_.typeName)
            else:
                self._unmodelled(cmd, f"ALTER TYPE {cmd.subtype.name[3:]} is not modelled")
        self.types[key] = dataclasses.replace(type_, attributes=tuple(attributes.items()))

    def _rename_attribute(self, node: Any) -> None:
        key = self._rel_key(node.relation)
        type_ = self.types.get(key)
        old, new = str(node.subname), str(node.newname)
        names = [n for n, _ in type_.attributes] if isinstance(type_, CompositeType) else []
        if type_ is None or old not in names:
            if not node.missing_ok:
                self._problem(f"attribute {old} of type {key} does not exist")
            return
        assert isinstance(type_, CompositeType)
        attributes = tuple((new if n == old else n, t) for n, t in type_.attributes)
        self.types[key] = dataclasses.replace(type_, attributes=attributes)

    def _domain_constraint(self, domain: Domain, constraint: Any) -> Domain:
        kind = constraint.contype
        if kind == CT.CONSTR_NOTNULL:
            return dataclasses.replace(domain, not_null=True)
        if kind == CT.CONSTR_NULL:
            return dataclasses.replace(domain, not_null=False)
        if kind == CT.CONSTR_DEFAULT:
            return dataclasses.replace(domain, default=Expression(constraint.raw_expr))
        if kind == CT.CONSTR_CHECK:
            name = (
                str(constraint.conname)
                if constraint.conname
                else N.choose_name(
                    domain.name, None, "check", lambda n: any(n == c for c, _ in domain.checks)
                )
            )
            return dataclasses.replace(
                domain, checks=(*domain.checks, (name, Expression(constraint.raw_expr)))
            )
        return domain

    def _alter_domain(self, node: Any) -> None:
        key = self._names_key(node.typeName)
        domain = self.types.get(key)
        if not isinstance(domain, Domain):
            if not node.missing_ok:
                self._problem(f"domain {key} does not exist")
            return
        sub = node.subtype
        if sub == "T":
            domain = dataclasses.replace(domain, default=optional(node.def_))
        elif sub == "N":
            domain = dataclasses.replace(domain, not_null=False)
        elif sub == "O":
            domain = dataclasses.replace(domain, not_null=True)
        elif sub == "C":
            domain = self._domain_constraint(domain, node.def_)
        elif sub == "X":
            domain = dataclasses.replace(
                domain, checks=tuple(c for c in domain.checks if c[0] != node.name)
            )
        elif sub != "V":
            self._unmodelled(node, f"ALTER DOMAIN subcommand {sub!r} is not modelled")
        self.types[key] = domain

    # ----------------------------------------------------------------- functions, triggers

    def _create_function(self, node: Any) -> None:
        schema, name = N.split_name(node.funcname)
        mode = enums.FunctionParameterMode
        arguments = tuple(
            self._format_type(p.argType)
            for p in node.parameters or ()
            if p.mode not in (mode.FUNC_PARAM_OUT, mode.FUNC_PARAM_TABLE)
        )
        returns = None
        if node.returnType is not None:
            returns = self._format_type(node.returnType)
            if node.returnType.setof:
                returns = "SETOF " + returns
        language = None
        for option in node.options or ():
            if option.defname == "language":
                language = option.arg.sval
        function = Function(
            schema or self._current_schema,
            name,
            arguments,
            returns,
            language,
            bool(node.is_procedure),
            location=self._location,
        )
        if function.signature in self.functions and not node.replace:
            self._problem(f"function {function.signature} already exists")
            return
        self.functions[function.signature] = function

    def _create_trigger(self, node: Any) -> None:
        key = self._lookup_table(node.relation, False, "CREATE TRIGGER")
        if key is None:
            return
        table = self._writable(key)
        name = str(node.trigname)
        if name in table.triggers and not node.replace:
            self._problem(f"trigger {name} for {key} already exists")
            return
        timing = "before" if node.timing & 2 else "instead of" if node.timing & 64 else "after"
        events = tuple(
            word
            for bit, word in ((4, "insert"), (16, "update"), (8, "delete"), (32, "truncate"))
            if node.events & bit
        )
        schema, function = N.split_name(node.funcname)
        table.triggers[name] = Trigger(
            name,
            key,
            self._key(schema, function),
            timing,
            events,
            bool(node.row),
            location=self._location,
        )

    def _create_extension(self, node: Any) -> None:
        name = str(node.extname)
        if name in self.extensions:
            if not node.if_not_exists:
                self._problem(f"extension {name} already exists")
            return
        schema, version = self._current_schema, None
        for option in node.options or ():
            if option.defname == "schema":
                schema = option.arg.sval
            elif option.defname == "new_version":
                version = option.arg.sval
        self.extensions[name] = Extension(name, schema, version, location=self._location)

    def _alter_extension(self, node: Any) -> None:
        extension = self.extensions.get(str(node.extname))
        if extension is None:
            self._problem(f"extension {node.extname} does not exist")
            return
        for option in node.options or ():
            if option.defname == "new_version":
                self.extensions[extension.name] = dataclasses.replace(
                    extension, version=option.arg.sval
                )
