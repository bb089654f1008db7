"""What a migration is, whatever convention wrote it: a version, a name, an UP and a DOWN section."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pgpreflight.linter.positions import LineIndex

if TYPE_CHECKING:  # a result loaded from the cache or a file is shown without pglast loaded
    from pglast import ast

N = TypeVar("N", bound="ast.Node")


@dataclass
class SourceFile:
    """One file on disk. `display` is the path as reports show it (relative to the cwd)."""

    path: Path
    display: str
    text: str
    # pop renders every .sql file as a Go template before running it: the text with its
    # `{{ index .Options "Namespace" }}` actions read as the option's name, of the same length
    # (parsing.render_go_template); None when the file is sent as it is.
    rendered: str | None = None

    @cached_property
    def lines(self) -> LineIndex:
        return LineIndex(self.text)

    @cached_property
    def digest(self) -> bytes:
        """SHA-256 of the text: what names the history in the replay state keys
        (`replay.chain_keys`), hashed once per file however often the keys are computed (on
        every keystroke in the language server)."""
        import hashlib

        return hashlib.sha256(self.text.encode("utf-8", "surrogateescape")).digest()

    @property
    def sql(self) -> str:
        """The SQL the runner sends, offset for offset the file's text."""
        return self.text if self.rendered is None else self.rendered


@dataclass(frozen=True)
class FileProblem:
    """A file that cannot be linted as SQL (binary, not UTF-8, empty, meta-commands)."""

    kind: str  # "binary" | "encoding" | "empty" | "comments-only" | "meta-command" | "unreadable"
    message: str
    source: SourceFile
    offset: int = 0


@dataclass(frozen=True)
class SyntaxProblem:
    message: str
    source: SourceFile
    offset: int
    section: str


@dataclass(frozen=True)
class DynamicSql:
    """An `EXECUTE` in a DO block whose SQL is built at run time: not analysed."""

    statement: Statement  # the DO statement
    offset: int  # file offset of the EXECUTE expression
    expression: str


@dataclass
class DoBody:
    """A DO block's PL/pgSQL body as PostgreSQL's PL/pgSQL parser reads it: its parse tree (or
    the error that parser gives), the SQL statements it runs and the dynamic SQL it builds."""

    tree: dict[str, Any] | None = None
    error: Exception | None = None
    nested: list[Statement] = field(default_factory=list)
    dynamic: list[DynamicSql] = field(default_factory=list)


@dataclass(eq=False)
class Statement:
    """One parsed statement with the exact place it starts and ends in its file."""

    node: ast.Node
    text: str
    source: SourceFile
    offset: int
    end_offset: int
    section: str
    index: int
    # Offset of the string pglast parsed, so that node.location values map back into the file.
    base: int = 0
    # The DO statement this one runs inside (see `nested`); None for top-level statements.
    parent: Statement | None = None
    # What a DO block's PL/pgSQL body runs, read once when the statement is parsed
    # (linter/plpgsql.py); None for every other statement.
    do: DoBody | None = None

    @property
    def nested(self) -> list[Statement]:
        """The SQL statements a `DO` block runs, with their own file positions; empty for every
        other statement."""
        return self.do.nested if self.do is not None else []

    @property
    def path(self) -> Path:
        return self.source.path

    @property
    def creates_index(self) -> bool:
        if self.node is None:  # a statement loaded from a saved result
            return False
        from pglast import ast

        return isinstance(self.node, ast.IndexStmt)

    @property
    def index_name(self) -> str | None:
        """The name CREATE INDEX gives, if it gives one."""
        name = getattr(self.node, "idxname", None) if self.creates_index else None
        return str(name) if name is not None else None

    @property
    def line(self) -> int:
        return self.source.lines.position(self.offset)[0]

    @property
    def column(self) -> int:
        return self.source.lines.position(self.offset)[1]

    @property
    def end_line(self) -> int:
        return self.source.lines.position(self.end_offset)[0]

    @property
    def end_column(self) -> int:
        return self.source.lines.position(self.end_offset)[1]

    @cached_property
    def fingerprint(self) -> str:
        """A hash of the statement that ignores whitespace, comments and line moves."""
        from pglast.parser import fingerprint

        try:
            return str(fingerprint(self.text))
        except Exception:  # pglast refuses some utility statements; fall back to text.
            import hashlib

            norm = re.sub(r"\s+", " ", self.text.strip().lower())
            return hashlib.sha1(norm.encode()).hexdigest()[:16]

    @cached_property
    def tokens(self) -> list[Any]:
        """PostgreSQL's scanner's significant tokens of the statement (linter/tokens.py), its
        closing semicolon excluded; shared by every rule and fix that reads them: do not change."""
        from pgpreflight.linter.tokens import scan_statement

        return scan_statement(self)

    def node_offset(self, node: Any) -> int:
        """File offset of a node inside this statement (its start when the node has none)."""
        loc = getattr(node, "location", None)
        if isinstance(loc, int) and loc >= 0:
            return self.base + loc
        return self.offset


@dataclass
class Section:
    """The UP or the DOWN part of a migration, with its statements in file order."""

    kind: str  # "up" | "down"
    source: SourceFile
    start: int  # offset of the first character of the section's body
    end: int
    marker_offset: int | None = None  # where the `-- DOWN` (etc.) marker line starts
    parser: Callable[[Section], None] | None = field(default=None, repr=False, compare=False)
    """Fills the section (`fill`) on first use; discovery passes `parsing.parse_section`. A
    section is parsed only when something reads it: history that a cached replay covers
    (linter/replay.py) never is, which is most of a one-file pre-commit run."""
    opaque: bool = False
    """Code the runner runs and the linter cannot read (concourse's `.up.go` migrations,
    linter/filenames.py): the section is there and does something, but no statement of it is
    known. Rules judging UP against DOWN stay silent; the replay records an unmodelled gap."""

    def __post_init__(self) -> None:
        self._statements: list[Statement] = []
        self._syntax_errors: list[SyntaxProblem] = []
        self._has_code = self.opaque

    def fill(
        self, statements: list[Statement], syntax_errors: list[SyntaxProblem], has_code: bool
    ) -> None:
        self.parser = None
        self._statements, self._syntax_errors, self._has_code = statements, syntax_errors, has_code
        for answered in ("_flat", "_of"):  # asked of the statements before
            self.__dict__.pop(answered, None)

    def _parsed(self) -> None:
        if self.parser is not None:
            self.parser(self)
            self.parser = None

    @property
    def statements(self) -> list[Statement]:
        self._parsed()
        return self._statements

    @property
    def syntax_errors(self) -> list[SyntaxProblem]:
        self._parsed()
        return self._syntax_errors

    @property
    def has_code(self) -> bool:
        """Any token other than comments."""
        self._parsed()
        return self._has_code

    def of(self, *types: type[N], nested: bool = True) -> Iterator[tuple[Statement, N]]:
        """Statements whose node is one of `types`, as (statement, node) pairs.

        With `nested` (the default), the statements a `DO` block runs follow the block itself,
        so every rule also checks SQL inside DO blocks; `stmt.parent` tells them apart.
        Each question is answered once per section: ninety rules ask a few each, tens of
        thousands of times over a long history.
        """
        answers = self.__dict__.setdefault("_of", {})
        found = answers.get((types, nested))
        if found is None:
            statements = self._expanded() if nested else self.statements
            found = answers[(types, nested)] = [
                (stmt, stmt.node) for stmt in statements if isinstance(stmt.node, types)
            ]
        return iter(found)

    def alter_commands(self, *subtypes: Any) -> Iterator[tuple[Statement, str, ast.AlterTableCmd]]:
        """(statement, schema-qualified table, subcommand) for every ALTER TABLE subcommand of
        one of `subtypes` (pglast AlterTableType members), DO blocks included: the loop a dozen
        rules would otherwise each write again."""
        from pglast import ast
        from pgpreflight.linter.names import relation_name

        for stmt, node in self.of(ast.AlterTableStmt):
            if node.relation is None:
                continue
            table = relation_name(node.relation)
            for cmd in node.cmds or ():
                if isinstance(cmd, ast.AlterTableCmd) and cmd.subtype in subtypes:
                    yield stmt, table, cmd

    def all_statements(self) -> Iterator[Statement]:
        """`statements` in file order, each `DO` block followed by the statements it runs."""
        return iter(self._expanded())

    def _expanded(self) -> list[Statement]:
        cached = self.__dict__.get("_flat")
        if cached is None:
            cached = self.__dict__["_flat"] = [
                s for stmt in self.statements for s in (stmt, *stmt.nested)
            ]
        return cached


@dataclass
class Migration:
    version: str
    name: str
    convention: str
    sources: list[SourceFile]
    up: Section
    down: Section | None
    # True when the migration runner wraps the file in a transaction (per-file mode and no
    # runner directive turning that off).
    in_transaction: bool = True
    problems: list[FileProblem] = field(default_factory=list)
    # Filled by the engine: False for history that was read only to build the schema model.
    reported: bool = True
    # What the runner records in its history table to tell migrations apart, when that is not
    # the version: sql-migrate records the whole file name, so `1-a.sql` and `1-b.sql` are two.
    identity: str = ""
    # A Flyway `R__` script: no version, (re)applied after every versioned migration.
    repeatable: bool = False

    @property
    def id(self) -> str:
        if self.repeatable:
            return f"R__{self.name}"
        return f"{self.version}__{self.name}" if self.name else self.version

    @property
    def recorded_as(self) -> tuple[object, ...]:
        """The key under which the runner records this migration as applied: two migrations with
        one key are one too many (duplicate-version)."""
        if self.repeatable:
            return ("repeatable", self.name)
        if self.identity:
            return ("identity", self.identity)
        return ("version", self.version_key)

    @property
    def source(self) -> SourceFile:
        return self.sources[0]

    @property
    def version_key(self) -> tuple[tuple[int, int | str], ...]:
        if self.repeatable:  # after every versioned migration, by description as Flyway does
            return ((2, self.name),)
        return version_key(self.version, self.convention)

    @property
    def opaque(self) -> bool:
        """A section of it is code the linter cannot read (see `Section.opaque`)."""
        return any(section.opaque for section in self.sections())

    def sections(self) -> Iterator[Section]:
        """UP, then DOWN when there is one."""
        yield self.up
        if self.down is not None:
            yield self.down

    def statements(self) -> Iterator[Statement]:
        yield from self.up.statements
        if self.down is not None:
            yield from self.down.statements


def version_key(version: str, convention: str = "") -> tuple[tuple[int, int | str], ...]:
    """Order versions as the runner does.

    Most runners compare numbers part by part: 1.10 after 1.9, 202401011200 after 20231231.
    Dashes between digits are dropped first, so that `2017-08-31-230457` is 20170831230457.
    Numbers sort before words so that mixed keys never compare an int with a str.

    Diesel (`dir-pair`) drops the dashes and compares the strings: `2025-11-19-091444-0000`
    (18 digits once stripped) sorts before `2026-01-20-162913`, where a numeric order would put
    every 18-digit version after every 14-digit one.
    """
    joined = re.sub(r"(?<=\d)-(?=\d)", "", version)
    if convention == "dir-pair":
        return ((1, version.replace("-", "")),)
    parts = re.findall(r"\d+|[^\d._\-]+", joined)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts) or ((1, version),)


_SPLIT_VERSION = re.compile(r"^(?P<stamp>\d{14})(?P<sequence>\d{6})$")


def split_group(migration: Migration, history: list[Migration]) -> list[Migration]:
    """The migrations one pop migration was split into, in version order; [] when it was not.

    ory's histories (kratos) split each migration into one file per statement: versions
    `<14-digit timestamp><6-digit sequence>`, one name. Their DOWN files are numbered in the
    order of the original DOWN's statements, not as the inverse of the UP with the same number
    (`...000000.up.sql` drops a table that `...000014.down.sql` recreates); rolling the migration
    back runs every one of them, highest version first. Only the group reverts as a whole.
    A question about many migrations of one history goes to `split_groups` once (a lint run's
    `Analysis.split_group`): asking this of each is quadratic, a quarter of kratos's lint.
    """
    if _split_key(migration) is None:
        return []
    return split_groups([m for m in history if m.name == migration.name]).get(id(migration), [])


def split_groups(history: list[Migration]) -> dict[int, list[Migration]]:
    """`split_group` of every migration of `history` that has one, by `id()` of the migration:
    one pass over the history."""
    by_key: dict[tuple[object, ...], list[Migration]] = {}
    for migration in history:
        key = _split_key(migration)
        if key is not None:
            by_key.setdefault(key, []).append(migration)
    groups: dict[int, list[Migration]] = {}
    for members in by_key.values():
        if len(members) > 1:
            ordered = sorted(members, key=lambda other: other.version_key)
            groups.update((id(m), ordered) for m in members)
    return groups


def _split_key(migration: Migration) -> tuple[object, ...] | None:
    """What the files of one split migration share: name, timestamp and folder."""
    m = _SPLIT_VERSION.match(migration.version)
    if migration.convention != "pop" or m is None:
        return None
    return (migration.name, m.group("stamp"), migration.source.path.parent)
