"""Facts about one migration that many rules need, computed once by the engine and shared on `ctx`.

Rules never recompute these nor import them from each other: what is a table created in this
migration (exempt from lock rules: it is empty) and which existed before it, which statements run
inside which transaction (the runner's, the file's own BEGIN/COMMIT, or none: goose
`NO TRANSACTION`, the guide's `-- NO TRANSACTION` line, dbmate `transaction:false`, diesel's
metadata.toml, atlas `txmode none`, config `transaction = "none"`), whether `lock_timeout` and `statement_timeout` are set before a
statement, the locks each statement takes (linter/locks.py), the `large-tables` option, the
volatility of DEFAULT expressions (linter/volatility.py), and whether a DOWN statement just
drops what its UP created.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pglast import ast, enums
from pglast.enums import TransactionStmtKind
from pgpreflight.linter.locks import TableLock, statement_locks
from pgpreflight.linter.migration import Migration, Section, Statement
from pgpreflight.linter.names import list_name, relation_name
from pgpreflight.linter.schema.model import OBJECT_PRESERVING_GAPS
from pgpreflight.linter.volatility import (
    volatility as volatility,  # re-exported: rules read it from facts
)

if TYPE_CHECKING:
    from pgpreflight.linter.schema import SchemaModel

AT = enums.AlterTableType
# Gaps of the schema model that cannot hide an index (see `index_may_exist`).
_HARMLESS_GAPS = (*OBJECT_PRESERVING_GAPS, "constraint type")


@dataclass
class StatementFacts:
    in_transaction: bool  # inside a transaction block (runner's or an explicit BEGIN)
    explicit_transaction: bool  # inside the file's own BEGIN ... COMMIT
    lock_timeout: (
        str | None
    )  # in force at this statement: last SET, or SET LOCAL of its transaction
    statement_timeout: str | None
    # Statements with the same number run in one transaction (locks are held until its end);
    # an autocommitted statement has a number of its own.
    transaction: int = 0
    section: str = "up"


@dataclass(frozen=True)
class ColumnFact:
    """A column UP defines: in CREATE TABLE, ADD COLUMN or ALTER COLUMN ... TYPE.

    Type and convention rules read the definition as written (serial, varchar(n)) from `node`;
    what the column ends up as after the whole migration is in `ctx.schema_after`.
    """

    stmt: Statement
    table: str  # schema-qualified
    node: ast.ColumnDef
    action: str  # "create table" | "add column" | "alter type"
    type: str  # as format_type() prints it: `character varying(20)`, `timestamp without time zone`

    @property
    def name(self) -> str:
        return str(self.node.colname)

    @property
    def added(self) -> bool:
        return self.action != "alter type"


@dataclass(frozen=True)
class ConstraintFact:
    """A constraint UP declares: in CREATE TABLE (on a column or the table) or ALTER TABLE ADD."""

    stmt: Statement
    table: str  # schema-qualified
    node: ast.Constraint
    column: str | None  # the column it is written on, for column constraints


@dataclass
class MigrationFacts:
    created_tables: set[str] = field(default_factory=set)  # created in UP, schema-qualified
    created_in_down: set[str] = field(default_factory=set)  # DOWN recreating what UP dropped
    # the tables that are new (created, so empty) at each statement, by id(statement): see
    # `existing`; statements that share a set share the frozenset
    new_tables: dict[int, frozenset[str]] = field(default_factory=dict)
    # statements after a table RENAME: current name -> the name at the start of the section
    # (for UP, the name before this migration)
    renamed_from: dict[int, dict[str, str]] = field(default_factory=dict)
    statements: dict[int, StatementFacts] = field(default_factory=dict)  # by id(statement)
    has_explicit_transaction: bool = False
    columns: list[ColumnFact] = field(default_factory=list)  # in UP, in file order
    constraints: list[ConstraintFact] = field(default_factory=list)  # in UP, in file order
    runner_transaction: bool = False  # the runner wraps each section in one transaction
    transaction_mode: str = "per-file"
    schema: SchemaModel | None = None  # the model before this migration (ctx.schema_before)
    pg_version: tuple[int, ...] = (15,)
    large_tables: tuple[str, ...] = ()  # the `large-tables` option: names or fnmatch patterns
    # timeouts every session starts with: set by the runner (`runner-lock-timeout`), or by an
    # earlier migration's ALTER ROLE / ALTER DATABASE ... SET (see linter/replay.py)
    session_defaults: dict[str, str | None] = field(default_factory=dict)
    # what UP creates, so that DOWN statements dropping it are recognised as reverting
    created_indexes: set[str] = field(default_factory=set)
    created_columns: set[tuple[str, str]] = field(default_factory=set)
    created_constraints: set[tuple[str, str]] = field(default_factory=set)
    created_triggers: set[tuple[str, str]] = field(default_factory=set)
    # keys of everything UP creates, drops, renames or alters (see `reverts_up`)
    up_touched: set[tuple[str, ...]] = field(default_factory=set)
    dynamic_sql: bool = False  # a DO block of this migration runs SQL built at run time
    index_created_at: dict[str, int] = field(default_factory=dict)  # UP offset of the CREATE
    _locks: dict[int, list[TableLock]] = field(default_factory=dict, repr=False)
    _forward: dict[int, bool] = field(default_factory=dict, repr=False)

    def added_columns(self) -> list[ColumnFact]:
        return [c for c in self.columns if c.added]

    def of(self, stmt: Statement) -> StatementFacts:
        return self.statements[id(stmt)]

    def created_here(self, table: str, stmt: Statement) -> bool:
        """At `stmt`, the table is one its section created earlier (or `stmt` creates): empty.

        Newness is per section and per point: a table UP drops and DOWN re-creates is new in
        DOWN after its CREATE, never in UP; a table UP creates is new from its CREATE on, and
        in DOWN (which undoes UP); dropped, it is not new any more; renamed, it stays new."""
        return table in self.new_tables.get(id(stmt), self.created_tables)

    def name_before(self, table: str, stmt: Statement) -> str:
        """The name the table had before this migration, following renames in UP up to `stmt`:
        a table renamed in the migration keeps its history (columns, constraints, indexes)."""
        if stmt.section == "down":
            return table
        return self.renamed_from.get(id(stmt), {}).get(table, table)

    def _origin(self, table: str, stmt: Statement) -> str:
        """The name at the start of `stmt`'s section of the table called `table` at `stmt`.

        Lock targets found through an index are named as the model before the migration names
        them, so a name the section renamed away still means that table (a new table that took
        the name is empty and never locked: see `existing_locks`)."""
        return self.renamed_from.get(id(stmt), {}).get(table, table)

    def same_table(self, a: str, at_a: Statement, b: str, at_b: Statement) -> bool:
        """`a` at `at_a` and `b` at `at_b` (same section) name one table, following renames:
        after `ALTER TABLE t RENAME TO t_old`, `t_old` is the table `t` was."""
        return self._origin(a, at_a) == self._origin(b, at_b)

    def current_name(self, table: str, since: Statement, at: Statement) -> str:
        """The name at `at` of the table called `table` at `since` (earlier, same section)."""
        origin = self._origin(table, since)
        renames = self.renamed_from.get(id(at), {})
        for name, before in renames.items():
            if before == origin:
                return name
        return table

    def existing(self, table: str, stmt: Statement) -> bool:
        """At `stmt`, the table existed before this migration (or history is partial and it may
        have): lock rules apply to it. Tables created earlier in the section are empty, exempt."""
        return not self.created_here(table, stmt)

    def known_before(self, table: str) -> bool:
        """The schema model saw the table created by an earlier migration."""
        return self.schema is not None and self.schema.table(table) is not None

    def is_large(self, table: str) -> bool:
        """Named by the `large-tables` option (`orders`, `public.orders`, `audit_*`)."""
        short = table.split(".", 1)[1] if table.startswith("public.") else table
        return any(
            fnmatch.fnmatchcase(table, p) or fnmatch.fnmatchcase(short, p)
            for p in self.large_tables
        )

    def severity(self, table: str, default: str) -> str:
        """`error` for a known large table, whatever the rule's default."""
        return "error" if self.is_large(table) else default

    def locks(self, stmt: Statement) -> list[TableLock]:
        """The table locks `stmt` takes, judged against the schema before this migration."""
        key = id(stmt)
        if key not in self._locks:
            found = statement_locks(stmt.node, self.schema, self.pg_version)
            node = stmt.node
            if (
                isinstance(node, ast.DropStmt)
                and node.removeType == enums.ObjectType.OBJECT_INDEX
                and node.missing_ok
                and len(found) == len(node.objects or ())
            ):
                found = [
                    lock
                    for lock, names in zip(found, node.objects or (), strict=True)
                    if self.index_may_exist(list_name(names), stmt)
                ]
            self._locks[key] = found
        return self._locks[key]

    def index_may_exist(self, name: str, stmt: Statement) -> bool:
        """The index may exist at `stmt`. False when no earlier statement created it and the
        model missed nothing that could have: `DROP INDEX IF EXISTS` of it does nothing and
        locks nothing (a squashed history keeps such drops)."""
        if self.schema is None or self.dynamic_sql:
            return True
        created = self.index_created_at.get(name)
        if created is not None and (stmt.section == "down" or created < stmt.offset):
            return True
        if self.schema.index(name) is not None:
            return True
        return any(_may_hide_index(u, name) for u in self.schema.unmodelled)

    def existing_locks(self, stmt: Statement) -> list[TableLock]:
        """Locks on tables that existed before the migration (what can block production traffic)."""
        return [lk for lk in self.locks(stmt) if self.existing(lk.table, stmt)]

    def same_transaction(self, a: Statement, b: Statement) -> bool:
        fa, fb = self.statements.get(id(a)), self.statements.get(id(b))
        return fa is not None and fb is not None and fa.transaction == fb.transaction

    def forward(self, stmt: Statement) -> bool:
        """Forward (UP) rules judge this statement: not a DOWN statement reverting its UP."""
        if stmt.section != "down":
            return True
        key = id(stmt)
        if key not in self._forward:
            self._forward[key] = not self.reverts_up(stmt)
        return self._forward[key]

    def reverts_up(self, stmt: Statement) -> bool:
        """A DOWN statement that undoes this migration's UP: it drops what UP created, or restores
        what UP dropped, renamed or changed (same table and column, index, constraint, trigger).

        Forward rules stay quiet on it: it is the rollback of the UP, judged by DOWN's own rules."""
        if stmt.section != "down":
            return False
        node = stmt.node
        touched = self.up_touched
        if isinstance(node, ast.DropStmt):
            keys = _drop_keys(node)
            return bool(keys) and all(k in touched for k in keys)
        if isinstance(node, ast.AlterTableStmt):
            table = relation_name(node.relation)
            if table in self.created_tables or ("table", table) in touched:
                return True
            cmds = [c for c in node.cmds or () if isinstance(c, ast.AlterTableCmd)]
            return bool(cmds) and all(
                any(k in touched for k in _subcommand_keys(table, c)) for c in cmds
            )
        if isinstance(node, ast.IndexStmt) and node.idxname and node.relation is not None:
            return ("index", _sibling(relation_name(node.relation), node.idxname)) in touched
        if isinstance(node, (ast.CreateStmt, ast.CreateTableAsStmt)):
            rel = (
                node.relation
                if isinstance(node, ast.CreateStmt)
                else getattr(node.into, "rel", None)
            )
            return rel is not None and ("table", relation_name(rel)) in touched
        if isinstance(node, ast.CreateTrigStmt):
            return ("trigger", relation_name(node.relation), str(node.trigname)) in touched
        if isinstance(node, ast.RenameStmt) and node.relation is not None:
            table = relation_name(node.relation)
            return ("renamed", table) in touched or ("renamed", table, str(node.subname)) in touched
        return False


def _may_hide_index(gap: Any, name: str) -> bool:
    """Whether a statement the model did not apply may have created index `name`."""
    if gap.reason.startswith(_HARMLESS_GAPS):
        return False
    location = gap.location  # a Statement, or a StatementRef of history replayed before
    if getattr(location, "creates_index", False):  # an index on a view or a table the model lacks
        return location.index_name is None or location.index_name == name.rsplit(".", 1)[-1]
    return not gap.reason.endswith("is not a table")  # a change to a view makes no index


def set_value(node: ast.VariableSetStmt) -> str | None:
    """The value a `SET name = value` statement gives, as text (None for SET ... TO DEFAULT)."""
    if not node.args:
        return None
    arg = node.args[0]
    val = getattr(arg, "val", None)
    for attr in ("sval", "ival", "fval"):
        if val is not None and hasattr(val, attr):
            return str(getattr(val, attr))
    return None


_BEGIN = (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START)
_END = (
    TransactionStmtKind.TRANS_STMT_COMMIT,
    TransactionStmtKind.TRANS_STMT_ROLLBACK,
    TransactionStmtKind.TRANS_STMT_COMMIT_PREPARED,
    TransactionStmtKind.TRANS_STMT_ROLLBACK_PREPARED,
    TransactionStmtKind.TRANS_STMT_PREPARE,
)
TIMEOUTS = ("lock_timeout", "statement_timeout")


def _section_facts(
    section: Section, runner_tx: bool, facts: MigrationFacts, counter: list[int]
) -> None:
    """Transactions and timeouts, statement by statement, as the server would see them.

    `SET` lasts for the session; `SET LOCAL` only until its transaction ends (outside one it does
    nothing); `RESET` and `SET ... TO DEFAULT` go back to the server default (unknown: None).
    """
    explicit = False
    runner_open = runner_tx  # a COMMIT in a wrapped file ends the runner's transaction early
    defaults = {name: facts.session_defaults.get(name) for name in TIMEOUTS}
    session: dict[str, str | None] = dict(defaults)
    local: dict[str, str | None] = {}
    counter[0] += 1
    current = counter[0]
    for stmt in section.statements:
        node = stmt.node
        ends = False
        if isinstance(node, ast.TransactionStmt):
            if node.kind in _BEGIN:
                if not explicit and not runner_open:
                    counter[0] += 1
                    current = counter[0]
                    local = {}
                explicit = True
                facts.has_explicit_transaction = True
            elif node.kind in _END:
                ends = explicit or runner_open
                explicit = False
                runner_open = False
        in_tx = explicit or runner_open or ends
        if not in_tx:
            counter[0] += 1
            current = counter[0]
            local = {}
        if isinstance(node, ast.VariableSetStmt) and node.name in TIMEOUTS:
            value = (
                set_value(node)
                if node.kind == enums.VariableSetKind.VAR_SET_VALUE
                else defaults[node.name]  # RESET: back to the role's, database's or runner's
            )
            if node.is_local:
                if in_tx:
                    local[node.name] = value
            else:
                session[node.name] = value
                local.pop(node.name, None)
        facts.statements[id(stmt)] = StatementFacts(
            in_transaction=in_tx,
            explicit_transaction=explicit,
            lock_timeout=local.get("lock_timeout", session["lock_timeout"]),
            statement_timeout=local.get("statement_timeout", session["statement_timeout"]),
            transaction=current,
            section=section.kind,
        )
        if ends:
            local = {}


_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def duration_ms(value: str | None) -> float | None:
    """Milliseconds of a timeout setting (`'2s'`, `5000`, `'1min'`); None when unset or unreadable.

    A bare number is milliseconds, as PostgreSQL reads lock_timeout and statement_timeout."""
    if value is None:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", value.lower())
    if not m or m.group(2) not in ("", *_UNITS_MS):
        return None
    return float(m.group(1)) * (_UNITS_MS[m.group(2)] if m.group(2) else 1)


# Statements PostgreSQL refuses inside a transaction block; runners in "auto" mode (Flyway, the
# guide's migrate.sh) run a file that has one outside a transaction.
def runs_outside_transaction(node: Any) -> bool:
    if isinstance(node, (ast.IndexStmt, ast.DropStmt)):
        return bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return any(getattr(p, "defname", "") == "concurrently" for p in node.params or ())
    if isinstance(node, ast.AlterTableStmt):
        return any(
            isinstance(c, ast.AlterTableCmd)
            and c.subtype == AT.AT_DetachPartition
            and getattr(c.def_, "concurrent", False)
            for c in node.cmds or ()
        )
    if isinstance(node, ast.VacuumStmt):
        return bool(node.is_vacuumcmd)  # ANALYZE alone runs fine in a transaction
    return isinstance(node, (ast.CreatedbStmt, ast.DropdbStmt, ast.AlterSystemStmt))


_CONSTRAINT_KINDS = (
    enums.ConstrType.CONSTR_PRIMARY,
    enums.ConstrType.CONSTR_UNIQUE,
    enums.ConstrType.CONSTR_CHECK,
    enums.ConstrType.CONSTR_FOREIGN,
    enums.ConstrType.CONSTR_EXCLUSION,
)


def _column_fact(stmt: Statement, table: str, node: ast.ColumnDef, action: str) -> ColumnFact:
    from pgpreflight.linter.schema.names import format_type

    type_text = format_type(node.typeName) if node.typeName is not None else ""
    return ColumnFact(stmt, table, node, action, type_text)


def _column_constraints(stmt: Statement, table: str, node: ast.ColumnDef) -> list[ConstraintFact]:
    return [
        ConstraintFact(stmt, table, c, str(node.colname))
        for c in node.constraints or ()
        if isinstance(c, ast.Constraint) and c.contype in _CONSTRAINT_KINDS
    ]


def _definitions(migration: Migration, facts: MigrationFacts) -> None:
    """Columns and constraints that UP defines, for the type and convention rules."""
    for stmt in migration.up.statements:
        node = stmt.node
        if isinstance(node, ast.CreateStmt):
            table = relation_name(node.relation)
            for element in node.tableElts or ():
                if isinstance(element, ast.ColumnDef):
                    facts.columns.append(_column_fact(stmt, table, element, "create table"))
                    facts.constraints.extend(_column_constraints(stmt, table, element))
                elif isinstance(element, ast.Constraint) and element.contype in _CONSTRAINT_KINDS:
                    facts.constraints.append(ConstraintFact(stmt, table, element, None))
        elif isinstance(node, ast.AlterTableStmt) and node.objtype == enums.ObjectType.OBJECT_TABLE:
            table = relation_name(node.relation)
            for cmd in node.cmds or ():
                if not isinstance(cmd, ast.AlterTableCmd):
                    continue
                if cmd.subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
                    facts.columns.append(_column_fact(stmt, table, cmd.def_, "add column"))
                    facts.constraints.extend(_column_constraints(stmt, table, cmd.def_))
                elif cmd.subtype == AT.AT_AlterColumnType and isinstance(cmd.def_, ast.ColumnDef):
                    # ALTER COLUMN ... TYPE carries no column position: point at the type
                    column = ast.ColumnDef(
                        colname=cmd.name,
                        typeName=cmd.def_.typeName,
                        location=getattr(cmd.def_.typeName, "location", -1),
                    )
                    facts.columns.append(_column_fact(stmt, table, column, "alter type"))
                elif (
                    cmd.subtype == AT.AT_AddConstraint
                    and isinstance(cmd.def_, ast.Constraint)
                    and cmd.def_.contype in _CONSTRAINT_KINDS
                ):
                    facts.constraints.append(ConstraintFact(stmt, table, cmd.def_, None))


def _sibling(table: str, name: str) -> str:
    """`schema.name` for an object living in the schema of `table` (indexes, sequences)."""
    return f"{table.split('.', 1)[0]}.{name}"


def _drop_keys(node: ast.DropStmt) -> list[tuple[str, ...]]:
    kinds = {
        enums.ObjectType.OBJECT_TABLE: "table",
        enums.ObjectType.OBJECT_MATVIEW: "table",
        enums.ObjectType.OBJECT_VIEW: "table",
        enums.ObjectType.OBJECT_INDEX: "index",
    }
    if node.removeType == enums.ObjectType.OBJECT_TRIGGER:
        keys: list[tuple[str, ...]] = []
        for obj in node.objects or ():
            parts = [str(getattr(x, "sval", x)) for x in obj]
            keys.append(("trigger", list_name([ast.String(sval=p) for p in parts[:-1]]), parts[-1]))
        return keys
    kind = kinds.get(node.removeType) if node.removeType is not None else None
    if kind is None:
        return []
    return [(kind, list_name(o)) for o in node.objects or () if isinstance(o, (list, tuple))]


def _generated_name(table: str, con: ast.Constraint) -> str | None:
    """The name PostgreSQL gives an unnamed PRIMARY KEY, UNIQUE or FOREIGN KEY constraint."""
    from pgpreflight.linter.schema.names import make_object_name

    rel = table.split(".", 1)[1]
    cols = "_".join(str(getattr(k, "sval", k)) for k in con.keys or con.fk_attrs or ())
    if con.contype == enums.ConstrType.CONSTR_PRIMARY:
        return make_object_name(rel, None, "pkey")
    if con.contype == enums.ConstrType.CONSTR_UNIQUE and cols:
        return make_object_name(rel, cols, "key")
    if con.contype == enums.ConstrType.CONSTR_FOREIGN and cols:
        return make_object_name(rel, cols, "fkey")
    return None


def _subcommand_keys(table: str, cmd: ast.AlterTableCmd) -> list[tuple[str, ...]]:
    """What an ALTER TABLE subcommand works on: a column, a constraint, or the table itself."""
    keys: list[tuple[str, ...]] = []
    if isinstance(cmd.def_, ast.ColumnDef) and cmd.def_.colname:
        keys.append(("column", table, str(cmd.def_.colname)))
    if isinstance(cmd.def_, ast.Constraint):
        name = cmd.def_.conname or _generated_name(table, cmd.def_)
        if name:
            keys.append(("constraint", table, name))
        for key in cmd.def_.keys or cmd.def_.fk_attrs or ():
            keys.append(("column", table, str(getattr(key, "sval", key))))
    if cmd.name:
        keys.append(("column", table, str(cmd.name)))
        keys.append(("constraint", table, str(cmd.name)))
        keys.append(("trigger", table, str(cmd.name)))
    if not keys:
        keys.append(("table-option", table))
    return keys


def _touched(migration: Migration, facts: MigrationFacts) -> None:
    """Keys of what UP creates, drops, renames or alters, for `MigrationFacts.reverts_up`."""
    touched = facts.up_touched
    if migration.down is not None:
        for _stmt, node in migration.down.of(ast.CreateStmt, ast.CreateTableAsStmt):
            if isinstance(node, ast.CreateStmt):
                facts.created_in_down.add(relation_name(node.relation))
            elif isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
                facts.created_in_down.add(relation_name(node.into.rel))
    for stmt in migration.up.all_statements():
        node = stmt.node
        if isinstance(node, ast.DropStmt):
            touched.update(_drop_keys(node))
        elif isinstance(node, ast.AlterTableStmt) and node.relation is not None:
            table = relation_name(node.relation)
            for cmd in node.cmds or ():
                if isinstance(cmd, ast.AlterTableCmd):
                    touched.update(_subcommand_keys(table, cmd))
        elif isinstance(node, ast.IndexStmt) and node.idxname and node.relation is not None:
            touched.add(("index", _sibling(relation_name(node.relation), node.idxname)))
        elif isinstance(node, ast.CreateStmt):
            touched.add(("table", relation_name(node.relation)))
        elif isinstance(node, ast.CreateTrigStmt):
            touched.add(("trigger", relation_name(node.relation), str(node.trigname)))
        elif isinstance(node, ast.RenameStmt) and node.relation is not None and node.newname:
            table = relation_name(node.relation)
            if node.subname:  # column or constraint: DOWN renames the new name back
                touched.add(("renamed", table, str(node.newname)))
            else:
                touched.add(("renamed", _sibling(table, str(node.newname))))


def _created(migration: Migration, facts: MigrationFacts) -> None:
    """Tables, indexes, columns, constraints and triggers UP creates."""
    for _stmt, node in migration.up.of(ast.CreateStmt, ast.CreateTableAsStmt):
        if isinstance(node, ast.CreateStmt):
            facts.created_tables.add(relation_name(node.relation))
        elif isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
            facts.created_tables.add(relation_name(node.into.rel))
    for stmt, node in migration.up.of(ast.IndexStmt):
        if node.idxname and node.relation is not None:
            name = relation_name(
                ast.RangeVar(schemaname=node.relation.schemaname, relname=node.idxname)
            )
            facts.created_indexes.add(name)
            facts.index_created_at.setdefault(name, (stmt.parent or stmt).offset)
    for _stmt, node in migration.up.of(ast.CreateTrigStmt):
        facts.created_triggers.add((relation_name(node.relation), str(node.trigname)))
    for col in facts.columns:
        if col.action == "add column":
            facts.created_columns.add((col.table, col.name))
    for con in facts.constraints:
        if con.node.conname:
            facts.created_constraints.add((con.table, str(con.node.conname)))


def _newness(migration: Migration, facts: MigrationFacts) -> None:
    """`new_tables` and `renamed_from`: replay each section's CREATE, DROP and RENAME of tables.

    UP starts with no new table, DOWN with the tables UP created (DOWN undoes UP, soon after it).
    `CREATE TABLE IF NOT EXISTS` makes a new table only where the name is free at that point: a
    table the model saw before the migration is there unless the section dropped it or renamed
    it away first (then the name is free again and the table created under it is new and empty);
    DOWN starts where UP left the names."""
    renamed: dict[str, str] = {}
    present: dict[str, bool] = {}  # names the migration has freed (False) or taken (True)

    def exists(table: str) -> bool:
        return present.get(table, facts.known_before(table))

    for section in migration.sections():
        new = set() if section.kind == "up" else set(facts.created_tables)
        current = frozenset(new)
        renamed = {}
        for stmt in section.all_statements():
            if renamed:
                facts.renamed_from[id(stmt)] = renamed
            node = stmt.node
            created = _created_relation(node)
            if created is not None:
                if not (getattr(node, "if_not_exists", False) and exists(created)):
                    new.add(created)
                present[created] = True
            elif (
                isinstance(node, ast.DropStmt) and node.removeType == enums.ObjectType.OBJECT_TABLE
            ):
                dropped = [list_name(o) for o in node.objects or () if isinstance(o, (list, tuple))]
                new.difference_update(dropped)
                present.update(dict.fromkeys(dropped, False))
            elif (
                isinstance(node, ast.RenameStmt)
                and node.renameType == enums.ObjectType.OBJECT_TABLE
                and node.relation is not None
            ):
                table = relation_name(node.relation)
                target = _sibling(table, str(node.newname))
                if table in new:  # a new table stays new under its new name
                    new.discard(table)
                    new.add(target)
                else:  # an existing one keeps its history
                    renamed = {k: v for k, v in renamed.items() if k != table}
                    renamed[target] = facts.renamed_from.get(id(stmt), {}).get(table, table)
                present[table], present[target] = False, True
            if new != current:
                current = frozenset(new)  # shared by the statements until the next change
            facts.new_tables[id(stmt)] = current


def _created_relation(node: ast.Node) -> str | None:
    """The table (or materialized view) a CREATE TABLE [AS] statement makes."""
    if isinstance(node, ast.CreateStmt):
        return relation_name(node.relation)
    if isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
        return relation_name(node.into.rel)
    return None


def _opens_own_transaction(section: Section) -> bool:
    """The section's first transaction statement is a BEGIN: the file runs its own transaction.

    A COMMIT before any BEGIN (`COMMIT; CREATE INDEX CONCURRENTLY ...; BEGIN;`) ends the
    transaction the runner opened, so the statements before it ran in the runner's."""
    for stmt in section.statements:
        if isinstance(stmt.node, ast.TransactionStmt) and (
            stmt.node.kind in _BEGIN or stmt.node.kind in _END
        ):
            return stmt.node.kind in _BEGIN
    return False


def compute_facts(
    migration: Migration,
    transaction_mode: str = "per-file",
    *,
    schema: SchemaModel | None = None,
    pg_version: tuple[int, ...] = (15,),
    large_tables: tuple[str, ...] | list[str] = (),
    defaults: dict[str, str | None] | None = None,
) -> MigrationFacts:
    """`transaction_mode`: "per-file" (the runner wraps every file unless a directive says not
    to), "none" (it never does), "auto" (it wraps a file unless the file holds a statement that
    cannot run in a transaction, as Flyway does)."""
    facts = MigrationFacts(
        schema=schema,
        pg_version=tuple(pg_version),
        large_tables=tuple(large_tables),
        transaction_mode=transaction_mode,
        session_defaults=dict(defaults or {}),
    )
    facts.dynamic_sql = any(s.do is not None and s.do.dynamic for s in migration.statements())
    _definitions(migration, facts)
    _created(migration, facts)
    _touched(migration, facts)
    _newness(migration, facts)
    runner_tx = migration.in_transaction and transaction_mode in ("per-file", "auto")
    # Flyway itself detects statements PostgreSQL refuses in a transaction and runs such a
    # script without one, whatever the transaction mode says.
    detects = transaction_mode == "auto" or migration.convention == "flyway"
    if detects and any(runs_outside_transaction(s.node) for s in migration.statements()):
        runner_tx = False
    facts.runner_transaction = runner_tx
    # A file with its own BEGIN/COMMIT is run as written by the runners that honour it; one that
    # starts with COMMIT (then BEGIN to re-open) works inside the runner's transaction.
    counter = [0]
    for section in migration.sections():
        wrapped = runner_tx and not _opens_own_transaction(section)
        if migration.convention == "golang-migrate" and len(section.statements) == 1:
            # golang-migrate sends the whole file as one query: several statements run as one
            # implicit transaction, a lone statement (CREATE INDEX CONCURRENTLY) runs alone.
            wrapped = False
        _section_facts(section, wrapped, facts, counter)
    return facts
