"""Building the `Fix` of a finding: edits at offsets of a file, new files, and the few rewrites
several rules share (the runner's no-transaction marker, the `SET lock_timeout` line).

A fix is *safe* when the schema the migration leaves is the one it left before and only the way
there changes (CONCURRENTLY, IF [NOT] EXISTS, a lock timeout), or when it changes a column of a
table the same migration creates, which nothing has read or written yet. It is *unsafe* when it
changes what existing data, a running application or a failed deploy meets (a column type of an
existing table, a constraint split over two migrations, a file that stops running in one
transaction while it holds statements that cannot simply run again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pglast import ast
from pglast.enums import AlterTableType as AT
from pgpreflight.linter.findings import Edit, Fix
from pgpreflight.linter.migration import Migration, SourceFile, Statement
from pgpreflight.linter.tokens import Token

if TYPE_CHECKING:
    from pgpreflight.linter.config import Config
    from pgpreflight.linter.facts import MigrationFacts

LOCK_TIMEOUT = "2s"
"""The lock timeout fixes set: the guide's, and what `pgpreflight new` writes."""


def edit(source: SourceFile, start: int, end: int, replacement: str) -> Edit:
    """Replace `[start, end)` of `source`'s text."""
    start_line, start_column = source.lines.position(start)
    end_line, end_column = source.lines.position(end)
    return Edit(
        path=source.display,
        start=start,
        end=end,
        replacement=replacement,
        start_line=start_line,
        start_column=start_column,
        end_line=end_line,
        end_column=end_column,
    )


def insert(source: SourceFile, offset: int, text: str) -> Edit:
    return edit(source, offset, offset, text)


def new_file(path: Path, text: str) -> Edit:
    """Create `path` (it must not exist: the applier refuses to overwrite a file)."""
    from pgpreflight.linter.discovery import display_path

    return Edit(display_path(path), 0, 0, text, 1, 1, 1, 1, new_file=True)


def safe(description: str, *edits: Edit) -> Fix:
    return Fix(description, "safe", tuple(edits))


def unsafe(description: str, *edits: Edit) -> Fix:
    return Fix(description, "unsafe", tuple(edits))


def newline(source: SourceFile) -> str:
    """The file's line ending (its first line's), so that inserted lines match the others."""
    first = source.text.find("\n")
    return "\r\n" if first > 0 and source.text[first - 1] == "\r" else "\n"


def line_start(source: SourceFile, offset: int) -> int:
    return source.text.rfind("\n", 0, offset) + 1


def insert_line_before(source: SourceFile, offset: int, line: str) -> Edit:
    """`line` on a line of its own above the line holding `offset` (at `offset` itself when
    code precedes it on that line), indented as that line is."""
    start = line_start(source, offset)
    before = source.text[start:offset]
    if before.strip():
        return insert(source, offset, line + " ")
    return insert(source, offset, line + newline(source) + before)


_GOOSE_BLOCK = re.compile(r"^[ \t]*--[ \t]*\+goose[ \t]+StatementBegin\b", re.I | re.M)


def lock_timeout_edit(source: SourceFile, first: Statement) -> Edit:
    """`SET lock_timeout` on a line of its own above `first`, the first statement of a section
    (above goose's `StatementBegin` when `first` opens such a block: the SET is a statement of
    its own)."""
    offset = first.offset
    start = line_start(source, offset)
    previous = source.text.rfind("\n", 0, max(start - 1, 0)) + 1
    if start > 0 and _GOOSE_BLOCK.match(source.text, previous, start):
        offset = previous
    return insert_line_before(source, offset, f"SET lock_timeout = '{LOCK_TIMEOUT}';")


# ----------------------------------------------------------------- leaving the transaction


@dataclass(frozen=True)
class Leaving:
    """How a statement made CONCURRENTLY gets out of the runner's transaction: the marker edits
    (none when the runner needs none), and whether the file, which ran in one transaction,
    now runs without one."""

    edits: tuple[Edit, ...]
    leaves_transaction: bool


_UP_DOWN = {"up": r"up", "down": r"down"}


def _marker_word(migration: Migration, stmt: Statement, pattern: str, add: str) -> Edit | None:
    """Append ` add` to the word `pattern` of the section marker line of `stmt`'s section."""
    section = migration.up if stmt.section == "up" else migration.down
    if section is None or section.marker_offset is None:
        return None
    source = section.source
    end = source.text.find("\n", section.marker_offset)
    line_end = len(source.text) if end == -1 else end
    line = source.text[section.marker_offset : line_end]
    m = re.match(pattern, line, re.I)
    if m is None or "transaction" in line.lower():
        return None  # a transaction option already there is the author's to change
    return insert(source, section.marker_offset + m.end(), add)


def marker_edits(migration: Migration, stmt: Statement) -> tuple[Edit, ...] | None:
    """Edits that make the runner of `migration` leave its file outside a transaction, in the
    words of its convention (linter/notransaction.py names the same markers); None where the
    convention has no per-file marker (golang-migrate, pop) or it cannot be written here."""
    source = migration.source
    nl = newline(source)
    convention = migration.convention
    if convention == "goose":
        return (insert(source, 0, "-- +goose NO TRANSACTION" + nl),)
    if convention in ("updown", "plain"):
        from pgpreflight.linter.notransaction import UPDOWN_MARKER

        return (insert(source, 0, UPDOWN_MARKER + nl),)
    if convention == "sql-migrate":
        word = _UP_DOWN[stmt.section]
        found = _marker_word(
            migration, stmt, r"[ \t]*--[ \t]*\+migrate[ \t]+" + word, " notransaction"
        )
        return (found,) if found else None
    if convention == "dbmate":
        word = _UP_DOWN[stmt.section]
        found = _marker_word(
            migration, stmt, r"[ \t]*--[ \t]*migrate:" + word, " transaction:false"
        )
        return (found,) if found else None
    if convention == "dir-pair":
        meta = migration.source.path.parent / "metadata.toml"
        if meta.exists():
            return None  # its own settings: not rewritten
        return (new_file(meta, "run_in_transaction = false\n"),)
    return None


def leave_transaction(
    migration: Migration, facts: MigrationFacts, stmt: Statement
) -> Leaving | None:
    """What it takes for `stmt`, once CONCURRENTLY, to run outside a transaction; None when a
    fix cannot get it there (the file's own BEGIN, a convention with no marker)."""
    if stmt.parent is not None:
        return None  # a DO block is one transaction
    state = facts.of(stmt)
    if not state.in_transaction:
        return Leaving((), False)
    if state.explicit_transaction:
        return None
    if facts.transaction_mode == "auto" or migration.convention == "flyway":
        return Leaving((), True)  # the runner sees the CONCURRENTLY and leaves the file unwrapped
    if facts.transaction_mode != "per-file":
        return None
    edits = marker_edits(migration, stmt)
    return Leaving(edits, True) if edits is not None else None


_NEUTRAL = (
    ast.VariableSetStmt,
    ast.TransactionStmt,
    ast.CommentStmt,
    ast.SelectStmt,
    ast.GrantStmt,
    ast.ReindexStmt,
)


def rerunnable(node: ast.Node) -> bool:
    """A statement that does no harm when a file run without a transaction is run again after a
    partial failure: neutral, or guarded by IF [NOT] EXISTS / OR REPLACE."""
    if isinstance(node, _NEUTRAL):
        return True
    if isinstance(node, ast.IndexStmt):
        # IF NOT EXISTS, or a named build the same fix makes CONCURRENTLY IF NOT EXISTS
        return bool(node.if_not_exists) or (bool(node.idxname) and not node.concurrent)
    if isinstance(node, ast.DropStmt):
        return bool(node.missing_ok)
    if isinstance(
        node, (ast.CreateStmt, ast.CreateSeqStmt, ast.CreateSchemaStmt, ast.CreateExtensionStmt)
    ):
        return bool(node.if_not_exists)
    if isinstance(node, (ast.CreateFunctionStmt, ast.ViewStmt)):
        return bool(node.replace)
    if isinstance(node, ast.AlterTableStmt):
        return all(
            isinstance(cmd, ast.AlterTableCmd)
            and cmd.subtype in (AT.AT_AddColumn, AT.AT_DropColumn, AT.AT_DropConstraint)
            and cmd.missing_ok
            for cmd in node.cmds or ()
        )
    return False


def leaving_is_safe(migration: Migration, stmt: Statement) -> bool:
    """Whether the file of `stmt` can stop running in one transaction without a partial failure
    leaving it unable to run again: every other statement is re-runnable."""
    return all(other is stmt or rerunnable(other.node) for other in migration.statements())


def marker_words(edits: tuple[Edit, ...]) -> str:
    """How the description names the marker edits: `'-- +goose NO TRANSACTION'`."""
    words = []
    for e in edits:
        text = e.replacement.strip()
        words.append(f"{text} in {Path(e.path).name}" if e.new_file else repr(text))
    return " and ".join(words)


def concurrently(
    migration: Migration,
    facts: MigrationFacts,
    stmt: Statement,
    offset: int,
    words: str,
) -> Fix | None:
    """Insert `words` (`CONCURRENTLY`, `CONCURRENTLY IF NOT EXISTS`) at `offset` of `stmt`, with
    the runner's no-transaction marker when the file needs one. Unsafe when the file stops
    running in one transaction while another of its statements cannot run again after a
    partial failure."""
    leaving = leave_transaction(migration, facts, stmt)
    if leaving is None:
        return None
    edits = (*leaving.edits, insert(stmt.source, offset, f" {words}"))
    description = f"add {words}"
    if leaving.edits:
        description += f" and {marker_words(leaving.edits)}"
    if leaving.leaves_transaction and not leaving_is_safe(migration, stmt):
        return unsafe(
            description + ": the file then runs outside a transaction, and its other statements "
            "fail when it is run again after a partial failure",
            *edits,
        )
    return safe(description, *edits)


# ----------------------------------------------------------------- column types


def type_base(stmt: Statement, type_name: object) -> tuple[list[Token], int] | None:
    """The tokens of a column's type as written and the index of its base word (past a
    `pg_catalog.` qualifier); None for a statement a fix cannot edit (inside a DO block)."""
    from pgpreflight.linter.tokens import DOT, type_tokens

    if stmt.parent is not None:
        return None
    tokens = type_tokens(stmt, type_name)
    if not tokens:
        return None
    base = 2 if len(tokens) > 2 and tokens[1].name == DOT else 0
    return tokens, base


def retype(
    stmt: Statement, start: Token, end: Token, replacement: str, new_column: bool, what: str
) -> Fix:
    """Replace the type written from `start` to `end` (tokens). Safe for a column this migration
    adds (no row holds a value yet, no deployed code reads it), unsafe for ALTER COLUMN TYPE of
    an existing one, where the fix changes what the existing values become."""
    change = edit(stmt.source, start.start, end.end, replacement)
    if new_column:
        return safe(f"declare {what}", change)
    return unsafe(
        f"declare {what}: ALTER COLUMN TYPE then converts the existing values to it",
        change,
    )


def column_is_new(facts: MigrationFacts, stmt: Statement, table: str, action: str) -> bool:
    """The column is one this migration adds, or its table one this migration creates."""
    return action in ("create table", "add column") or facts.created_here(table, stmt)


def check_name(config: Config, table: str, column: str, what: str) -> str | None:
    """A name for a new CHECK on `column` that follows the project's `index-naming`
    check-patterns (default `ck_<table>_*`): `ck_cities_name_length`; None when it would be
    longer than PostgreSQL keeps (the CHECK then goes unnamed, named by PostgreSQL)."""
    from pgpreflight.linter.registry import load_rule

    defaults = load_rule("index-naming").options
    patterns = [str(p) for p in config.rule_options("index-naming", defaults)["check-patterns"]]
    pattern = next((p for p in patterns if p.endswith("*")), patterns[0] if patterns else "")
    if not pattern:
        return None
    has_column = "<column>" in pattern or "<columns>" in pattern
    name = (
        pattern.replace("<table>", table)
        .replace("<columns>", column)
        .replace("<column>", column)
        .replace("*", what if has_column else f"{column}_{what}")
    )
    return name if len(name.encode()) < 63 and "*" not in name else None


def corrupts_indexes(pg_version: tuple[int, ...]) -> bool:
    """PostgreSQL 14.0 to 14.3, where CREATE INDEX and REINDEX CONCURRENTLY can corrupt the
    index (concurrent-index-corruption-risk): no fix adds CONCURRENTLY there."""
    return len(pg_version) > 1 and pg_version[0] == 14 and pg_version[1] <= 3
