"""`SchemaModel`: the database as it would be after replaying migration statements.

The model is replayed from pglast statement nodes, one at a time (`apply`). Handlers take their
node as `Any`: pglast's stubs declare every field Optional, while the parser always sets the
fields a statement kind needs, so asserting each one would bury the logic. Statements it does
not understand are recorded in `unmodelled` with the reason, statements PostgreSQL would reject
given the model (dropping a missing table without IF EXISTS, ...) in `problems`; neither raises,
because a linter must keep going over a history it only partly understands.

`copy()` is cheap: tables are shared between copies and cloned on their first write (see
`_writable`), and every other object is immutable. The engine snapshots the model before and
after every migration, so the cost of a migration stays proportional to what it changes, plus a
few C-level dictionary copies.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pglast import ast, enums

from . import names as N
from .objects import (
    CHECK,
    DEFAULT_SCHEMA,
    EXCLUDE,
    FOREIGN_KEY,
    PRIMARY_KEY,
    UNIQUE,
    Column,
    Constraint,
    Domain,
    EnumType,
    Extension,
    Function,
    Index,
    IndexElement,
    Problem,
    Sequence,
    Table,
    Trigger,
    Unmodelled,
    View,
    qualify,
)

LOG = logging.getLogger(__name__)

OT = enums.ObjectType
AT = enums.AlterTableType
CT = enums.ConstrType

_FK_ACTIONS = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
_FK_MATCH = {"s": "simple", "f": "full", "p": "partial"}

# Statements that cannot change the schema: they are skipped, not reported as unmodelled.
_NEUTRAL = (
    ast.InsertStmt,
    ast.UpdateStmt,
    ast.DeleteStmt,
    ast.SelectStmt,
    ast.MergeStmt,
    ast.TransactionStmt,
    ast.VariableShowStmt,
    ast.CopyStmt,
    ast.VacuumStmt,
    ast.ExplainStmt,
    ast.NotifyStmt,
    ast.ListenStmt,
    ast.UnlistenStmt,
    ast.LockStmt,
    ast.CheckPointStmt,
    ast.ClusterStmt,
    ast.ReindexStmt,
    ast.RefreshMatViewStmt,
    ast.TruncateStmt,
    ast.DiscardStmt,
    ast.PrepareStmt,
    ast.ExecuteStmt,
    ast.DeallocateStmt,
    ast.CallStmt,
)
_UNMODELLED_REASONS: dict[type, str] = {
    ast.GrantStmt: "privileges are not modelled",
    ast.GrantRoleStmt: "roles are not modelled",
    ast.CreateRoleStmt: "roles are not modelled",
    ast.AlterRoleStmt: "roles are not modelled",
    ast.DropRoleStmt: "roles are not modelled",
    ast.AlterDefaultPrivilegesStmt: "privileges are not modelled",
    ast.AlterOwnerStmt: "ownership is not modelled",
    ast.CreatePolicyStmt: "row-level security policies are not modelled",
    ast.AlterPolicyStmt: "row-level security policies are not modelled",
    ast.DoStmt: "the body of a DO block is not interpreted",
    ast.RuleStmt: "rules are not modelled",
    ast.CompositeTypeStmt: "composite types are not modelled",
    ast.CreateRangeStmt: "range types are not modelled",
    ast.CreateStatsStmt: "extended statistics are not modelled",
    ast.CreatePublicationStmt: "publications are not modelled",
    ast.CreateForeignTableStmt: "foreign tables are not modelled",
    ast.CreateEventTrigStmt: "event triggers are not modelled",
}


def _loc_text(location: Any) -> str | None:
    if location is None:
        return None
    source = getattr(location, "source", None)
    path = getattr(source, "display", None) or getattr(location, "path", None)
    line = getattr(location, "line", None)
    if path is not None and line is not None:
        return f"{path}:{line}"
    if isinstance(location, tuple):
        return ":".join(str(part) for part in location)
    return str(location)


class SchemaModel:
    """Schemas, tables, indexes, sequences, types, views, functions and extensions."""

    def __init__(self) -> None:
        self.schemas: set[str] = {DEFAULT_SCHEMA}
        self.tables: dict[str, Table] = {}
        self.views: dict[str, View] = {}
        self.sequences: dict[str, Sequence] = {}
        self.types: dict[str, EnumType | Domain] = {}
        self.functions: dict[str, Function] = {}
        self.extensions: dict[str, Extension] = {}
        self.comments: dict[tuple[str, str], str] = {}
        self.unmodelled: list[Unmodelled] = []
        self.problems: list[Problem] = []
        # relation namespace (tables, views, sequences, indexes share it): qualified name -> kind
        self._relations: dict[str, str] = {}
        # qualified index name -> qualified table name
        self._index_table: dict[str, str] = {}
        # (schema, constraint name) -> how many tables use it; PostgreSQL picks generated
        # constraint names unique per schema
        self._constraint_names: dict[tuple[str, str], int] = {}
        # reverse indexes, so that drops and renames cost what they touch, not the whole model:
        # referenced table -> {(referencing table, FK name)}; table -> sequences it owns
        self._fk_refs: dict[str, frozenset[tuple[str, str]]] = {}
        self._owned_sequences: dict[str, frozenset[str]] = {}
        self._owned: set[str] = set()
        self._current_schema = DEFAULT_SCHEMA
        self._location: Any = None

    # ----------------------------------------------------------------- public API

    def copy(self) -> SchemaModel:
        """An independent model sharing every unchanged object with this one."""
        new = SchemaModel.__new__(SchemaModel)
        new.schemas = set(self.schemas)
        new.tables = dict(self.tables)
        new.views = dict(self.views)
        new.sequences = dict(self.sequences)
        new.types = dict(self.types)
        new.functions = dict(self.functions)
        new.extensions = dict(self.extensions)
        new.comments = dict(self.comments)
        new.unmodelled = list(self.unmodelled)
        new.problems = list(self.problems)
        new._relations = dict(self._relations)
        new._index_table = dict(self._index_table)
        new._constraint_names = dict(self._constraint_names)
        new._fk_refs = dict(self._fk_refs)
        new._owned_sequences = dict(self._owned_sequences)
        new._current_schema = self._current_schema
        new._location = None
        # both models now share every table: the next write on either side clones it
        new._owned = set()
        self._owned = set()
        return new

    def apply(self, node: Any, *, location: Any = None) -> None:
        """Replay one statement. Never raises for what it does not understand."""
        if isinstance(node, ast.RawStmt):
            node = node.stmt
        self._location = location
        handler = _HANDLERS.get(type(node))
        try:
            if handler is not None:
                handler(self, node)
            elif isinstance(node, _NEUTRAL):
                pass
            else:
                reason = _UNMODELLED_REASONS.get(type(node), "statement kind is not modelled")
                self._unmodelled(node, reason)
        except Exception as error:
            LOG.debug("schema model failed on %s", type(node).__name__, exc_info=True)
            self._unmodelled(node, f"internal error while modelling: {error}")
        finally:
            self._location = None

    def apply_all(self, nodes: Iterable[Any], *, location: Any = None) -> None:
        for node in nodes:
            self.apply(node, location=location)

    def table(self, name: str) -> Table | None:
        """The table called `name` (`users` or `public.users`)."""
        return self.tables.get(self.qualify(name))

    def qualify(self, name: str) -> str:
        """`public.users` for `users`; qualified names are returned as they are."""
        if "." in name:
            return name
        return qualify(self._current_schema, N.truncate_identifier(name))

    def index(self, name: str) -> Index | None:
        key = self.qualify(name)
        table = self._index_table.get(key)
        if table is None:
            return None
        return self.tables[table].indexes.get(key.split(".", 1)[1])

    @property
    def indexes(self) -> dict[str, Index]:
        """Every index by qualified name, including those backing constraints."""
        result = {}
        for key, table_key in self._index_table.items():
            result[key] = self.tables[table_key].indexes[key.split(".", 1)[1]]
        return result

    def type(self, name: str) -> EnumType | Domain | None:
        return self.types.get(self.qualify(name))

    def sequence(self, name: str) -> Sequence | None:
        return self.sequences.get(self.qualify(name))

    def view(self, name: str) -> View | None:
        return self.views.get(self.qualify(name))

    def partitions(self, name: str) -> list[Table]:
        key = self.qualify(name)
        return [t for t in self.tables.values() if t.partition_of == key]

    def referencing(self, name: str) -> list[tuple[Table, Constraint]]:
        """Foreign keys (with their tables) that reference table `name`."""
        key = self.qualify(name)
        found = []
        for table_key, constraint_name in sorted(self._fk_refs.get(key, ())):
            table = self.tables.get(table_key)
            constraint = table.constraints.get(constraint_name) if table else None
            if table is not None and constraint is not None and constraint.ref_table == key:
                found.append((table, constraint))
        return found

    def to_dict(self) -> dict[str, Any]:
        from .render import model_to_dict

        return model_to_dict(self)

    def to_text(self) -> str:
        from .render import model_to_text

        return model_to_text(self)

    # ----------------------------------------------------------------- bookkeeping

    def _unmodelled(self, node: Any, reason: str) -> None:
        kind = type(node).__name__ if not isinstance(node, str) else node
        self.unmodelled.append(Unmodelled(kind, reason, self._location))

    def _problem(self, message: str) -> None:
        self.problems.append(Problem(message, self._location))

    def _key(self, schema: str | None, name: str) -> str:
        # PostgreSQL truncates identifiers longer than 63 bytes (with a NOTICE)
        return f"{schema or self._current_schema}.{N.truncate_identifier(name)}"

    def _rel_key(self, rv: Any) -> str:
        return self._key(rv.schemaname, str(rv.relname))

    def _names_key(self, nodes: Any) -> str:
        schema, name = N.split_name(nodes)
        return self._key(schema, name)

    def _writable(self, key: str) -> Table:
        """The table to change in place: cloned first if another model may share it."""
        if key not in self._owned:
            self.tables[key] = self.tables[key].clone()
            self._owned.add(key)
        return self.tables[key]

    def _lookup_table(self, rv: Any, missing_ok: bool, what: str) -> str | None:
        key = self._rel_key(rv)
        if key in self.tables:
            return key
        if not missing_ok:
            kind = self._relations.get(key)
            if kind is None:
                self._problem(f"{what}: table {key} does not exist")
            else:
                self._unmodelled(what, f"{kind} {key} is not a table")
        return None

    def _user_type(self, name: str) -> str | None:
        key = self._key(None, name)
        if key in self.types:
            return key
        for qualified in self.types:
            if qualified.endswith("." + name):
                return qualified
        return None

    def _format_type(self, type_name: ast.TypeName) -> str:
        return N.format_type(type_name, self._user_type)

    def _relation_taken(self, schema: str) -> Callable[[str], bool]:
        return lambda name: f"{schema}.{name}" in self._relations

    def _constraint_taken(self, schema: str) -> Callable[[str], bool]:
        return lambda name: (schema, name) in self._constraint_names

    def _add_constraint(self, table: Table, constraint: Constraint) -> None:
        table.constraints[constraint.name] = constraint
        ref = (table.schema, constraint.name)
        self._constraint_names[ref] = self._constraint_names.get(ref, 0) + 1
        if constraint.ref_table is not None:
            self._index_fk(constraint.ref_table, table.qualified_name, constraint.name, add=True)

    def _index_fk(self, target: str, source: str, name: str, *, add: bool) -> None:
        entries = self._fk_refs.get(target, frozenset())
        entries = entries | {(source, name)} if add else entries - {(source, name)}
        if entries:
            self._fk_refs[target] = entries
        else:
            self._fk_refs.pop(target, None)

    def _replace_constraint(self, table: Table, constraint: Constraint) -> None:
        """Change a constraint in place (same name), keeping the FK index right."""
        old = table.constraints.get(constraint.name)
        if old is not None and old.ref_table is not None:
            self._index_fk(old.ref_table, table.qualified_name, old.name, add=False)
        table.constraints[constraint.name] = constraint
        if constraint.ref_table is not None:
            self._index_fk(constraint.ref_table, table.qualified_name, constraint.name, add=True)

    def _put_sequence(self, key: str, sequence: Sequence) -> None:
        old = self.sequences.get(key)
        if old is not None and old.owned_by:
            self._index_sequence(old.owned_by[0], key, add=False)
        self.sequences[key] = sequence
        self._relations[key] = "sequence"
        if sequence.owned_by:
            self._index_sequence(sequence.owned_by[0], key, add=True)

    def _pop_sequence(self, key: str) -> Sequence | None:
        sequence = self.sequences.pop(key, None)
        self._relations.pop(key, None)
        if sequence is not None and sequence.owned_by:
            self._index_sequence(sequence.owned_by[0], key, add=False)
        return sequence

    def _index_sequence(self, table: str, sequence: str, *, add: bool) -> None:
        entries = self._owned_sequences.get(table, frozenset())
        entries = entries | {sequence} if add else entries - {sequence}
        if entries:
            self._owned_sequences[table] = entries
        else:
            self._owned_sequences.pop(table, None)

    def _sequences_of(self, table: str, column: str | None = None) -> list[str]:
        """Sequences owned by `table` (by `table.column` when given)."""
        return sorted(
            key
            for key in self._owned_sequences.get(table, ())
            if column is None or self.sequences[key].owned_by == (table, column)
        )

    def _remove_constraint(self, table: Table, name: str) -> Constraint | None:
        constraint = table.constraints.pop(name, None)
        if constraint is None:
            return None
        if constraint.ref_table is not None:
            self._index_fk(constraint.ref_table, table.qualified_name, name, add=False)
        ref = (table.schema, name)
        left = self._constraint_names.get(ref, 1) - 1
        if left:
            self._constraint_names[ref] = left
        else:
            self._constraint_names.pop(ref, None)
        if constraint.has_index and name in table.indexes:
            self._remove_index(table, name)
        return constraint

    def _add_index(self, table: Table, index: Index) -> None:
        table.indexes[index.name] = index
        key = qualify(table.schema, index.name)
        self._relations[key] = "index"
        self._index_table[key] = table.qualified_name

    def _remove_index(self, table: Table, name: str) -> None:
        index = table.indexes.pop(name, None)
        if index is None:
            return
        key = qualify(table.schema, name)
        self._relations.pop(key, None)
        self._index_table.pop(key, None)
        if index.constraint and index.constraint in table.constraints:
            self._remove_constraint(table, index.constraint)

    def _children(self, key: str) -> list[str]:
        """Partitions of `key`; only a partitioned table has any, so others cost nothing."""
        table = self.tables.get(key)
        if table is None or table.partition_by is None:
            return []
        return [k for k, t in self.tables.items() if t.partition_of == key]

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
                handler = _HANDLERS.get(type(element))
                if handler is None:
                    self._unmodelled(element, "statement kind is not modelled")
                else:
                    handler(self, element)
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
            for collection in (self.views, self.types, self.functions):
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

    # ----------------------------------------------------------------- tables

    def _create_table(self, node: Any) -> None:
        rv = node.relation
        key = self._rel_key(rv)
        schema, name = key.split(".", 1)
        if key in self._relations:
            if not node.if_not_exists:
                self._problem(f"relation {key} already exists")
            return
        if schema not in self.schemas:
            self._problem(f"schema {schema} does not exist")
        persistence = {"u": "unlogged", "t": "temporary"}.get(str(rv.relpersistence), "permanent")
        table = Table(schema=schema, name=name, persistence=persistence, location=self._location)
        self.tables[key] = table
        self._owned.add(key)
        self._relations[key] = "table"
        if node.ofTypename is not None:
            self._unmodelled(node, "CREATE TABLE OF type: the columns of the type are not copied")
        if node.partbound is not None and node.inhRelations:
            parent_key = self._rel_key(node.inhRelations[0])
            parent = self.tables.get(parent_key)
            table.partition_of = parent_key
            table.partition_bound = N.deparse(node.partbound)
            if parent is None:
                self._problem(f"partitioned table {parent_key} does not exist")
            else:
                table.columns.update(
                    (c.name, dataclasses.replace(c, identity=None, comment=None))
                    for c in parent.columns.values()
                )
        elif node.inhRelations:
            for parent_rv in node.inhRelations:
                parent = self.tables.get(self._rel_key(parent_rv))
                if parent is not None:
                    table.columns.update(parent.columns)
            self._unmodelled(node, "INHERITS: only the inherited columns are modelled")
        pending: list[tuple[str | None, ast.Constraint]] = []
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                column, constraints = self._column(table, element)
                if element.colname in table.columns and table.partition_of:
                    # column options of a partition refine the inherited column
                    inherited = table.columns[element.colname]
                    column = dataclasses.replace(
                        inherited,
                        not_null=inherited.not_null or column.not_null,
                        default=column.default or inherited.default,
                    )
                table.columns[column.name] = column
                pending.extend(constraints)
            elif isinstance(element, ast.Constraint):
                pending.append((None, element))
            elif isinstance(element, ast.TableLikeClause):
                self._like(table, element)
        if node.partspec is not None:
            strategy = {"r": "RANGE", "l": "LIST", "h": "HASH"}[str(node.partspec.strategy.value)]
            params = ", ".join(
                p.name if p.name else f"({N.deparse(p.expr)})" for p in node.partspec.partParams
            )
            table.partition_by = f"{strategy} ({params})"
        # PostgreSQL names CHECK constraints first, then indexes (primary key first), then FKs
        order = {
            CT.CONSTR_CHECK: 0,
            CT.CONSTR_PRIMARY: 1,
            CT.CONSTR_UNIQUE: 2,
            CT.CONSTR_EXCLUSION: 2,
            CT.CONSTR_FOREIGN: 3,
        }
        pending.sort(key=lambda pair: order.get(pair[1].contype, 4) if pair[1].contype else 4)
        for column_name, constraint_node, given_name in _without_redundant_indexes(pending):
            self._add_constraint_node(
                table, constraint_node, column_name, creating=True, name=given_name
            )
        if table.partition_of and table.partition_of in self.tables:
            self._inherit_from_parent(table, self.tables[table.partition_of])

    def _like(self, table: Table, clause: Any) -> None:
        source = self.tables.get(self._rel_key(clause.relation))
        if source is None:
            self._problem(f"LIKE: table {self._rel_key(clause.relation)} does not exist")
            return
        options = int(clause.options)
        with_defaults = bool(options & enums.TableLikeOption.CREATE_TABLE_LIKE_DEFAULTS)
        for column in source.columns.values():
            table.columns[column.name] = dataclasses.replace(
                column,
                default=column.default if with_defaults else None,
                identity=column.identity
                if options & enums.TableLikeOption.CREATE_TABLE_LIKE_IDENTITY
                else None,
                generated=column.generated
                if options & enums.TableLikeOption.CREATE_TABLE_LIKE_GENERATED
                else None,
                comment=None,
            )
        rest = options & ~(
            enums.TableLikeOption.CREATE_TABLE_LIKE_DEFAULTS
            | enums.TableLikeOption.CREATE_TABLE_LIKE_IDENTITY
            | enums.TableLikeOption.CREATE_TABLE_LIKE_GENERATED
        )
        if rest:
            self._unmodelled(
                "TableLikeClause",
                "LIKE ... INCLUDING constraints, indexes, comments or storage: only columns, "
                "defaults, identity and generated expressions are copied",
            )

    def _inherit_from_parent(self, child: Table, parent: Table) -> None:
        """A new partition gets its parent's CHECK and FK constraints and a copy of each index."""
        for constraint in parent.constraints.values():
            if constraint.kind in (CHECK, FOREIGN_KEY) and constraint.name not in child.constraints:
                self._add_constraint(child, constraint)
        for index in parent.indexes.values():
            self._clone_index_to(child, index)

    def _clone_index_to(self, child: Table, index: Index) -> None:
        parent_constraint = None
        if index.constraint:
            parent_constraint = self.tables[index.table].constraints.get(index.constraint)
        if index.primary:
            label = "pkey"
        elif parent_constraint is not None:
            label = "excl" if parent_constraint.kind == EXCLUDE else "key"
        else:
            label = "idx"
        column_names = [
            e.column or N.figure_colname_text(e.expression or "") for e in index.elements
        ]
        name2 = None if index.primary else N.column_name_addition(column_names)
        name = N.choose_name(child.name, name2, label, self._relation_taken(child.schema))
        clone = dataclasses.replace(
            index, name=name, table=child.qualified_name, constraint=None, location=self._location
        )
        if parent_constraint is not None:
            clone = dataclasses.replace(clone, constraint=name)
            self._add_constraint(child, dataclasses.replace(parent_constraint, name=name))
        self._add_index(child, clone)
        for grandchild in self._children(child.qualified_name):
            self._clone_index_to(self._writable(grandchild), clone)

    def _column(
        self, table: Table, element: ast.ColumnDef
    ) -> tuple[Column, list[tuple[str, ast.Constraint]]]:
        """A column from its definition, and the table constraints written on it."""
        name = N.truncate_identifier(str(element.colname))
        serial = N.serial_base(element.typeName) if element.typeName else None
        type_text = serial or (self._format_type(element.typeName) if element.typeName else "")
        not_null = bool(element.is_not_null)
        default = N.default_text(element.raw_default) if element.raw_default is not None else None
        identity = generated = None
        constraints: list[tuple[str, ast.Constraint]] = []
        for constraint in element.constraints or ():
            kind = constraint.contype
            if kind == CT.CONSTR_NOTNULL:
                not_null = True
            elif kind == CT.CONSTR_NULL:
                not_null = False
            elif kind == CT.CONSTR_DEFAULT:
                default = N.default_text(constraint.raw_expr)
            elif kind == CT.CONSTR_IDENTITY:
                identity = "always" if constraint.generated_when == "a" else "by default"
                not_null = True
            elif kind == CT.CONSTR_GENERATED:
                generated = N.deparse(constraint.raw_expr)
            elif kind == CT.CONSTR_PRIMARY:
                not_null = True
                constraints.append((name, constraint))
            elif kind in (
                CT.CONSTR_CHECK,
                CT.CONSTR_UNIQUE,
                CT.CONSTR_FOREIGN,
                CT.CONSTR_EXCLUSION,
            ):
                constraints.append((name, constraint))
        collation = None
        if element.collClause is not None:
            collation = ".".join(N.strings(element.collClause.collname))
        if serial is not None or identity is not None:
            seq_name = N.choose_name(table.name, name, "seq", self._relation_taken(table.schema))
            seq_key = qualify(table.schema, seq_name)
            self._put_sequence(
                seq_key,
                Sequence(
                    table.schema,
                    seq_name,
                    data_type=serial or type_text,
                    owned_by=(table.qualified_name, name),
                    identity=identity is not None,
                    location=self._location,
                ),
            )
            if serial is not None:
                shown = seq_name if table.schema == DEFAULT_SCHEMA else seq_key
                default = f"nextval('{shown}'::regclass)"
                not_null = True
        column = Column(
            name=name,
            type=type_text,
            not_null=not_null,
            default=default,
            identity=identity,
            generated=generated,
            collation=collation,
            location=self._location,
        )
        return column, constraints

    def _add_constraint_node(
        self,
        table: Table,
        node: Any,
        column: str | None,
        *,
        creating: bool,
        name: str | None = None,
    ) -> None:
        """Add a PRIMARY KEY / UNIQUE / CHECK / FOREIGN KEY / EXCLUDE constraint to `table`.

        `name` overrides the node's own name (CREATE TABLE merging twin index constraints)."""
        kind = node.contype
        given = name if name is not None else (str(node.conname) if node.conname else None)
        deferrable = bool(node.deferrable)
        deferred = bool(node.initdeferred)
        if kind in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE):
            if node.indexname:
                self._constraint_using_index(table, node)
                return
            columns = tuple(N.strings(node.keys)) if node.keys else ((column,) if column else ())
            primary = kind == CT.CONSTR_PRIMARY
            if primary and table.primary_key is not None:
                self._problem(f"multiple primary keys for table {table.qualified_name}")
                return
            if given:
                name = given
            elif primary:
                name = N.choose_name(table.name, None, "pkey", self._relation_taken(table.schema))
            else:
                name = N.choose_name(
                    table.name,
                    N.column_name_addition(columns),
                    "key",
                    self._relation_taken(table.schema),
                )
            include = tuple(N.strings(node.including))
            self._add_constraint(
                table,
                Constraint(
                    name=name,
                    kind=PRIMARY_KEY if primary else UNIQUE,
                    columns=columns,
                    deferrable=deferrable,
                    initially_deferred=deferred,
                    nulls_not_distinct=bool(node.nulls_not_distinct),
                    uses=frozenset(columns + include),
                    location=self._location,
                ),
            )
            self._add_index(
                table,
                Index(
                    name=name,
                    table=table.qualified_name,
                    elements=tuple(IndexElement(column=c) for c in columns),
                    unique=True,
                    primary=primary,
                    include=include,
                    constraint=name,
                    nulls_not_distinct=bool(node.nulls_not_distinct),
                    uses=frozenset(columns + include),
                    location=self._location,
                ),
            )
            if primary:
                for col in columns:
                    if col in table.columns and not table.columns[col].not_null:
                        table.columns[col] = dataclasses.replace(table.columns[col], not_null=True)
            for child in self._children(table.qualified_name):
                self._clone_index_to(self._writable(child), table.indexes[name])
        elif kind == CT.CONSTR_CHECK:
            used = N.referenced_columns(node.raw_expr)
            name = given or N.choose_name(
                table.name,
                used[0] if len(used) == 1 else None,
                "check",
                self._constraint_taken(table.schema),
            )
            constraint = Constraint(
                name=name,
                kind=CHECK,
                columns=tuple(used),
                expression=N.deparse(node.raw_expr),
                validated=creating or bool(node.initially_valid),
                uses=frozenset(used),
                location=self._location,
            )
            self._add_constraint(table, constraint)
            for child in self._children(table.qualified_name):
                self._add_constraint(self._writable(child), constraint)
        elif kind == CT.CONSTR_FOREIGN:
            columns = (
                tuple(N.strings(node.fk_attrs)) if node.fk_attrs else ((column,) if column else ())
            )
            ref_key = self._rel_key(node.pktable)
            ref_columns = tuple(N.strings(node.pk_attrs))
            if ref_key not in self.tables:
                self._problem(f"referenced table {ref_key} does not exist")
            elif not ref_columns:
                pk = self.tables[ref_key].primary_key
                if pk is None:
                    self._problem(f"there is no primary key for referenced table {ref_key}")
                else:
                    ref_columns = pk.columns
            name = given or N.choose_name(
                table.name,
                N.column_name_addition(columns),
                "fkey",
                self._constraint_taken(table.schema),
            )
            constraint = Constraint(
                name=name,
                kind=FOREIGN_KEY,
                columns=columns,
                ref_table=ref_key,
                ref_columns=ref_columns,
                on_delete=_FK_ACTIONS.get(str(node.fk_del_action), "no action"),
                on_update=_FK_ACTIONS.get(str(node.fk_upd_action), "no action"),
                match=_FK_MATCH.get(str(node.fk_matchtype), "simple"),
                validated=creating or bool(node.initially_valid),
                deferrable=deferrable,
                initially_deferred=deferred,
                uses=frozenset(columns),
                location=self._location,
            )
            self._add_constraint(table, constraint)
            for child in self._children(table.qualified_name):
                self._add_constraint(self._writable(child), constraint)
        elif kind == CT.CONSTR_EXCLUSION:
            elements = []
            parts = []
            used = []
            for elem, operator in node.exclusions or ():
                element = self._index_element(elem)
                elements.append(element)
                parts.append(f"{element.text} WITH {'.'.join(N.strings(operator))}")
                for col in [elem.name] if elem.name else N.referenced_columns(elem.expr):
                    if col not in used:
                        used.append(col)
            method = str(node.access_method or "gist")
            name = given or N.choose_name(
                table.name,
                N.column_name_addition(N.index_column_name(e) for e, _ in node.exclusions or ()),
                "excl",
                self._relation_taken(table.schema),
            )
            predicate = N.deparse(node.where_clause) if node.where_clause is not None else None
            self._add_constraint(
                table,
                Constraint(
                    name=name,
                    kind=EXCLUDE,
                    columns=tuple(e.column for e in elements if e.column),
                    expression=", ".join(parts),
                    deferrable=deferrable,
                    initially_deferred=deferred,
                    uses=frozenset(used),
                    location=self._location,
                ),
            )
            self._add_index(
                table,
                Index(
                    name=name,
                    table=table.qualified_name,
                    elements=tuple(elements),
                    method=method,
                    predicate=predicate,
                    constraint=name,
                    uses=frozenset(used),
                    location=self._location,
                ),
            )
        else:
            self._unmodelled("Constraint", f"constraint type {kind.name} is not modelled")

    def _constraint_using_index(self, table: Table, node: Any) -> None:
        """`ADD CONSTRAINT name PRIMARY KEY USING INDEX idx` renames the index to the constraint."""
        index = table.indexes.get(str(node.indexname))
        if index is None:
            self._problem(f"index {node.indexname} does not exist on {table.qualified_name}")
            return
        primary = node.contype == CT.CONSTR_PRIMARY
        name = str(node.conname) if node.conname else index.name
        self._remove_index(table, index.name)
        columns = tuple(e.column for e in index.elements if e.column)
        self._add_constraint(
            table,
            Constraint(
                name=name,
                kind=PRIMARY_KEY if primary else UNIQUE,
                columns=columns,
                deferrable=bool(node.deferrable),
                initially_deferred=bool(node.initdeferred),
                uses=index.uses,
                location=self._location,
            ),
        )
        self._add_index(
            table, dataclasses.replace(index, name=name, primary=primary, constraint=name)
        )
        if primary:
            for col in columns:
                if col in table.columns:
                    table.columns[col] = dataclasses.replace(table.columns[col], not_null=True)

    def _drop_table(self, key: str, *, cascade: bool) -> None:
        children = self._children(key)
        table = self.tables.pop(key)
        self._owned.discard(key)
        self._relations.pop(key, None)
        for child in children:
            if child in self.tables:
                self._drop_table(child, cascade=cascade)
        for name in list(table.indexes):
            self._relations.pop(qualify(table.schema, name), None)
            self._index_table.pop(qualify(table.schema, name), None)
        for name, constraint in table.constraints.items():
            ref = (table.schema, name)
            left = self._constraint_names.get(ref, 1) - 1
            if left:
                self._constraint_names[ref] = left
            else:
                self._constraint_names.pop(ref, None)
            if constraint.ref_table is not None:
                self._index_fk(constraint.ref_table, key, name, add=False)
        for seq_key in self._sequences_of(key):
            self._pop_sequence(seq_key)
        for other, constraint in self.referencing(key):
            if not cascade:
                self._problem(
                    f"cannot drop table {key}: constraint {constraint.name} on "
                    f"{other.qualified_name} depends on it (CASCADE would drop the constraint)"
                )
            self._remove_constraint(self._writable(other.qualified_name), constraint.name)
        self._fk_refs.pop(key, None)

    def _drop_relations(self, node: Any, kind: str) -> None:
        cascade = node.behavior == enums.DropBehavior.DROP_CASCADE
        for item in node.objects or ():
            schema, name = N.split_name(item)
            key = self._key(schema, name)
            if kind == "index":
                table_key = self._index_table.get(key)
                if table_key is None:
                    if not node.missing_ok:
                        self._problem(f"index {key} does not exist")
                    continue
                table = self._writable(table_key)
                index = table.indexes[name]
                if index.constraint:
                    self._problem(
                        f"cannot drop index {key}: constraint {index.constraint} requires it "
                        "(drop the constraint instead)"
                    )
                    continue
                self._remove_index(table, name)
                for child in self._children(table_key):
                    # indexes on partitions follow the partitioned index
                    child_table = self.tables[child]
                    for child_index in list(child_table.indexes.values()):
                        if child_index.elements == index.elements and not child_index.constraint:
                            self._remove_index(self._writable(child), child_index.name)
                            break
                continue
            actual = self._relations.get(key)
            if actual is None or (actual != kind and not (kind == "table" and actual == "table")):
                if actual is not None:
                    self._problem(f"{key} is a {actual}, not a {kind}")
                elif not node.missing_ok:
                    self._problem(f"{kind} {key} does not exist")
                continue
            if kind == "table":
                self._drop_table(key, cascade=cascade)
            elif kind in ("view", "materialized view"):
                self.views.pop(key, None)
                self._relations.pop(key, None)
            elif kind == "sequence":
                self._pop_sequence(key)

    # ----------------------------------------------------------------- ALTER TABLE

    def _alter_table(self, node: Any) -> None:
        objtype = node.objtype
        if objtype == OT.OBJECT_INDEX:
            for cmd in node.cmds or ():
                self._unmodelled(
                    "AlterTableCmd", f"ALTER INDEX {cmd.subtype.name[3:]} is not modelled"
                )
            return
        if objtype == OT.OBJECT_SEQUENCE or objtype in (OT.OBJECT_VIEW, OT.OBJECT_MATVIEW):
            for cmd in node.cmds or ():
                self._unmodelled(
                    "AlterTableCmd",
                    f"ALTER {objtype.name[7:]} {cmd.subtype.name[3:]} is not modelled",
                )
            return
        key = self._lookup_table(node.relation, bool(node.missing_ok), "ALTER TABLE")
        if key is None:
            return
        for cmd in node.cmds or ():
            self._alter_table_cmd(key, cmd, recurse=bool(node.relation.inh))

    def _alter_table_cmd(self, key: str, cmd: Any, *, recurse: bool) -> None:
        table = self._writable(key)
        sub = cmd.subtype
        col = str(cmd.name) if cmd.name else None
        # commands PostgreSQL repeats on every partition of a partitioned table
        recursive = sub in (
            AT.AT_AddColumn,
            AT.AT_DropColumn,
            AT.AT_AlterColumnType,
            AT.AT_ColumnDefault,
            AT.AT_SetNotNull,
            AT.AT_DropNotNull,
        )
        if sub == AT.AT_AddColumn:
            element = cmd.def_
            if element.colname in table.columns:
                if not cmd.missing_ok:
                    self._problem(f"column {element.colname} of {key} already exists")
                return
            column, constraints = self._column(table, element)
            table.columns[column.name] = column
            for column_name, constraint_node in constraints:
                self._add_constraint_node(table, constraint_node, column_name, creating=False)
        elif sub == AT.AT_DropColumn:
            if col not in table.columns:
                if not cmd.missing_ok:
                    self._problem(f"column {col} of {key} does not exist")
                return
            self._drop_column(table, col, cascade=cmd.behavior == enums.DropBehavior.DROP_CASCADE)
        elif col is not None and sub in (
            AT.AT_AlterColumnType,
            AT.AT_ColumnDefault,
            AT.AT_SetNotNull,
            AT.AT_DropNotNull,
            AT.AT_AddIdentity,
            AT.AT_DropIdentity,
            AT.AT_SetIdentity,
            AT.AT_DropExpression,
        ):
            existing = table.columns.get(col)
            if existing is None:
                if not (sub == AT.AT_DropIdentity and cmd.missing_ok):
                    self._problem(f"column {col} of {key} does not exist")
                return
            table.columns[col] = self._alter_column(table, existing, cmd)
        elif sub == AT.AT_AddConstraint:
            self._add_constraint_node(table, cmd.def_, None, creating=False)
        elif sub == AT.AT_DropConstraint:
            if col not in table.constraints:
                if not cmd.missing_ok:
                    self._problem(f"constraint {col} of {key} does not exist")
                return
            self._remove_constraint(table, col)
            for child in self._children(key):
                child_table = self._writable(child)
                if col in child_table.constraints:
                    self._remove_constraint(child_table, col)
        elif sub == AT.AT_ValidateConstraint:
            constraint = table.constraints.get(col or "")
            if constraint is None:
                self._problem(f"constraint {col} of {key} does not exist")
                return
            table.constraints[constraint.name] = dataclasses.replace(constraint, validated=True)
        elif sub == AT.AT_AlterConstraint:
            definition = cmd.def_
            constraint = table.constraints.get(str(definition.conname))
            if constraint is None:
                self._problem(f"constraint {definition.conname} of {key} does not exist")
                return
            table.constraints[constraint.name] = dataclasses.replace(
                constraint,
                deferrable=bool(definition.deferrable),
                initially_deferred=bool(definition.initdeferred),
            )
        elif sub == AT.AT_AttachPartition:
            self._attach_partition(table, cmd.def_)
        elif sub in (AT.AT_DetachPartition, AT.AT_DetachPartitionFinalize):
            child_key = self._rel_key(cmd.def_.name)
            if child_key in self.tables:
                detached = self._writable(child_key)
                detached.partition_of = None
                detached.partition_bound = None
            else:
                self._problem(f"partition {child_key} does not exist")
        elif sub in (AT.AT_SetLogged, AT.AT_SetUnLogged):
            table.persistence = "permanent" if sub == AT.AT_SetLogged else "unlogged"
        else:
            self._unmodelled("AlterTableCmd", f"ALTER TABLE {sub.name[3:]} is not modelled")
            return
        if recursive and recurse:
            for child in self._children(key):
                self._alter_table_cmd(child, cmd, recurse=True)

    def _alter_column(self, table: Table, column: Column, cmd: Any) -> Column:
        sub = cmd.subtype
        if sub == AT.AT_AlterColumnType:
            element = cmd.def_
            return dataclasses.replace(
                column,
                type=self._format_type(element.typeName),
                collation=".".join(N.strings(element.collClause.collname))
                if element.collClause
                else column.collation,
                location=self._location,
            )
        if sub == AT.AT_ColumnDefault:
            default = N.default_text(cmd.def_) if cmd.def_ is not None else None
            return dataclasses.replace(column, default=default)
        if sub == AT.AT_SetNotNull:
            return dataclasses.replace(column, not_null=True)
        if sub == AT.AT_DropNotNull:
            if table.primary_key and column.name in table.primary_key.columns:
                self._problem(f"column {column.name} is in a primary key")
                return column
            return dataclasses.replace(column, not_null=False)
        if sub == AT.AT_AddIdentity:
            constraint = cmd.def_
            identity = "always" if constraint.generated_when == "a" else "by default"
            seq_name = N.choose_name(
                table.name, column.name, "seq", self._relation_taken(table.schema)
            )
            seq_key = qualify(table.schema, seq_name)
            self._put_sequence(
                seq_key,
                Sequence(
                    table.schema,
                    seq_name,
                    column.type,
                    (table.qualified_name, column.name),
                    True,
                    location=self._location,
                ),
            )
            return dataclasses.replace(column, identity=identity, not_null=True)
        if sub == AT.AT_SetIdentity:
            for option in cmd.def_ or ():
                if isinstance(option, ast.DefElem) and option.defname == "generated":
                    value = getattr(option.arg, "ival", None)
                    return dataclasses.replace(
                        column, identity="always" if value == 1 else "by default"
                    )
            return column
        if sub == AT.AT_DropIdentity:
            for seq_key in self._sequences_of(table.qualified_name, column.name):
                if self.sequences[seq_key].identity:
                    self._pop_sequence(seq_key)
            return dataclasses.replace(column, identity=None)
        # AT_DropExpression: the generated column becomes a plain column
        return dataclasses.replace(column, generated=None)

    def _drop_column(self, table: Table, col: str, *, cascade: bool) -> None:
        del table.columns[col]
        for name, index in list(table.indexes.items()):
            if col in index.uses and name in table.indexes:
                self._remove_index(table, name)
        for name, constraint in list(table.constraints.items()):
            if col in constraint.uses and name in table.constraints:
                self._remove_constraint(table, name)
        for other, constraint in self.referencing(table.qualified_name):
            if col in constraint.ref_columns:
                if not cascade:
                    self._problem(
                        f"cannot drop column {col} of {table.qualified_name}: constraint "
                        f"{constraint.name} on {other.qualified_name} depends on it"
                    )
                self._remove_constraint(self._writable(other.qualified_name), constraint.name)
        for seq_key in self._sequences_of(table.qualified_name, col):
            self._pop_sequence(seq_key)

    def _attach_partition(self, table: Table, cmd: Any) -> None:
        child_key = self._rel_key(cmd.name)
        if child_key not in self.tables:
            self._problem(f"table {child_key} does not exist")
            return
        child = self._writable(child_key)
        child.partition_of = table.qualified_name
        child.partition_bound = N.deparse(cmd.bound) if cmd.bound is not None else None
        for index in table.indexes.values():
            # an equivalent existing index is attached rather than created
            if not any(
                i.elements == index.elements and i.predicate == index.predicate
                for i in child.indexes.values()
            ):
                self._clone_index_to(child, index)

    # ----------------------------------------------------------------- indexes

    def _index_element(self, elem: Any) -> IndexElement:
        opclass = N.strings(elem.opclass)
        collation = ".".join(N.strings(elem.collation)) if elem.collation else None
        nulls = {1: "first", 2: "last"}.get(int(elem.nulls_ordering or 0))
        return IndexElement(
            column=str(elem.name) if elem.name else None,
            expression=N.deparse(elem.expr) if elem.expr is not None else None,
            opclass=opclass[-1] if opclass else None,
            collation=collation,
            descending=elem.ordering == enums.SortByDir.SORTBY_DESC,
            nulls=nulls,
        )

    def _create_index(self, node: Any) -> None:
        key = self._lookup_table(node.relation, False, "CREATE INDEX")
        if key is None:
            if self._relations.get(self._rel_key(node.relation)) == "materialized view":
                pass
            return
        table = self._writable(key)
        params = node.indexParams or ()
        if node.idxname:
            name = str(node.idxname)
        else:
            label = "pkey" if node.primary else "key" if node.isconstraint else "idx"
            addition = (
                None
                if node.primary
                else N.column_name_addition(N.index_column_name(p) for p in params)
            )
            name = N.choose_name(table.name, addition, label, self._relation_taken(table.schema))
        if qualify(table.schema, name) in self._relations:
            if not node.if_not_exists:
                self._problem(f"relation {qualify(table.schema, name)} already exists")
            return
        elements = tuple(self._index_element(p) for p in params)
        include = tuple(str(p.name) for p in node.indexIncludingParams or () if p.name)
        used: set[str] = set(include)
        for p in params:
            used.update([p.name] if p.name else N.referenced_columns(p.expr))
        predicate = None
        if node.whereClause is not None:
            predicate = N.deparse(node.whereClause)
            used.update(N.referenced_columns(node.whereClause))
        index = Index(
            name=name,
            table=key,
            elements=elements,
            method=str(node.accessMethod or "btree"),
            unique=bool(node.unique),
            primary=bool(node.primary),
            predicate=predicate,
            include=include,
            nulls_not_distinct=bool(node.nulls_not_distinct),
            uses=frozenset(used),
            location=self._location,
        )
        self._add_index(table, index)
        if node.relation.inh:
            for child in self._children(key):
                self._clone_index_to(self._writable(child), index)

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
                del self.functions[match]

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
                function = dataclasses.replace(self.functions.pop(match), name=new)
                self.functions[function.signature] = function
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
        if kind == "index":
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
        elif kind == "sequence":
            sequence = self._pop_sequence(key)
            assert sequence is not None
            self._put_sequence(new_key, dataclasses.replace(sequence, name=new))

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
            for name, c in table.columns.items()
        }

        def names(values: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(new if v == old else v for v in values)

        def uses(values: frozenset[str]) -> frozenset[str]:
            return frozenset(names(tuple(values)))

        for name, c in list(table.constraints.items()):
            if old in c.uses:
                expression = c.expression
                if expression is not None and c.kind == CHECK:
                    expression = N.rename_column_in_text(expression, old, new)
                table.constraints[name] = dataclasses.replace(
                    c, columns=names(c.columns), expression=expression, uses=uses(c.uses)
                )
        for name, index in list(table.indexes.items()):
            if old in index.uses:
                elements = tuple(
                    dataclasses.replace(
                        e,
                        column=new if e.column == old else e.column,
                        expression=N.rename_column_in_text(e.expression, old, new)
                        if e.expression
                        else None,
                    )
                    for e in index.elements
                )
                predicate = index.predicate
                if predicate is not None:
                    predicate = N.rename_column_in_text(predicate, old, new)
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
        self.views[key] = View(schema, name, N.deparse(node.query), location=self._location)
        self._relations[key] = "view"

    def _create_table_as(self, node: Any) -> None:
        key = self._rel_key(node.into.rel)
        if key in self._relations:
            if not node.if_not_exists:
                self._problem(f"relation {key} already exists")
            return
        schema, name = key.split(".", 1)
        if node.objtype == OT.OBJECT_MATVIEW:
            self.views[key] = View(
                schema, name, N.deparse(node.query), materialized=True, location=self._location
            )
            self._relations[key] = "materialized view"
        else:
            self.tables[key] = Table(schema, name, location=self._location)
            self._owned.add(key)
            self._relations[key] = "table"
            self._unmodelled(node, f"CREATE TABLE AS: the columns of {key} are not derived")

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

    def _domain_constraint(self, domain: Domain, constraint: Any) -> Domain:
        kind = constraint.contype
        if kind == CT.CONSTR_NOTNULL:
            return dataclasses.replace(domain, not_null=True)
        if kind == CT.CONSTR_NULL:
            return dataclasses.replace(domain, not_null=False)
        if kind == CT.CONSTR_DEFAULT:
            return dataclasses.replace(domain, default=N.deparse(constraint.raw_expr))
        if kind == CT.CONSTR_CHECK:
            name = (
                str(constraint.conname)
                if constraint.conname
                else N.choose_name(
                    domain.name, None, "check", lambda n: any(n == c for c, _ in domain.checks)
                )
            )
            return dataclasses.replace(
                domain, checks=(*domain.checks, (name, N.deparse(constraint.raw_expr)))
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
            domain = dataclasses.replace(
                domain, default=N.deparse(node.def_) if node.def_ is not None else None
            )
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


def _without_redundant_indexes(
    pending: list[tuple[str | None, ast.Constraint]],
) -> list[tuple[str | None, ast.Constraint, str | None]]:
    """CREATE TABLE merges PRIMARY KEY / UNIQUE specifications on the same columns into one
    index (transformIndexConstraints): `UNIQUE (a), UNIQUE (a)` makes a single constraint, and a
    later explicit name is given to an unnamed earlier twin."""
    kept: list[tuple[str | None, ast.Constraint, str | None]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for column, node in pending:
        name = str(node.conname) if node.conname else None
        if node.contype not in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE) or node.indexname:
            kept.append((column, node, name))
            continue
        keys = tuple(N.strings(node.keys)) if node.keys else (column,)
        signature = (
            keys,
            tuple(N.strings(node.including)),
            bool(node.deferrable),
            bool(node.initdeferred),
            bool(node.nulls_not_distinct),
        )
        if signature in seen:
            prior_column, prior, prior_name = kept[seen[signature]]
            if prior_name is None and name:
                kept[seen[signature]] = (prior_column, prior, name)
            continue
        seen[signature] = len(kept)
        kept.append((column, node, name))
    return kept


def _handlers() -> dict[type, Callable[[SchemaModel, Any], None]]:
    m = SchemaModel
    return {
        ast.CreateSchemaStmt: m._create_schema,
        ast.VariableSetStmt: m._set,
        ast.CreateStmt: m._create_table,
        ast.AlterTableStmt: m._alter_table,
        ast.IndexStmt: m._create_index,
        ast.DropStmt: m._drop,
        ast.RenameStmt: m._rename,
        ast.CommentStmt: m._comment,
        ast.AlterObjectSchemaStmt: m._alter_object_schema,
        ast.CreateSeqStmt: m._create_sequence,
        ast.AlterSeqStmt: m._alter_sequence,
        ast.ViewStmt: m._create_view,
        ast.CreateTableAsStmt: m._create_table_as,
        ast.CreateEnumStmt: m._create_enum,
        ast.AlterEnumStmt: m._alter_enum,
        ast.CreateDomainStmt: m._create_domain,
        ast.AlterDomainStmt: m._alter_domain,
        ast.CreateFunctionStmt: m._create_function,
        ast.CreateTrigStmt: m._create_trigger,
        ast.CreateExtensionStmt: m._create_extension,
        ast.AlterExtensionStmt: m._alter_extension,
    }


_HANDLERS = _handlers()


def iter_tables(model: SchemaModel) -> Iterator[Table]:
    """Tables in a stable order (by qualified name)."""
    for key in sorted(model.tables):
        yield model.tables[key]
