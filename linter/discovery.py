"""Finding migrations on disk and splitting them into UP and DOWN, whatever runner wrote them.

Conventions (auto-detected, or forced with `convention`):
- one file with marker comments: `-- UP`/`-- DOWN` (the guide's), dbmate `-- migrate:up`,
  goose `-- +goose Up`, sql-migrate `-- +migrate Up`;
- file pairs: `NAME.up.sql`/`NAME.down.sql` (golang-migrate, sqlx; pop's `.postgres.` and
  `.autocommit.` variants, see linter/filenames.py), `DIR/up.sql`/`DIR/down.sql` (diesel, hasura),
  Flyway `V<ver>__<name>.sql` with an optional `U<ver>__<name>.sql`, and its repeatable
  `R__<name>.sql` scripts, applied after the versioned ones; beside golang-migrate style pairs,
  concourse's Go migrations (`NAME.up.go`), read as opaque halves (`Section.opaque`); beside
  goose files, goose's Go migrations (`VERSION_NAME.go`), opaque both ways.

One folder given to `discover` holds one history: two subfolders whose migrations share versions
(a `legacy/` history beside the current one) are an input error naming both, never merged.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pgpreflight.linter.errors import InputError
from pgpreflight.linter.filenames import (
    CODE_PAIR_FILE,
    PAIR_FILE,
    is_code_file,
    pair_groups,
    split_version,
)
from pgpreflight.linter.migration import FileProblem, Migration, Section, SourceFile
from pgpreflight.linter.notransaction import UPDOWN_PATTERN
from pgpreflight.linter.parsing import (
    GO_TEMPLATE_ACTION,
    blank_meta_commands,
    parse_section,
    render_go_template,
)


@dataclass(frozen=True)
class MarkerStyle:
    convention: str
    up: re.Pattern[str]
    down: re.Pattern[str]


def _marker(body: str) -> re.Pattern[str]:
    # `\r`: a marker line of a file with Windows line endings ends in one
    return re.compile(r"^[ \t]*--[ \t]*" + body + r"(?:[ \t]*:|[ \t\r]|$).*$", re.I | re.M)


# Most specific first: a goose file also matches nothing of the guide's plain `-- UP`.
MARKER_STYLES = (
    MarkerStyle("goose", _marker(r"\+goose[ \t]+up"), _marker(r"\+goose[ \t]+down")),
    MarkerStyle("sql-migrate", _marker(r"\+migrate[ \t]+up"), _marker(r"\+migrate[ \t]+down")),
    MarkerStyle("dbmate", _marker(r"migrate:up"), _marker(r"migrate:down")),
    MarkerStyle("updown", _marker(r"up"), _marker(r"down")),
)
MARKER_CONVENTIONS = {s.convention for s in MARKER_STYLES}


_NO_TRANSACTION = (
    re.compile(r"^[ \t]*--[ \t]*\+goose[ \t]+no[ \t]+transaction\b", re.I | re.M),
    re.compile(r"^[ \t]*--[ \t]*\+migrate[ \t]+(?:up|down)[ \t]+notransaction\b", re.I | re.M),
    re.compile(r"^[ \t]*--[ \t]*migrate:(?:up|down)\b.*transaction:false", re.I | re.M),
    re.compile(r"^[ \t]*--[ \t]*atlas:txmode[ \t]+none\b", re.I | re.M),
)
_FLYWAY = re.compile(r"^(?P<kind>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<name>.+)\.sql$")
_FLYWAY_REPEATABLE = re.compile(r"^R__(?P<name>.+)\.sql$")
# A Flyway per-script configuration (`V1__x.sql.conf`) turning the transaction off.
_FLYWAY_NO_TX = re.compile(r"^\s*executeInTransaction\s*=\s*false\s*$", re.I | re.M)
_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", ".tox"}


def display_path(path: Path, cwd: Path | None = None) -> str:
    """The path as shown in every output. A file name that is not valid UTF-8 keeps its odd
    bytes visible as `\\xe9` escapes: shown raw they would make the JSON, SARIF and HTML invalid
    text."""
    shown = _within_cwd(path) if cwd is None else None
    if shown is None:
        try:
            shown = os.path.relpath(path, cwd or Path.cwd())
        except ValueError:  # another drive on Windows
            shown = str(path)
    return shown.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _within_cwd(path: Path) -> str | None:
    """What `os.path.relpath(path)` gives where it is only a normalisation (a relative path that
    does not climb out, an absolute one under the cwd), without its calls; else None. A history's
    hundreds of files are all shown."""
    plain = os.path.normpath(path)
    if not os.path.isabs(plain):
        return None if plain.startswith(os.pardir) else plain
    here = os.getcwd() + os.sep
    return plain[len(here) :] if plain.startswith(here) else None


MAX_FILE_BYTES = 20 * 1024 * 1024
"""Largest migration file read (20 MiB). Real migrations are kilobytes; a data dump committed as a
migration, or a link to /dev/zero, must not eat the machine's memory."""


def read_source(
    path: Path,
    problems: list[FileProblem],
    max_bytes: int = MAX_FILE_BYTES,
    text: str | None = None,
) -> SourceFile:
    """Read a file as UTF-8 text; binary or undecodable files become problems, not tracebacks.
    Only regular files are read: a FIFO would block for ever, a device never ends.

    `text` stands in for the file's content (an editor's unsaved buffer, standard input): it
    goes through the same checks, so a buffer is judged exactly as the file it will be saved as.
    """
    shown = display_path(path)
    if text is not None:
        data = text.encode("utf-8", "surrogateescape")
    else:
        try:
            with open(path, "rb", opener=_open_regular) as f:
                data = f.read(max_bytes + 1)
        except _NotRegular as err:
            raise InputError(
                f"{shown}: not a regular file ({err}): only SQL files are read"
            ) from None
        except OSError as err:
            raise InputError(f"{shown}: cannot read file: {err.strerror or err}") from err
    if len(data) > max_bytes:
        raise InputError(
            f"{shown}: file is larger than {max_bytes / (1024 * 1024):g} MiB: not a migration "
            "pgpreflight reads (the limit is max-file-mib in the configuration)"
        )
    if b"\x00" in data[:8192]:
        source = SourceFile(path, shown, "")
        problems.append(FileProblem("binary", "file is binary, not SQL text", source))
        return source
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        prefix = data[: err.start].decode("utf-8", "replace")
        source = SourceFile(path, shown, prefix)
        problems.append(
            FileProblem(
                "encoding",
                f"file is not valid UTF-8 (byte 0x{data[err.start]:02x} at byte offset {err.start})",
                source,
                offset=len(prefix),
            )
        )
        return source
    return SourceFile(path, shown, decoded)


Overlay = Mapping[Path, str]
"""Texts that stand for files, written or not (`discover(texts=)`): an editor's unsaved buffers,
`lint -`'s standard input, and `lint --fix`'s fixed texts, linted pass after pass before anything
is written (`--diff` never writes them)."""


@dataclass(frozen=True)
class Reader:
    """How discovery reads a migration file: at most `max_bytes`, and from `texts` (keyed by
    resolved path) rather than from the disk for the files an editor holds unsaved or that
    `lint -` reads from standard input. One reader per discovery, handed down to every file."""

    max_bytes: int = MAX_FILE_BYTES
    texts: Mapping[Path, str] = field(default_factory=dict)

    def read(self, path: Path, problems: list[FileProblem]) -> SourceFile:
        text = self.texts.get(path.resolve()) if self.texts else None
        return read_source(path, problems, self.max_bytes, text)

    def companion(self, path: Path) -> str | None:
        """A small file beside the migrations (diesel's metadata.toml, Flyway's .conf), from
        `texts` first (`lint --fix` may be writing one), or None if absent."""
        if self.texts and path.resolve() in self.texts:
            return self.texts[path.resolve()]
        return path.read_text(errors="replace") if path.is_file() else None


class _NotRegular(OSError):
    pass


def _open_regular(path: str, flags: int) -> int:
    """Open without blocking (a FIFO with no writer would wait for ever), then refuse anything
    that is not a regular file."""
    fd = os.open(path, flags | os.O_NONBLOCK)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "a directory"
            if stat.S_ISDIR(mode)
            else "not a file"
        )
        raise _NotRegular(kind)
    os.set_blocking(fd, True)
    return fd


def _unreadable(problems: list[FileProblem]) -> bool:
    return any(p.kind in ("binary", "encoding") for p in problems)


def _no_transaction(text: str) -> bool:
    lowered = text.lower()
    if "transaction" not in lowered and "txmode" not in lowered:
        return False  # what every directive says: four regex passes over every file spared
    return any(p.search(text) for p in _NO_TRANSACTION)


def _file_checks(source: SourceFile, problems: list[FileProblem]) -> None:
    if not source.text.strip():
        if not any(p.source is source for p in problems):
            problems.append(FileProblem("empty", "file is empty", source))
        return
    _meta_commands(source, problems)


def _meta_commands(source: SourceFile, problems: list[FileProblem]) -> None:
    _, metas = blank_meta_commands(source.text)
    for offset, command in metas:
        problems.append(
            FileProblem(
                "meta-command",
                f"psql meta-command '{command[:40]}' is not SQL; migration runners send files "
                "to the server, which rejects it",
                source,
                offset=offset,
            )
        )


def _whole(kind: str, source: SourceFile) -> Section:
    return Section(kind, source, 0, len(source.text), parser=parse_section)


def _marker_file(path: Path, forced: str | None, reader: Reader) -> Migration:
    problems: list[FileProblem] = []
    source = reader.read(path, problems)
    if _unreadable(problems):  # keep the readable prefix for positions, parse nothing
        version, name = split_version(path.stem)
        return Migration(
            version,
            name,
            forced or "plain",
            [source],
            Section("up", source, 0, 0),
            None,
            problems=problems,
        )
    _file_checks(source, problems)
    text = source.text
    style = None
    for candidate in MARKER_STYLES:
        if forced and candidate.convention != forced:
            continue
        if candidate.up.search(text) or candidate.down.search(text):
            style = candidate
            break
    version, name = split_version(
        path.name[:-4] if path.name.lower().endswith(".sql") else path.name
    )
    if style is None:
        up = _whole("up", source)
        migration = Migration(version, name, forced or "plain", [source], up, None)
    else:
        up_m = style.up.search(text)
        down_m = style.down.search(text)
        down_start = down_m.start() if down_m else len(text)
        if up_m and up_m.start() < down_start:
            up = Section(
                "up",
                source,
                up_m.end(),
                down_start,
                marker_offset=up_m.start(),
                parser=parse_section,
            )
        else:  # no UP marker: what precedes DOWN is the UP.
            up = Section("up", source, 0, down_start, parser=parse_section)
        down = None
        if down_m:
            down_end = up_m.start() if up_m and up_m.start() > down_m.start() else len(text)
            down = Section(
                "down",
                source,
                down_m.end(),
                down_end,
                marker_offset=down_m.start(),
                parser=parse_section,
            )
        migration = Migration(version, name, style.convention, [source], up, down)
        if style.convention == "sql-migrate":
            migration.identity = path.name  # its history table's id column
    migration.problems = problems
    migration.in_transaction = not _no_transaction(text)
    if migration.convention in ("updown", "plain") and UPDOWN_PATTERN.search(text):
        migration.in_transaction = False  # the guide's `-- NO TRANSACTION` (notransaction.py)
    return migration


def _pair(
    version: str,
    name: str,
    convention: str,
    up_path: Path | None,
    down_path: Path | None,
    reader: Reader,
    extra_no_tx: bool = False,
) -> Migration:
    problems: list[FileProblem] = []
    sources: list[SourceFile] = []
    up_code = up_path is not None and is_code_file(up_path)
    down_code = down_path is not None and is_code_file(down_path)
    up_source = reader.read(up_path, problems) if up_path and not up_code else None
    down_source = reader.read(down_path, problems) if down_path and not down_code else None
    read = [s for s in (up_source, down_source) if s is not None]
    if convention in ("golang-migrate", "pop") and any(
        GO_TEMPLATE_ACTION.search(s.text) for s in read
    ):
        # Only pop renders `.up.sql` files as Go templates: golang-migrate would send the
        # `{{ ... }}` to the server, so the history is pop's (supabase auth's is).
        convention = "pop"
        for s in read:
            s.rendered = render_go_template(s.text)
    if up_path is not None and up_code:
        up_source = _code_source(up_path)
        up = Section("up", up_source, 0, 0, opaque=True)
    elif up_source is None:
        # A lone down file still is a migration: its UP is missing, which rules report.
        other = down_source or _code_source(down_path)
        up_source = SourceFile(other.path, other.display, "")
        up = Section("up", up_source, 0, 0)
    elif _unreadable(problems):
        up = Section("up", up_source, 0, 0)
    else:
        _file_checks(up_source, problems)
        up = _whole("up", up_source)
    sources.append(up_source)
    down = None
    if down_path is not None and down_code:
        down_source = _code_source(down_path)
        down = Section("down", down_source, 0, 0, opaque=True)
        sources.append(down_source)
    elif down_source is not None and _unreadable(problems):
        down = Section("down", down_source, 0, 0)
        sources.append(down_source)
    elif down_source is not None:
        _meta_commands(down_source, problems)
        down = _whole("down", down_source)
        sources.append(down_source)
    texts = "\n".join(s.text for s in sources)
    migration = Migration(version, name, convention, sources, up, down, problems=problems)
    migration.in_transaction = not (extra_no_tx or _no_transaction(texts))
    return migration


def _code_source(path: Path | None) -> SourceFile:
    """A Go migration stands in the history as a file of no SQL (`Section.opaque`)."""
    assert path is not None
    return SourceFile(path, display_path(path), "")


def _code_files(
    folders: Iterable[Path], paths: Sequence[Path], pattern: re.Pattern[str] = CODE_PAIR_FILE
) -> list[Path]:
    """The Go migrations (`NAME.up.go`; goose's `VERSION_NAME.go` with `pattern`) of the folders
    that `paths` walked: the runner runs them between the SQL files, so they take their place in
    the history."""
    walked = [p.resolve() for p in paths if p.is_dir()]
    found: list[Path] = []
    for folder in sorted(set(folders)):
        real = folder.resolve()
        if not any(real == w or w in real.parents for w in walked):
            continue
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        found.extend(folder / n for n in names if pattern.match(n))
    return found


GOOSE_CODE_FILE = re.compile(r"^\d+_\w+(?<!_test)\.go$")
"""A goose Go migration: `<version>_<name>.go`, registered with `goose.AddMigration...` (its
tests, `_test.go`, are none)."""


def _goose_code(path: Path) -> Migration:
    """A goose Go migration: both halves opaque; `AddMigrationNoTx...` runs outside a
    transaction."""
    version, name = split_version(path.stem)
    source = _code_source(path)
    up = Section("up", source, 0, 0, opaque=True)
    down = Section("down", source, 0, 0, opaque=True)
    migration = Migration(version, name, "goose", [source], up, down)
    migration.in_transaction = "AddMigrationNoTx" not in code_text(path)
    return migration


def code_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The text of a Go migration (what it registers, the names its SQL strings use), or ""
    when it is not a regular file or cannot be read."""
    try:
        with open(path, "rb", opener=_open_regular) as f:
            return f.read(max_bytes).decode("utf-8", "replace")
    except OSError:
        return ""


def _diesel_no_transaction(directory: Path, reader: Reader) -> bool:
    text = reader.companion(directory / "metadata.toml")
    return text is not None and bool(re.search(r"^\s*run_in_transaction\s*=\s*false\b", text, re.M))


def collect_files(paths: Sequence[Path]) -> list[Path]:
    """Every .sql file under `paths`, in a stable order; a missing path is an input error."""
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{display_path(path)}: no such file or directory")
        if path.is_file():
            files.append(path)
            continue
        for root, dirs, names in os.walk(path, onerror=_walk_error):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
            files.extend(Path(root) / n for n in sorted(names) if n.lower().endswith(".sql"))
    # One file reached twice (a symlink, overlapping paths) is read once. Its identity is its
    # device and inode: one stat, where resolve() stats every folder on the way (0.1 s of a
    # one-file run over a 684-file history).
    seen: set[tuple[int, int]] = set()
    unique = []
    for f in files:
        try:
            st = os.stat(f)
        except OSError as err:  # a symlink loop, a dangling link
            detail = (
                "symbolic link loop"
                if err.errno == errno.ELOOP
                else f"cannot resolve: {err.strerror or err}"
            )
            raise InputError(f"{display_path(f)}: {detail}") from None
        if (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            unique.append(f)
    return unique


def _walk_error(err: OSError) -> None:
    """A folder that cannot be listed is an error naming it, never silently skipped."""
    where = display_path(Path(err.filename)) if err.filename else "a folder"
    raise InputError(f"{where}: cannot read folder: {err.strerror or err}")


def discover(
    paths: Sequence[Path],
    convention: str = "auto",
    max_bytes: int = MAX_FILE_BYTES,
    texts: Mapping[Path, str] | None = None,
) -> list[Migration]:
    """Migrations under `paths`, in the order the runner applies them (file name breaks ties).

    `texts` gives the content of some files instead of the disk: an editor's unsaved buffers,
    the SQL `lint -` reads. Such a file need not exist yet; it belongs to the history when it is
    one of `paths` or lies in one of their folders."""
    reader = Reader(max_bytes, {p.resolve(): t for p, t in (texts or {}).items()})
    files = _with_texts(
        collect_files([p for p in paths if p.exists() or p.resolve() not in reader.texts]),
        paths,
        reader.texts,
    )
    forced = convention if convention in MARKER_CONVENTIONS else None
    pair_files: list[Path] = []
    dir_pairs: dict[Path, dict[str, Path]] = {}
    flyway: dict[tuple[Path, str], dict[str, Path]] = {}
    repeatable: list[tuple[Path, str]] = []
    singles: list[Path] = []
    for f in files:
        name = f.name
        lower = name.lower()
        if convention in ("auto", "golang-migrate", "pop") and PAIR_FILE.match(name):
            pair_files.append(f)
        elif convention in ("auto", "dir-pair") and lower in ("up.sql", "down.sql"):
            dir_pairs.setdefault(f.parent, {})[lower[:-4]] = f
        elif convention in ("auto", "flyway") and (m := _FLYWAY.match(name)):
            key = (f.parent, m.group("version").replace("_", "."))
            flyway.setdefault(key, {})[m.group("kind")] = f
            flyway[key]["name"] = Path(m.group("name"))
        elif convention in ("auto", "flyway") and (m := _FLYWAY_REPEATABLE.match(name)):
            repeatable.append((f, m.group("name")))
        else:
            singles.append(f)
    # Diesel reads only the folders of its migrations folder: a loose .sql file beside them (a
    # data script run by hand) is no migration.
    diesel_roots = {d.parent for d in dir_pairs}
    singles = [f for f in singles if f.parent not in diesel_roots]
    migrations: list[Migration] = [_marker_file(f, forced, reader) for f in singles]
    if convention in ("auto", "goose"):
        goose = {m.source.path.parent for m in migrations if m.convention == "goose"}
        migrations += [_goose_code(f) for f in _code_files(goose, paths, GOOSE_CODE_FILE)]
    if convention in ("auto", "golang-migrate"):
        pair_files += _code_files((f.parent for f in pair_files), paths)
    for group in pair_groups(pair_files, convention):
        migrations.append(
            _pair(
                group.version,
                group.name,
                group.convention,
                group.up,
                group.down,
                reader,
                group.autocommit,
            )
        )
    for directory, parts in dir_pairs.items():
        version, mname = split_version(directory.name)
        migrations.append(
            _pair(
                version,
                mname,
                "dir-pair",
                parts.get("up"),
                parts.get("down"),
                reader,
                _diesel_no_transaction(directory, reader),
            )
        )
    for (_, version), parts in flyway.items():
        up, undo = parts.get("V"), parts.get("U")
        migrations.append(
            _pair(
                version,
                str(parts["name"]),
                "flyway",
                up,
                undo,
                reader,
                _flyway_no_transaction(up, reader),
            )
        )
    for path, rname in repeatable:
        migration = _pair(
            "", rname, "flyway", path, None, reader, _flyway_no_transaction(path, reader)
        )
        migration.repeatable = True
        migrations.append(migration)
    _one_history_per_folder(paths, migrations)
    migrations.sort(key=lambda m: (m.version_key, m.source.display))
    return migrations


def _with_texts(files: list[Path], paths: Sequence[Path], texts: Mapping[Path, str]) -> list[Path]:
    """`files` and the files of `texts` not on disk yet that `paths` name or hold (a new
    migration an editor has not saved), spelt from the path given as the files found on disk
    are: pairing compares folders."""
    if not texts:
        return files
    missing = set(texts) - {f.resolve() for f in files}
    for given in paths:
        resolved = given.resolve()
        for path in sorted(missing):
            if path == resolved:
                files.append(given)
            elif resolved in path.parents and path.name.lower().endswith(".sql"):
                files.append(given / path.relative_to(resolved))
            else:
                continue
            missing.discard(path)
    return files


def _flyway_no_transaction(script: Path | None, reader: Reader) -> bool:
    """`executeInTransaction=false` in the script's own configuration file, `V1__x.sql.conf`."""
    if script is None:
        return False
    text = reader.companion(script.with_name(script.name + ".conf"))
    return text is not None and bool(_FLYWAY_NO_TX.search(text))


def _history_folder(migration: Migration) -> Path:
    """The folder the runner reads: the file's, or for `DIR/up.sql` pairs the one above DIR."""
    parent = migration.source.path.parent
    return parent.parent if migration.convention == "dir-pair" else parent


def _one_history_per_folder(paths: Sequence[Path], migrations: list[Migration]) -> None:
    """Refuse a folder whose subfolders hold histories with a version in common.

    Replaying both into one schema model would apply every shared version twice and judge each
    history against the other's tables; the user has to say which one is meant.
    """
    resolved: dict[Path, Path] = {}  # a history's migrations share one folder: resolve it once
    for root in (p.resolve() for p in paths if p.is_dir()):
        seen: dict[object, Path] = {}
        for m in migrations:
            where = _history_folder(m)
            folder = resolved.get(where) or resolved.setdefault(where, where.resolve())
            if not folder.is_relative_to(root):
                continue
            key = m.recorded_as if m.repeatable else m.version_key
            first = seen.setdefault(key, folder)
            if first != folder:
                a, b = sorted((first, folder))
                raise InputError(
                    f"{display_path(root)} holds two migration histories, {display_path(a)} "
                    f"and {display_path(b)} (both have {m.id if m.repeatable else m.version}); "
                    "lint each folder on its own or set 'migrations' to one of them"
                )


def iter_sources(migrations: Iterable[Migration]) -> Iterable[SourceFile]:
    for m in migrations:
        yield from m.sources
