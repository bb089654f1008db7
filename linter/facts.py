"""Facts about one migration that many rules need, computed once by the engine and shared on `ctx`.

Rules never recompute these nor import them from each other: what is a table created in this
migration, which statements run inside a transaction, and whether `lock_timeout` and
`statement_timeout` are set before a statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast, enums
from pglast.enums import TransactionStmtKind

from linter.migration import Migration, Section, Statement
from linter.names import relation_name

AT = enums.AlterTableType


@dataclass
class StatementFacts:
    in_transaction: bool  # inside a transaction block (runner's or an explicit BEGIN)
    explicit_transaction: bool  # inside the file's own BEGIN ... COMMIT
    lock_timeout: str | None  # value of the last SET [LOCAL] lock_timeout before it, if any
    statement_timeout: str | None


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
    statements: dict[int, StatementFacts] = field(default_factory=dict)  # by id(statement)
    has_explicit_transaction: bool = False
    columns: list[ColumnFact] = field(default_factory=list)  # in UP, in file order
    constraints: list[ConstraintFact] = field(default_factory=list)  # in UP, in file order

    def added_columns(self) -> list[ColumnFact]:
        return [c for c in self.columns if c.added]

    def of(self, stmt: Statement) -> StatementFacts:
        return self.statements[id(stmt)]

    def created_here(self, table: str) -> bool:
        return table in self.created_tables


def _set_value(node: ast.VariableSetStmt) -> str | None:
    if not node.args:
        return None
    arg = node.args[0]
    val = getattr(arg, "val", None)
    for attr in ("sval", "ival", "fval"):
        if val is not None and hasattr(val, attr):
            return str(getattr(val, attr))
    return None


def _section_facts(section: Section, runner_tx: bool, facts: MigrationFacts) -> None:
    explicit = False
    lock_timeout: str | None = None
    statement_timeout: str | None = None
    for stmt in section.statements:
        node = stmt.node
        if isinstance(node, ast.TransactionStmt):
            if node.kind in (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START):
                explicit = True
                facts.has_explicit_transaction = True
            elif node.kind in (TransactionStmtKind.TRANS_STMT_COMMIT, TransactionStmtKind.TRANS_STMT_ROLLBACK):
                explicit = False
        if isinstance(node, ast.VariableSetStmt) and node.name in ("lock_timeout", "statement_timeout"):
            value = _set_value(node)
            if node.name == "lock_timeout":
                lock_timeout = value
            else:
                statement_timeout = value
        facts.statements[id(stmt)] = StatementFacts(
            in_transaction=explicit or runner_tx,
            explicit_transaction=explicit,
            lock_timeout=lock_timeout,
            statement_timeout=statement_timeout,
        )


_CONSTRAINT_KINDS = (
    enums.ConstrType.CONSTR_PRIMARY,
    enums.ConstrType.CONSTR_UNIQUE,
    enums.ConstrType.CONSTR_CHECK,
    enums.ConstrType.CONSTR_FOREIGN,
    enums.ConstrType.CONSTR_EXCLUSION,
)


def _column_fact(stmt: Statement, table: str, node: ast.ColumnDef, action: str) -> ColumnFact:
    from linter.schema.names import format_type

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
                    column = ast.ColumnDef(colname=cmd.name, typeName=cmd.def_.typeName,
                                           location=cmd.def_.typeName.location)
                    facts.columns.append(_column_fact(stmt, table, column, "alter type"))
                elif cmd.subtype == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
                    if cmd.def_.contype in _CONSTRAINT_KINDS:
                        facts.constraints.append(ConstraintFact(stmt, table, cmd.def_, None))


def compute_facts(migration: Migration, transaction_mode: str = "per-file") -> MigrationFacts:
    facts = MigrationFacts()
    for stmt, node in migration.up.of(ast.CreateStmt, ast.CreateTableAsStmt):
        rel = node.relation if isinstance(node, ast.CreateStmt) else node.into.rel
        facts.created_tables.add(relation_name(rel))
    _definitions(migration, facts)
    runner_tx = migration.in_transaction and transaction_mode == "per-file"
    # A file with its own BEGIN/COMMIT is run as written by the runners that honour it.
    sections = [migration.up] + ([migration.down] if migration.down else [])
    for section in sections:
        has_begin = any(isinstance(s.node, ast.TransactionStmt) for s in section.statements)
        _section_facts(section, runner_tx and not has_begin, facts)
    return facts
