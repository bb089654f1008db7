"""Where application queries come from: the `queries` files of the configuration and
`pgpreflight: query` comment blocks inside migrations.

Nothing here imports sqlglot: finding out *whether* there are queries must stay cheap, so that a
plain `pgpreflight lint` of a project without queries never pays for the SQL parser.

A query block in a migration is a comment, so the migration runner never executes it:

    -- pgpreflight: query
    -- SELECT id FROM oficinas WHERE nome ILIKE '%' || $1 || '%';

or, for longer queries, one block comment:

    /* pgpreflight: query
       SELECT ... ; */

The query text starts after the word `query` and, for `--` comments, runs over the comment
lines that follow directly, up to the first line that ends with `;` or the end of the comment run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pgpreflight.linter.config import Config
from pgpreflight.linter.errors import InputError
from pgpreflight.linter.migration import Migration, SourceFile

_NAME = re.compile(r"--\s*name\s*:\s*([\w.-]+)", re.I)
_DIRECTIVE = re.compile(r"^(?:--|/\*)\s*pgpreflight\s*:\s*query\b", re.I)


@dataclass(frozen=True)
class AppQuery:
    """One application query and where it is written."""

    source: SourceFile
    offset: int
    """Character offset of the query text in `source`."""
    text: str
    """The SQL as the parser gets it (comment markers of a migration block blanked out, so that
    offsets inside `text` still map one to one onto the file)."""
    origin: str
    """`file` (from the `queries` setting) or `migration` (a `pgpreflight: query` block)."""
    name: str | None = None
    """From a `-- name: find_user_by_email` comment just above the query (the yesql/sqlc
    convention), for labels in the evidence."""

    @property
    def line(self) -> int:
        return self.source.lines.position(self.offset + _leading_space(self.text))[0]

    @property
    def where(self) -> str:
        """`queries/oficinas.sql:12`, the way messages name a query."""
        return f"{self.source.display}:{self.line}"

    def position(self, offset_in_text: int) -> tuple[int, int]:
        return self.source.lines.position(self.offset + offset_in_text)


def _leading_space(text: str) -> int:
    return len(text) - len(text.lstrip())


def query_files(config: Config) -> list[Path]:
    """The files named by `queries`, paths or globs relative to the configuration's folder.

    A plain path that does not exist is a usage error (exit 2); a glob matching nothing is not,
    so that a project can configure `queries/**/*.sql` before it has any.
    """
    files: list[Path] = []
    for entry in config.get("queries"):
        if any(ch in entry for ch in "*?["):
            files.extend(p for p in sorted(config.root.glob(entry)) if p.is_file())
            continue
        path = config.root / entry
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.sql") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            where = config.path or "configuration"
            raise InputError(f"{where}: queries entry '{entry}' names no file or folder ({path})")
    seen: set[Path] = set()
    unique = []
    for f in files:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            unique.append(f)
    return unique


def read_query_file(path: Path) -> SourceFile:
    from pgpreflight.linter.discovery import display_path

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise InputError(f"{display_path(path)}: cannot read query file: {reason}") from err
    return SourceFile(path, display_path(path), text)


def split_statements(source: SourceFile) -> list[AppQuery]:
    """The statements of a query file, split at top-level semicolons found by PostgreSQL's own
    scanner (a `;` inside a string, a comment or a dollar-quoted body does not split)."""
    from pglast.parser import ParseError, scan

    text = source.text
    try:
        tokens = scan(text)
        cuts = [t.start for t in tokens if t.name == "ASCII_59"]
        code = [t for t in tokens if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    except ParseError:
        # An unterminated string: the whole file is one query, and the parser says what is wrong.
        cuts, code = [], None
    queries: list[AppQuery] = []
    start = 0
    for cut in [*cuts, len(text)]:
        chunk = text[start:cut]
        first_code = (
            next((t.start for t in code if start <= t.start < cut), None)
            if code is not None
            else start
        )
        if chunk.strip() and first_code is not None:
            # The query starts at its first token: leading comments only give it a name.
            named = _NAME.findall(text[start:first_code])
            queries.append(
                AppQuery(
                    source, first_code, text[first_code:cut], "file", named[-1] if named else None
                )
            )
        start = cut + 1
    return queries


def migration_blocks(source: SourceFile, comment_spans: list[tuple[int, int]]) -> list[AppQuery]:
    """`pgpreflight: query` blocks of one migration file, given its comment spans."""
    text = source.text
    found: list[AppQuery] = []
    i = 0
    while i < len(comment_spans):
        start, end = comment_spans[i]
        comment = text[start:end]
        m = _DIRECTIVE.match(comment)
        if not m:
            i += 1
            continue
        body_start = start + m.end()
        if comment.startswith("/*"):
            body = text[body_start : end - 2]
            found.append(AppQuery(source, body_start, body, "migration"))
            i += 1
            continue
        # A run of `--` comments, each on its own line right below the previous one.
        pieces = [(body_start, text[body_start:end])]
        j = i + 1
        while not pieces[-1][1].rstrip().endswith(";") and j < len(comment_spans):
            nstart, nend = comment_spans[j]
            between = text[comment_spans[j - 1][1] : nstart]
            if between.count("\n") > 1 or between.strip() or not text[nstart:nend].startswith("--"):
                break
            if _DIRECTIVE.match(text[nstart:nend]):
                break
            pieces.append((nstart + 2, text[nstart + 2 : nend]))
            j += 1
        # Rebuild the text with the same offsets: blank out everything between the pieces.
        first = pieces[0][0]
        last = pieces[-1][0] + len(pieces[-1][1])
        chars = [" " if ch != "\n" else "\n" for ch in text[first:last]]
        for p_start, p_text in pieces:
            chars[p_start - first : p_start - first + len(p_text)] = list(p_text)
        body = "".join(chars).rstrip()
        if body.endswith(";"):
            body = body[:-1]
        if body.strip():
            found.append(AppQuery(source, first, body, "migration"))
        i = j
    return found


def collect(config: Config, migrations: list[Migration]) -> list[AppQuery]:
    """Every application query: configured files first, then migration blocks in history order."""
    from pgpreflight.linter.parsing import comment_spans

    queries: list[AppQuery] = []
    for path in query_files(config):
        queries.extend(split_statements(read_query_file(path)))
    for migration in migrations:
        for source in migration.sources:
            if "pgpreflight" not in source.text or "query" not in source.text:
                continue
            queries.extend(migration_blocks(source, comment_spans(source)))
    return queries
