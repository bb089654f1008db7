"""The bookkeeping under `SchemaModel`: its state and the helpers every statement handler uses.

`SchemaModel` is assembled from three layers, each in its own module: this state, the handlers
of table statements (`replay_tables`) and those of every other object (`replay_objects`).
Handlers take their node as `Any`: pglast's stubs declare every field Optional, while the parser
always sets the fields a statement kind needs, so asserting each one would bury the logic.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pglast import ast, enums

from . import names as N
from .cowmap import AppendLog, CowMap
from .objects import (
    DEFAULT_SCHEMA,
    Constraint,
    Extension,
    Function,
    Index,
    Problem,
    Sequence,
    Table,
    Unmodelled,
    UserType,
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


class ModelState:
    """The model's data and the low-level changes that keep its indexes consistent."""

    def __init__(self) -> None:
        self.schemas: set[str] = {DEFAULT_SCHEMA}
        self.tables: CowMap[str, Table] = CowMap()
        self.views: CowMap[str, View] = CowMap()
        self.sequences: CowMap[str, Sequence] = CowMap()
        self.types: CowMap[str, UserType] = CowMap()
        self.functions: CowMap[str, Function] = CowMap()
        self.extensions: CowMap[str, Extension] = CowMap()
        self.comments: CowMap[tuple[str, str], str] = CowMap()
        self.unmodelled: AppendLog[Unmodelled] = AppendLog()
        self.problems: AppendLog[Problem] = AppendLog()
        # relation namespace (tables, views, sequences, indexes share it): qualified name -> kind
        self._relations: CowMap[str, str] = CowMap()
        # qualified index name -> qualified table name
        self._index_table: CowMap[str, str] = CowMap()
        # indexes of materialized views by qualified name (their `table` is the view)
        self.view_indexes: CowMap[str, Index] = CowMap()
        # (schema, constraint name) -> how many tables use it; PostgreSQL picks generated
        # constraint names unique per schema
        self._constraint_names: CowMap[tuple[str, str], int] = CowMap()
        # reverse indexes, so that drops and renames cost what they touch, not the whole model:
        # referenced table -> {(referencing table, FK name)}; table -> sequences it owns
        self._fk_refs: CowMap[str, frozenset[tuple[str, str]]] = CowMap()
        self._owned_sequences: CowMap[str, frozenset[str]] = CowMap()
        self._owned: set[str] = set()
        self._current_schema = DEFAULT_SCHEMA
        self._location: Any = None
        # set while replaying the guarded statements of a DO block (see `_do_block`)
        self._quiet = False

    def table(self, name: str) -> Table | None:
        """The table called `name` (`users` or `public.users`)."""
        return self.tables.get(self.qualify(name))

    def qualify(self, name: str) -> str:
        """`public.users` for `users`; qualified names are returned as they are."""
        if "." in name:
            return name
        return qualify(self._current_schema, N.truncate_identifier(name))

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

    def _dispatch(self, node: Any) -> bool:
        """Apply one statement through the handler table; False when there is none."""
        raise NotImplementedError

    # ----------------------------------------------------------------- bookkeeping

    def _unmodelled(self, node: Any, reason: str) -> None:
        kind = type(node).__name__ if not isinstance(node, str) else node
        self.unmodelled.append(Unmodelled(kind, reason, self._location))

    def _problem(self, message: str) -> None:
        if not self._quiet:
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
        for schema in sorted(self.schemas):  # a handful of schemas, not every type
            if f"{schema}.{name}" in self.types:
                return f"{schema}.{name}"
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

    def _add_view_index(self, index: Index) -> None:
        key = qualify(index.table.split(".", 1)[0], index.name)
        self.view_indexes[key] = index
        self._relations[key] = "index"

    def _remove_view_index(self, key: str) -> None:
        self.view_indexes.pop(key, None)
        self._relations.pop(key, None)

    def _drop_view(self, key: str) -> None:
        """A view or materialized view, and the indexes of the latter."""
        self.views.pop(key, None)
        self._relations.pop(key, None)
        for index_key in [k for k, i in self.view_indexes.items() if i.table == key]:
            self._remove_view_index(index_key)

    def _children(self, key: str) -> list[str]:
        """Partitions of `key`; only a partitioned table has any, so others cost nothing."""
        table = self.tables.get(key)
        if table is None or table.partition_by is None:
            return []
        return [k for k, t in self.tables.items() if t.partition_of == key]
