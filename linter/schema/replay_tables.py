"""Replaying table statements: CREATE TABLE (columns, constraints, partitions, LIKE),
ALTER TABLE and its subcommands, CREATE INDEX, and the cascades of DROP TABLE / DROP COLUMN."""

from __future__ import annotations

import dataclasses
from typing import Any

from pglast import ast, enums

from . import names as N
from .expression import Expression, column_default, optional
from .objects import (
    CHECK,
    DEFAULT_SCHEMA,
    EXCLUDE,
    FOREIGN_KEY,
    PRIMARY_KEY,
    UNIQUE,
    Column,
    Constraint,
    Index,
    IndexElement,
    Sequence,
    Table,
    qualify,
)
from .state import _FK_ACTIONS, _FK_MATCH, AT, CT, OT, ModelState

# ENABLE [ALWAYS | REPLICA] TRIGGER name | ALL | USER, then DISABLE TRIGGER name | ALL | USER.
# ALL also switches the internal triggers of foreign keys, which the model does not hold.
_TRIGGER_SWITCHES = (
    AT.AT_EnableTrig,
    AT.AT_EnableAlwaysTrig,
    AT.AT_EnableReplicaTrig,
    AT.AT_EnableTrigAll,
    AT.AT_EnableTrigUser,
    AT.AT_DisableTrig,
    AT.AT_DisableTrigAll,
    AT.AT_DisableTrigUser,
)
_ALL_TRIGGERS = (
    AT.AT_EnableTrigAll,
    AT.AT_EnableTrigUser,
    AT.AT_DisableTrigAll,
    AT.AT_DisableTrigUser,
)


class TableStatements(ModelState):
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
            table.partition_bound = Expression(node.partbound)
            if parent is None:
                self._problem(f"partitioned table {parent_key} does not exist")
            else:
                table.columns.update(
                    (c.name, dataclasses.replace(c, identity=None, comment=None))
                    for c in parent.with_not_null_names().values()
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
        for column in source.with_not_null_names().values():
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
            e.column or (e.expression and N.figure_colname(e.expression.tree)) or "expr"
            for e in index.elements
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
        default = column_default(element.raw_default) if element.raw_default is not None else None
        identity: str | None = None
        generated: Expression | None = None
        not_null_name: str | None = None
        constraints: list[tuple[str, ast.Constraint]] = []
        for constraint in element.constraints or ():
            kind = constraint.contype
            if kind == CT.CONSTR_NOTNULL:
                not_null = True
                not_null_name = str(constraint.conname) if constraint.conname else None
            elif kind == CT.CONSTR_NULL:
                not_null = False
            elif kind == CT.CONSTR_DEFAULT:
                default = column_default(constraint.raw_expr)
            elif kind == CT.CONSTR_IDENTITY:
                identity = "always" if constraint.generated_when == "a" else "by default"
                not_null = True
            elif kind == CT.CONSTR_GENERATED:
                generated = Expression(constraint.raw_expr)
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
                default = Expression.of_text(f"nextval('{shown}'::regclass)")
                not_null = True
        column = Column(
            name=name,
            type=type_text,
            not_null=not_null,
            default=default,
            identity=identity,
            generated=generated,
            collation=collation,
            not_null_name=not_null_name if not_null else None,
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
                expression=Expression(node.raw_expr),
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
            predicate = optional(node.where_clause)
            self._add_constraint(
                table,
                Constraint(
                    name=name,
                    kind=EXCLUDE,
                    columns=tuple(e.column for e in elements if e.column),
                    expression=Expression.of_text(", ".join(parts)),
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
        elif kind == CT.CONSTR_NOTNULL:
            # `[CONSTRAINT name] NOT NULL column` as a table constraint (PostgreSQL 18): a named
            # constraint that makes the column NOT NULL; renamed and dropped by that name
            for col in N.strings(node.keys) or ([column] if column else []):
                if col in table.columns:
                    current = table.columns[col]
                    table.columns[col] = dataclasses.replace(
                        current,
                        not_null=True,
                        not_null_name=given
                        or (current.not_null_name if current.not_null else None),
                    )
                else:
                    self._problem(f"column {col} of {table.qualified_name} does not exist")
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

    def _drop_table(
        self, key: str, *, cascade: bool, together: frozenset[str] = frozenset()
    ) -> None:
        """`together`: the other relations the same DROP names; PostgreSQL drops them all before
        judging dependencies, so one depending on another needs no CASCADE."""
        children = self._children(key)
        table = self.tables.pop(key)
        self._owned.discard(key)
        self._relations.pop(key, None)
        for child in children:
            if child in self.tables:
                self._drop_table(child, cascade=cascade, together=together)
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
            if not cascade and other.qualified_name not in together:
                self._problem(
                    f"cannot drop table {key}: constraint {constraint.name} on "
                    f"{other.qualified_name} depends on it (CASCADE would drop the constraint)"
                )
            self._remove_constraint(self._writable(other.qualified_name), constraint.name)
        self._fk_refs.pop(key, None)
        self._drop_dependent_views(key, cascade=cascade, together=together)

    def _drop_dependent_views(
        self, key: str, *, cascade: bool, together: frozenset[str] = frozenset()
    ) -> None:
        """Views reading `key` go with it under CASCADE; without it PostgreSQL refuses (unless
        the same DROP names the view too)."""
        for view_key, view in list(self.views.items()):
            if key in view.depends_on and view_key in self.views:
                if not cascade and view_key not in together:
                    self._problem(
                        f"cannot drop {key}: view {view_key} depends on it "
                        "(CASCADE would drop the view)"
                    )
                self._drop_view(view_key)
                self._drop_dependent_views(view_key, cascade=cascade, together=together)

    def _drop_relations(self, node: Any, kind: str) -> None:
        cascade = node.behavior == enums.DropBehavior.DROP_CASCADE
        together = frozenset(self._key(*N.split_name(item)) for item in node.objects or ())
        # PostgreSQL looks every name up before it drops anything: one that an earlier name of
        # the list took with it (`DROP MATERIALIZED VIEW a, c` where c reads a) was there.
        present = frozenset(k for k in together if k in self._relations)
        for item in node.objects or ():
            schema, name = N.split_name(item)
            key = self._key(schema, name)
            if key in present and key not in self._relations:
                continue
            if kind == "index" and key in self.view_indexes:
                self._remove_view_index(key)
                continue
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
                self._drop_table(key, cascade=cascade, together=together)
            elif kind in ("view", "materialized view"):
                self._drop_view(key)
                self._drop_dependent_views(key, cascade=cascade, together=together)
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
            not_null = (
                table.not_null_constraint(col or "") if col not in table.constraints else None
            )
            if not_null is not None and not_null.identity is None:
                table.columns[not_null.name] = dataclasses.replace(
                    not_null, not_null=False, not_null_name=None
                )
                return
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
        elif sub in _TRIGGER_SWITCHES:
            enabled = sub in _TRIGGER_SWITCHES[:5]
            names = list(table.triggers) if sub in _ALL_TRIGGERS else [col or ""]
            for name in names:
                trigger = table.triggers.get(name)
                if trigger is None:
                    self._problem(f"trigger {name} for table {key} does not exist")
                else:
                    table.triggers[name] = dataclasses.replace(trigger, enabled=enabled)
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
            default = column_default(cmd.def_) if cmd.def_ is not None else None
            return dataclasses.replace(column, default=default)
        if sub == AT.AT_SetNotNull:
            return dataclasses.replace(column, not_null=True)
        if sub == AT.AT_DropNotNull:
            if table.primary_key and column.name in table.primary_key.columns:
                self._problem(f"column {column.name} is in a primary key")
                return column
            return dataclasses.replace(column, not_null=False, not_null_name=None)
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
        child.partition_bound = optional(cmd.bound)
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
            expression=optional(elem.expr),
            opclass=opclass[-1] if opclass else None,
            collation=collation,
            descending=elem.ordering == enums.SortByDir.SORTBY_DESC,
            nulls=nulls,
        )

    def _create_index(self, node: Any) -> None:
        view_key = self._rel_key(node.relation)
        if self._relations.get(view_key) == "materialized view":
            index = self._new_index(node, view_key)
            if index is not None:
                self._add_view_index(index)
            return
        key = self._lookup_table(node.relation, False, "CREATE INDEX")
        if key is None:
            return
        index = self._new_index(node, key)
        if index is None:
            return
        self._add_index(self._writable(key), index)
        if node.relation.inh:
            for child in self._children(key):
                self._clone_index_to(self._writable(child), index)

    def _new_index(self, node: Any, key: str) -> Index | None:
        """The index CREATE INDEX makes on table (or materialized view) `key`; None when the
        name is taken (a problem unless IF NOT EXISTS)."""
        schema, relname = key.split(".", 1)
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
            name = N.choose_name(relname, addition, label, self._relation_taken(schema))
        if qualify(schema, name) in self._relations:
            if not node.if_not_exists:
                self._problem(f"relation {qualify(schema, name)} already exists")
            return None
        elements = tuple(self._index_element(p) for p in params)
        include = tuple(str(p.name) for p in node.indexIncludingParams or () if p.name)
        used: set[str] = set(include)
        for p in params:
            used.update([p.name] if p.name else N.referenced_columns(p.expr))
        predicate = None
        if node.whereClause is not None:
            predicate = Expression(node.whereClause)
            used.update(N.referenced_columns(node.whereClause))
        return Index(
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
