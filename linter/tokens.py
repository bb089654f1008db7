"""Where the words of a statement are in its file, from PostgreSQL's own scanner.

Fixes edit text, and pglast's tree gives the location of some nodes only (a column definition, a
type name, a constraint), never where a clause ends. The scanner knows quotes, dollar quotes and
comments, so a comma inside a string literal or a comment never ends a clause here, as it would
for a regular expression.
"""

from __future__ import annotations

from dataclasses import dataclass

from pglast.parser import ParseError, scan
from pgpreflight.linter.migration import SourceFile, Statement

_OPEN = ("ASCII_40", "ASCII_91")  # ( [
_CLOSE = ("ASCII_41", "ASCII_93")  # ) ]
COMMA, DOT, SEMICOLON = "ASCII_44", "ASCII_46", "ASCII_59"


@dataclass(frozen=True)
class Token:
    """One token: `[start, end)` in the file's text, and the scanner's name for it (`IDENT`,
    `ASCII_44` for a comma, `INDEX`, `IF_P` for a keyword)."""

    start: int
    end: int
    name: str
    text: str

    @property
    def word(self) -> str:
        """The token as written, lower case (keywords and unquoted names alike)."""
        return self.text.lower()


def scan_text(source: SourceFile, start: int, end: int) -> list[Token]:
    """Significant tokens (no comments) of `source.sql[start:end]`, with file offsets; [] when
    the scanner refuses the text."""
    text = source.sql[start:end]
    try:
        raw = scan(text)
    except ParseError:
        return []
    return [
        Token(
            start + t.start,
            start + t.end + 1,
            t.name,
            source.text[start + t.start : start + t.end + 1],
        )
        for t in raw
        if t.name not in ("SQL_COMMENT", "C_COMMENT")
    ]


def semicolon_after(source: SourceFile, offset: int) -> Token | None:
    """The first `;` at or after `offset`: where text goes to follow a statement."""
    return next(
        (t for t in scan_text(source, offset, len(source.text)) if t.name == SEMICOLON), None
    )


def statement_tokens(stmt: Statement) -> list[Token]:
    """The statement's significant tokens, its closing semicolon excluded (scanned once per
    statement: a fix per column of a CREATE TABLE asks for them once per column). Read only."""
    return stmt.tokens


def scan_statement(stmt: Statement) -> list[Token]:
    """What `Statement.tokens` holds."""
    return [t for t in scan_text(stmt.source, stmt.offset, stmt.end_offset) if t.name != SEMICOLON]


def index_at(tokens: list[Token], offset: int) -> int | None:
    """Index of the first token that starts at or after `offset`."""
    for i, token in enumerate(tokens):
        if token.start >= offset:
            return i
    return None


def keywords_at(tokens: list[Token], i: int, *names: str) -> bool:
    """Tokens `i`, `i+1`, ... are the keywords `names` (scanner names, e.g. `IF_P`, `NOT`)."""
    return len(tokens) >= i + len(names) and all(
        tokens[i + k].name == name for k, name in enumerate(names)
    )


def element_end(tokens: list[Token], i: int) -> int:
    """Index after the last token of the list element that starts at token `i`: up to a comma or
    a closing parenthesis at its own level (a column definition in CREATE TABLE, a subcommand of
    ALTER TABLE)."""
    depth = 0
    j = i
    while j < len(tokens):
        name = tokens[j].name
        if name in _OPEN:
            depth += 1
        elif name in _CLOSE:
            if depth == 0:
                break
            depth -= 1
        elif name == COMMA and depth == 0:
            break
        j += 1
    return j


def name_end(tokens: list[Token], i: int) -> int:
    """Index after a possibly qualified name starting at token `i` (`s.t`, `"T"`, `t *`)."""
    j = i + 1
    while j + 1 < len(tokens) and tokens[j].name == DOT:
        j += 2
    if j < len(tokens) and tokens[j].name == "ASCII_42":  # `t *`: the table and its children
        j += 1
    return j


def alter_table_commands(
    tokens: list[Token], relation_offset: int, count: int
) -> list[tuple[int, int]] | None:
    """Token index ranges `[first, after)` of each subcommand of an ALTER TABLE whose table name
    starts at `relation_offset`, in order; None when the text does not split into the `count`
    commands pglast saw (the caller then offers no fix)."""
    first = index_at(tokens, relation_offset)
    if first is None:
        return None
    i = name_end(tokens, first)
    spans: list[tuple[int, int]] = []
    while i < len(tokens):
        end = element_end(tokens, i)
        if end == i:
            return None
        spans.append((i, end))
        i = end + 1  # past the comma
    return spans if len(spans) == count else None


# Words that end a type name in a column definition: a constraint, a default, a collation, the
# USING of ALTER COLUMN TYPE.
_AFTER_TYPE = {
    "NOT",
    "NULL_P",
    "DEFAULT",
    "CONSTRAINT",
    "PRIMARY",
    "UNIQUE",
    "CHECK",
    "REFERENCES",
    "GENERATED",
    "COLLATE",
    "USING",
    "COMPRESSION",
    "STORAGE",
    "DEFERRABLE",
    "INITIALLY",
}


def type_tokens(stmt: Statement, type_name: object) -> list[Token]:
    """The tokens of a column's type as written (`character varying(20)`, `timestamp(3)
    without time zone`, `pg_catalog.json[]`), from the type node's location."""
    location = getattr(type_name, "location", None)
    if not isinstance(location, int) or location < 0:
        return []
    tokens = statement_tokens(stmt)
    i = index_at(tokens, stmt.base + location)
    if i is None or tokens[i].start != stmt.base + location:
        return []
    out: list[Token] = []
    depth = 0
    for token in tokens[i:]:
        if depth == 0 and (token.name in _AFTER_TYPE or token.name in (COMMA, *_CLOSE)):
            break
        if token.name in _OPEN:
            depth += 1
        elif token.name in _CLOSE:
            depth -= 1
        out.append(token)
    return out
