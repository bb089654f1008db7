"""Facts about one migration that many rules need, computed once by the engine and shared on `ctx`.

Rules never recompute these nor import them from each other: what is a table created in this
migration, which statements run inside a transaction, and whether `lock_timeout` and
`statement_timeout` are set before a statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast
from pglast.enums import TransactionStmtKind

from linter.migration import Migration, Section, Statement
from linter.names import relation_name


@dataclass
class StatementFacts:
    in_transaction: bool  # inside a transaction block (runner's or an explicit BEGIN)
    explicit_transaction: bool  # inside the file's own BEGIN ... COMMIT
    lock_timeout: str | None  # value of the last SET [LOCAL] lock_timeout before it, if any
    statement_timeout: str | None


@dataclass
class MigrationFacts:
    created_tables: set[str] = field(default_factory=set)  # created in UP, schema-qualified
    statements: dict[int, StatementFacts] = field(default_factory=dict)  # by id(statement)
    has_explicit_transaction: bool = False

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


def compute_facts(migration: Migration, transaction_mode: str = "per-file") -> MigrationFacts:
    facts = MigrationFacts()
    for stmt, node in migration.up.of(ast.CreateStmt, ast.CreateTableAsStmt):
        rel = node.relation if isinstance(node, ast.CreateStmt) else node.into.rel
        facts.created_tables.add(relation_name(rel))
    runner_tx = migration.in_transaction and transaction_mode == "per-file"
    # A file with its own BEGIN/COMMIT is run as written by the runners that honour it.
    sections = [migration.up] + ([migration.down] if migration.down else [])
    for section in sections:
        has_begin = any(isinstance(s.node, ast.TransactionStmt) for s in section.statements)
        _section_facts(section, runner_tx and not has_begin, facts)
    return facts
