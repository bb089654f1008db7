"""Failures caused by an earlier failure: one root cause, its dependants listed under it.

When a migration's UP fails, the next ones run on the schema before it; each that needs what it
would have made fails too (harbor: one missing history table, 24 failures; supabase auth: one
missing schema, 64). `link_failures` gives every such failure its root cause (`caused_by`) and the
root cause the list of its `dependants`, so the report shows one problem, not dozens.

A failure is a dependant when PostgreSQL says an object is missing (or already there) and an
earlier migration that did not apply either misses the same object or names it in its UP (it
would have created, renamed or dropped it). The earlier migration's own root cause is the root.
A root cause that misses a role, schema or extension -- what a history assumes was made by hand
or by another tool -- says to create it in a `--setup` file.

A Go migration pgpreflight did not run ("not traced") names, in its code, what its SQL strings
make: a failure that needs one of those is listed under it and is "not traced" too -- the runner
would have run the Go code first, so the failure is pgpreflight's gap, not the migration's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pgpreflight.linter.check.result import CheckResult, MigrationCheck, StatementError
from pgpreflight.linter.migration import Migration

# SQLSTATEs naming an object that is missing, or already there
_MISSING = {"42P01", "42703", "42704", "3F000", "42883"}
_PRESENT = {"42P07", "42701", "42710", "42P06", "42723"}
_OBJECT = re.compile(
    r'^(?P<kind>[a-z ]+?) "(?P<name>(?:[^"]|"")+)"(?: (?:of relation|for table) "[^"]+")?'
    r" (?:does not exist|already exists|is not available)"
)
_FUNCTION = re.compile(r"^function (?P<name>[^\s(]+)\(.*\) does not exist")
# what a history assumes exists beside it, and `--setup` can provide
_PREREQUISITES = {"role", "schema", "extension", "type", "function"}


@dataclass(frozen=True)
class _Failure:
    check: MigrationCheck
    missing: tuple[str, str] | None  # (kind, name) PostgreSQL said is missing or present
    names: frozenset[str]  # identifiers its UP names


def failure_error(check: MigrationCheck) -> StatementError | None:
    """The error of the statement that stopped the migration's UP."""
    for st in check.up.statements:
        if st.status == "error" and st.error is not None:
            return st.error
    return None


def missing_object(error: StatementError | None) -> tuple[str, str] | None:
    """(kind, name) of the object an error says is missing or already there: ("schema",
    "auth"), ("relation", "tag"), ("function", "uuid_generate_v4"); None for other errors."""
    if error is None or error.sqlstate not in _MISSING | _PRESENT | {"0A000"}:
        return None
    text = error.message.strip()
    m = _FUNCTION.match(text) or _OBJECT.match(text)
    if m is None:
        return None
    kind = m.groupdict().get("kind") or "function"
    if error.sqlstate == "0A000" and kind != "extension":
        return None
    return kind, m.group("name").replace('""', '"')


def _last(name: str) -> str:
    """`auth.users` -> `users` (quoted parts are not split: error messages do not quote them)."""
    return name.rsplit(".", 1)[-1]


def names_in(migration: Migration) -> frozenset[str]:
    """Identifiers the UP names, as PostgreSQL folds them, with those inside dollar-quoted
    bodies (DO blocks, functions)."""
    from pglast import parser

    out: set[str] = set()

    def scan(text: str, depth: int = 0) -> None:
        try:
            tokens = parser.scan(text)
        except Exception:  # an unterminated quote in a body: what was read so far counts
            return
        for t in tokens:
            word = text[t.start : t.end + 1]
            if t.name == "IDENT" or t.kind != "NO_KEYWORD":
                out.add(word[1:-1].replace('""', '"') if word.startswith('"') else word.lower())
            elif t.name == "SCONST" and word.startswith("$") and depth < 3:
                tag = word[: word.index("$", 1) + 1]
                scan(word[len(tag) : -len(tag)], depth + 1)

    for stmt in migration.up.statements:
        scan(stmt.text)
    return frozenset(out)


def _code_names(migration: Migration) -> frozenset[str]:
    """Identifiers in the code of a Go migration (lower-cased, as unquoted SQL names fold)."""
    from pgpreflight.linter.discovery import code_text

    text = "\n".join(code_text(s.path) for s in migration.sources if s.path.suffix == ".go")
    return frozenset(w.lower() for w in re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", text))


def link_failures(
    result: CheckResult, migrations: Sequence[Migration], *, setup_hint: bool = True
) -> None:
    """Set `caused_by` and `dependants` on the result's migrations whose UP failed; with
    `setup_hint` (scratch mode, where `--setup` runs), a root cause missing a role, schema or
    extension gets a note saying how to provide it."""
    by_id = {m.id: m for m in migrations}
    earlier: list[_Failure] = []
    roots: dict[str, MigrationCheck] = {}
    for check in result.migrations:
        migration = by_id.get(check.id)
        if check.status == "not traced" and migration is not None:
            roots[check.id] = check
            earlier.append(_Failure(check, None, _code_names(migration)))
            continue
        if check.up.status != "error" and check.status != "not run":
            continue
        missing = missing_object(failure_error(check))
        failure = _Failure(check, missing, names_in(migration) if migration else frozenset())
        cause = _cause(failure, earlier)
        if cause is not None:
            root = roots[cause.check.id]
            check.caused_by = root.id
            root.dependants.append(check.id)
            roots[check.id] = root
            note = _caused_note(failure, cause, root)
            if root.status == "not traced":
                check.status = "not traced"
                note = f"not traced: {note} (Go code pgpreflight does not run)"
            check.notes.insert(0, note)
        else:
            roots[check.id] = check
            if setup_hint and missing is not None and missing[0] in _PREREQUISITES:
                check.notes.insert(0, _setup_note(*missing))
        earlier.append(failure)


def _cause(failure: _Failure, earlier: list[_Failure]) -> _Failure | None:
    """The latest earlier failure that explains this one, if any."""
    if failure.missing is None:
        return None
    name = _last(failure.missing[1])
    for prior in reversed(earlier):
        if prior.missing == failure.missing or name in prior.names:
            return prior
    return None


def _caused_note(failure: _Failure, cause: _Failure, root: MigrationCheck) -> str:
    assert failure.missing is not None
    what = f'{failure.missing[0]} "{failure.missing[1]}"'
    if cause.missing == failure.missing:
        why = f"{what} is missing here too"
    else:
        why = f"needs {what} from {cause.check.id}, which did not apply"
    return f"caused by {root.id}: {why}"


def _setup_note(kind: str, name: str) -> str:
    if kind in ("type", "function"):
        return (
            f'{kind} "{name}" does not exist and no earlier migration makes it: if it comes '
            "from an extension the history assumes is installed, create the extension in a "
            "--setup file (run once by the scratch server's superuser before the baseline)"
        )
    if kind == "extension":
        return (
            f'extension "{name}" is not available on the scratch server: install it for that '
            "PostgreSQL (or point --pg-bin at binaries that have it)"
        )
    return (
        f'{kind} "{name}" does not exist and no earlier migration makes it: if the history '
        "assumes it (made by hand or by another tool), create it in a --setup file (run once "
        "by the scratch server's superuser before the baseline)"
    )
