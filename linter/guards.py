"""IF [NOT] EXISTS written into a statement, for the fixes of the rules that ask for it
(prefer-robust-statements, down-not-idempotent, extension-without-if-not-exists).

Each function returns the edit that guards one statement or one ALTER TABLE subcommand, or None
when the text does not read as the parse tree says (the rule then offers no fix).
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ObjectType
from pgpreflight.linter.findings import Edit
from pgpreflight.linter.fixes import insert
from pgpreflight.linter.migration import Statement
from pgpreflight.linter.tokens import (
    Token,
    alter_table_commands,
    index_at,
    keywords_at,
    statement_tokens,
)

# The words between DROP and the first name, as the scanner names them.
_DROP_WORDS = {
    ObjectType.OBJECT_TABLE: ("TABLE",),
    ObjectType.OBJECT_INDEX: ("INDEX",),
    ObjectType.OBJECT_VIEW: ("VIEW",),
    ObjectType.OBJECT_MATVIEW: ("MATERIALIZED", "VIEW"),
    ObjectType.OBJECT_SEQUENCE: ("SEQUENCE",),
    ObjectType.OBJECT_TYPE: ("TYPE_P",),
    ObjectType.OBJECT_DOMAIN: ("DOMAIN_P",),
    ObjectType.OBJECT_FUNCTION: ("FUNCTION",),
    ObjectType.OBJECT_PROCEDURE: ("PROCEDURE",),
    ObjectType.OBJECT_TRIGGER: ("TRIGGER",),
    ObjectType.OBJECT_EXTENSION: ("EXTENSION",),
    ObjectType.OBJECT_SCHEMA: ("SCHEMA",),
    ObjectType.OBJECT_POLICY: ("POLICY",),
    ObjectType.OBJECT_FOREIGN_TABLE: ("FOREIGN", "TABLE"),
    ObjectType.OBJECT_RULE: ("RULE",),
    ObjectType.OBJECT_AGGREGATE: ("AGGREGATE",),
    ObjectType.OBJECT_COLLATION: ("COLLATION",),
}
# The word after which CREATE ... takes IF NOT EXISTS.
_CREATE_WORD = {
    ast.CreateStmt: "TABLE",
    ast.CreateSeqStmt: "SEQUENCE",
    ast.CreateSchemaStmt: "SCHEMA",
    ast.CreateExtensionStmt: "EXTENSION",
    ast.IndexStmt: "INDEX",
}


def _after(tokens: list[Token], name: str) -> Token | None:
    """The first token named `name`, or the CONCURRENTLY right after it."""
    for i, token in enumerate(tokens):
        if token.name == name:
            if i + 1 < len(tokens) and tokens[i + 1].name == "CONCURRENTLY":
                return tokens[i + 1]
            return token
    return None


def create_if_not_exists(stmt: Statement) -> Edit | None:
    """`CREATE TABLE|SEQUENCE|SCHEMA|EXTENSION|INDEX IF NOT EXISTS`."""
    node = stmt.node
    word = _CREATE_WORD.get(type(node))
    if word is None or getattr(node, "if_not_exists", True):
        return None
    if isinstance(node, ast.IndexStmt) and not node.idxname:
        return None  # IF NOT EXISTS needs a name
    if isinstance(node, ast.CreateSchemaStmt) and node.schemaElts:
        return None  # PostgreSQL refuses IF NOT EXISTS with schema elements
    token = _after(statement_tokens(stmt), word)
    return insert(stmt.source, token.end, " IF NOT EXISTS") if token else None


def drop_if_exists(stmt: Statement) -> Edit | None:
    """`DROP <kind> [CONCURRENTLY] IF EXISTS`."""
    node = stmt.node
    if not isinstance(node, ast.DropStmt) or node.missing_ok:
        return None
    words = _DROP_WORDS.get(node.removeType) if node.removeType is not None else None
    tokens = statement_tokens(stmt)
    if words is None or not keywords_at(tokens, 0, "DROP", *words):
        return None
    last = tokens[len(words)]
    if len(tokens) > len(words) + 1 and tokens[len(words) + 1].name == "CONCURRENTLY":
        last = tokens[len(words) + 1]
    return insert(stmt.source, last.end, " IF EXISTS")


def alter_guard(stmt: Statement, index: int) -> Edit | None:
    """IF [NOT] EXISTS in subcommand `index` of an ALTER TABLE: ADD COLUMN IF NOT EXISTS,
    DROP COLUMN IF EXISTS, DROP CONSTRAINT IF EXISTS."""
    node = stmt.node
    if not isinstance(node, ast.AlterTableStmt) or node.relation is None:
        return None
    cmds = list(node.cmds or ())
    cmd = cmds[index]
    if not isinstance(cmd, ast.AlterTableCmd) or cmd.missing_ok:
        return None
    if cmd.subtype == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
        return insert(stmt.source, stmt.node_offset(cmd.def_), "IF NOT EXISTS ")
    if cmd.subtype not in (AT.AT_DropColumn, AT.AT_DropConstraint):
        return None
    tokens = statement_tokens(stmt)
    spans = alter_table_commands(tokens, stmt.node_offset(node.relation), len(cmds))
    if spans is None:
        return None
    first, _ = spans[index]
    if not keywords_at(tokens, first, "DROP"):
        return None
    word = tokens[first]
    if cmd.subtype == AT.AT_DropConstraint:
        if not keywords_at(tokens, first, "DROP", "CONSTRAINT"):
            return None
        word = tokens[first + 1]
    elif keywords_at(tokens, first, "DROP", "COLUMN"):
        word = tokens[first + 1]
    return insert(stmt.source, word.end, " IF EXISTS")


def relation_text(stmt: Statement, relation: ast.RangeVar) -> str | None:
    """The table's name as the statement writes it (`s."T"`), for a statement about it."""
    from pgpreflight.linter.tokens import name_end

    tokens = statement_tokens(stmt)
    first = index_at(tokens, stmt.node_offset(relation))
    if first is None:
        return None
    end = name_end(tokens, first)
    if tokens[end - 1].name == "ASCII_42":
        end -= 1
    return stmt.source.text[tokens[first].start : tokens[end - 1].end]
