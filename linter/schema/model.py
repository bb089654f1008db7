"""`SchemaModel`: the database as it would be after replaying migration statements.

The model is replayed from pglast statement nodes, one at a time (`apply`), by handlers that live
in `replay_tables` (CREATE/ALTER TABLE, indexes) and `replay_objects` (everything else), on top of
the state and bookkeeping in `state`. Statements it does
not understand are recorded in `unmodelled` with the reason, statements PostgreSQL would reject
given the model (dropping a missing table without IF EXISTS, ...) in `problems`; neither raises,
because a linter must keep going over a history it only partly understands.

`copy()` is cheap: tables are shared between copies and cloned on their first write (see
`_writable`), and every other object is immutable. The engine snapshots the model before and
after every migration, so the cost of a migration stays proportional to what it changes, plus a
few C-level dictionary copies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from pglast import ast

from .objects import (
    Index,
    Sequence,
    Table,
    UserType,
    View,
)
from .replay_objects import ObjectStatements

LOG = logging.getLogger(__name__)

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
    ast.RuleStmt: "rules are not modelled",
    ast.CreateRangeStmt: "range types are not modelled",
    ast.CreateStatsStmt: "extended statistics are not modelled",
    ast.CreatePublicationStmt: "publications are not modelled",
    ast.CreateForeignTableStmt: "foreign tables are not modelled",
    ast.CreateEventTrigStmt: "event triggers are not modelled",
}


OBJECT_PRESERVING_GAPS = (
    "DO block: its schema changes were applied",
    "CREATE TABLE AS: the columns",
    "CREATE TABLE OF type",
    "INHERITS:",
    "ALTER DOMAIN",
)
"""Starts of `unmodelled` reasons for gaps that only lose columns or definitions, never a whole
object: a rule may still trust the model about which objects exist after one of them."""


CODE_MIGRATION = "CodeMigration"
"""The kind of the `unmodelled` entry a migration written in code leaves (`Section.opaque`):
it may have changed any object."""


class SchemaModel(ObjectStatements):
    """Schemas, tables, indexes, sequences, types, views, functions and extensions."""

    # ----------------------------------------------------------------- public API

    def copy(self) -> SchemaModel:
        """An independent model sharing every unchanged object with this one."""
        new = SchemaModel.__new__(SchemaModel)
        new.schemas = set(self.schemas)
        new.tables = self.tables.copy()
        new.views = self.views.copy()
        new.sequences = self.sequences.copy()
        new.types = self.types.copy()
        new.functions = self.functions.copy()
        new.extensions = self.extensions.copy()
        new.comments = self.comments.copy()
        new.unmodelled = self.unmodelled.copy()
        new.problems = self.problems.copy()
        new._relations = self._relations.copy()
        new._index_table = self._index_table.copy()
        new.view_indexes = self.view_indexes.copy()
        new._constraint_names = self._constraint_names.copy()
        new._fk_refs = self._fk_refs.copy()
        new._owned_sequences = self._owned_sequences.copy()
        new._current_schema = self._current_schema
        new._location = None
        new._quiet = False
        # both models now share every table: the next write on either side clones it
        new._owned = set()
        self._owned = set()
        return new

    def apply(self, node: Any, *, location: Any = None) -> None:
        """Replay one statement. Never raises for what it does not understand."""
        if isinstance(node, ast.RawStmt):
            node = node.stmt
        self._location = location
        try:
            if not self._dispatch(node) and not isinstance(node, _NEUTRAL):
                reason = _UNMODELLED_REASONS.get(type(node), "statement kind is not modelled")
                self._unmodelled(node, reason)
        except Exception as error:
            LOG.debug("schema model failed on %s", type(node).__name__, exc_info=True)
            self._unmodelled(node, f"internal error while modelling: {error}")
        finally:
            self._location = None

    def apply_unknown(self, kind: str, reason: str, *, location: Any = None) -> None:
        """Something the history ran that the model cannot read (a migration written in Go):
        recorded in `unmodelled`, so that rules know the model may miss any change from here on."""
        self._location = location
        try:
            self._unmodelled(kind, reason)
        finally:
            self._location = None

    def apply_all(self, nodes: Iterable[Any], *, location: Any = None) -> None:
        for node in nodes:
            self.apply(node, location=location)

    def index(self, name: str) -> Index | None:
        key = self.qualify(name)
        table = self._index_table.get(key)
        if table is None:
            return self.view_indexes.get(key)  # an index of a materialized view
        return self.tables[table].indexes.get(key.split(".", 1)[1])

    @property
    def indexes(self) -> dict[str, Index]:
        """Every index by qualified name, including those backing constraints."""
        result = {}
        for key, table_key in sorted(self._index_table.items()):
            result[key] = self.tables[table_key].indexes[key.split(".", 1)[1]]
        return result

    def type(self, name: str) -> UserType | None:
        return self.types.get(self.qualify(name))

    def sequence(self, name: str) -> Sequence | None:
        return self.sequences.get(self.qualify(name))

    def view(self, name: str) -> View | None:
        return self.views.get(self.qualify(name))

    def partitions(self, name: str) -> list[Table]:
        key = self.qualify(name)
        return [t for t in self.tables.values() if t.partition_of == key]

    def _do_block(self, node: Any) -> None:
        """A DO block: its statements are read from the PL/pgSQL body (linter/plpgsql.py) when
        the engine passed the statement as location. Only data changes: nothing to model.
        Schema changes are applied as if every branch ran, quietly (they are usually guarded by
        IF NOT EXISTS checks) and the block is still listed as unmodelled, since the model cannot
        know which branch runs. Dynamic SQL (EXECUTE of a built string) is not interpreted."""
        location = self._location
        if getattr(location, "node", None) is not node:
            self._unmodelled(node, "the body of a DO block is not interpreted")
            return
        do = getattr(location, "do", None)
        nested, dynamic = (do.nested, do.dynamic) if do is not None else ([], [])
        if dynamic:
            self._unmodelled(node, "DO block runs dynamic SQL, which is not interpreted")
            return
        changes = [s for s in nested if not isinstance(s.node, _NEUTRAL)]
        if not changes:
            return
        self._quiet = True
        try:
            for statement in changes:
                self._location = statement
                if not self._dispatch(statement.node):
                    self._unmodelled(statement.node, "statement kind is not modelled")
        finally:
            self._quiet = False
            self._location = location
        self._unmodelled(node, "DO block: its schema changes were applied as if every branch ran")

    def _dispatch(self, node: Any) -> bool:
        if isinstance(node, ast.DoStmt):
            self._do_block(node)
            return True
        handler = _HANDLERS.get(type(node))
        if handler is None:
            return False
        handler(self, node)
        return True


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
        ast.CompositeTypeStmt: m._create_composite,
        ast.AlterDomainStmt: m._alter_domain,
        ast.CreateFunctionStmt: m._create_function,
        ast.CreateTrigStmt: m._create_trigger,
        ast.CreateExtensionStmt: m._create_extension,
        ast.AlterExtensionStmt: m._alter_extension,
    }


_HANDLERS = _handlers()
