"""One pending migration's scenario: trace UP, then prove UP -> DOWN -> UP on a clone.

Databases (all cloned with CREATE DATABASE ... TEMPLATE, never by replaying history):

    before  (template, state S0)  --clone-->  A: trace UP            -> S1; A is the next
                                                                        migration's template
                                   A --clone-->  B: probe rows, DOWN -> S2 (must equal S0),
                                                    UP again         -> S3 (must equal S1)

Keeping A untouched by the probe rows and the round trip means the next migration starts from
exactly "history + this UP", as it would in production.
"""

from __future__ import annotations

import difflib
import logging
import re
import subprocess
from dataclasses import dataclass
from typing import Any

from pglast import ast
from pgpreflight.linter.check import catalog
from pgpreflight.linter.check.result import (
    DataLoss,
    MigrationCheck,
    RoundTrip,
    SchemaDifference,
    SectionTrace,
)
from pgpreflight.linter.check.sandbox import INSUFFICIENT_PRIVILEGE
from pgpreflight.linter.check.trace import SectionTracer, TraceOptions, runner_refuses
from pgpreflight.linter.migration import Migration, Section
from pgpreflight.linter.pgserver import SUPERUSER

LOG = logging.getLogger(__name__)


@dataclass
class Scenario:
    """Where one migration's scenario runs: a server with `create_database`, `conninfo`,
    `drop_database`, `program` (ScratchServer), and the name of the template database."""

    server: Any
    template: str
    prefix: str
    options: TraceOptions
    dump_diff: bool = True
    model: Any = None  # linter.schema.SchemaModel before the migration (static predictions)
    # The template's schema snapshot and trace state when known (the previous scenario's
    # `after`, `after_state`: a clone has the catalog, OIDs included, of its template), and this
    # scenario's after its UP, for the next one.
    before: catalog.Snapshot | None = None
    after: catalog.Snapshot | None = None
    before_state: Any = None
    after_state: Any = None
    # One file of a migration split into one file per statement (linter.migration.split_group):
    # its DOWN files revert the group as a whole, so no file is round-tripped on its own.
    split: bool = False


def _connect(conninfo: str) -> Any:
    import psycopg

    return psycopg.connect(conninfo, autocommit=True, application_name="pgpreflight")


def _migration_conninfo(sc: Scenario, dbname: str) -> str:
    """Migrations (and the probe rows, which fire their triggers and defaults) run as the
    sandbox's role; see linter.check.sandbox."""
    sandbox = sc.options.sandbox
    return str(sc.server.migration_conninfo(dbname, sandbox.user if sandbox else SUPERUSER))


def _lift_denied(result: MigrationCheck, trace: SectionTrace) -> None:
    """A statement refused for lack of privilege: its needs-superuser note goes first among
    the migration's notes, where the checklist shows why it failed."""
    for st in trace.statements:
        if st.status == "error" and st.error and st.error.sqlstate == INSUFFICIENT_PRIVILEGE:
            for note in st.notes:
                if note.startswith("needs superuser"):
                    result.notes.insert(0, f"{trace.kind} line {st.line}: {note}")
                    return


def _differences(
    expected: catalog.Snapshot, actual: catalog.Snapshot, up: Section | None = None
) -> list[SchemaDifference]:
    """Every object that differs, each graded "real" or "cosmetic" (linter.check.cosmetic);
    `up` (for the state after DOWN) gives the extensions DOWN may keep."""
    diffs = catalog.compare(expected, actual)
    if not diffs:
        return []
    from pgpreflight.linter.check.cosmetic import grade

    kept = _created_if_missing(up) if up is not None else frozenset()
    return [
        SchemaDifference(kind, name, change, exp, act, "cosmetic" if why else "real", why)
        for (kind, name, change, exp, act), why in zip(
            diffs, grade(expected, actual, diffs, kept), strict=True
        )
    ]


def _created_if_missing(up: Section) -> frozenset[str]:
    """Extensions the section creates with IF NOT EXISTS."""
    return frozenset(
        str(node.extname) for _, node in up.of(ast.CreateExtensionStmt) if node.if_not_exists
    )


def _ended(conn: Any, tracer: SectionTracer) -> catalog.Snapshot:
    """The schema after the section `tracer` last ran: the snapshot its trace ended with, its
    view definitions read again as outside a transaction (`catalog.outside_transaction`), or a
    full read when the section did not end cleanly (an error, a rollback)."""
    state = tracer.last_state
    if state is None:
        return catalog.schema_snapshot(conn)
    return catalog.outside_transaction(conn, state.schema)


def _real(diffs: list[SchemaDifference]) -> list[SchemaDifference]:
    return [d for d in diffs if d.grade == "real"]


def run_scenario(sc: Scenario, migration: Migration) -> tuple[MigrationCheck, str | None]:
    """Trace the migration; return its result and the database that holds the state after
    its UP (the next template), or None when UP failed."""
    db_a, db_b = f"{sc.prefix}_a", f"{sc.prefix}_b"
    result = MigrationCheck(
        id=migration.id,
        version=migration.version,
        name=migration.name,
        paths=[s.display for s in migration.sources],
        status="passed",
        up=SectionTrace("up", "not run", sc.options.transaction_mode),
    )
    if migration.up.opaque:
        # a Go migration (concourse): its runner runs code pgpreflight cannot
        code = migration.up.source.display
        result.status = "not traced"
        result.round_trip = RoundTrip("not run", reason="UP is Go code, not SQL")
        result.notes.append(f"not traced: UP is Go code ({code}), which pgpreflight does not run")
        return result, None
    if _empty(migration):
        # a no-op file (only comments, or `SELECT 1;`-free placeholders): nothing to trace
        result.status = "empty"
        result.up.status = "empty"
        result.round_trip = RoundTrip("not run", reason="the migration has no statements")
        result.notes.append("empty: the migration has no statements")
        return result, sc.template
    problems = _not_runnable(migration)
    if problems:
        result.status = "not run"
        result.notes.append(problems)
        return result, None
    sc.server.create_database(db_a, template=sc.template)
    a_info = _migration_conninfo(sc, db_a)
    with _connect(a_info) as conn:
        s0 = sc.before if sc.before is not None else catalog.schema_snapshot(conn)
        tracer = SectionTracer(conn, a_info, sc.options, sc.server.admin_conninfo(db_a))
        model = sc.model.copy() if sc.model is not None else None
        result.up, invalid = tracer.run(migration, migration.up, "up", model, start=sc.before_state)
        if not migration.up.statements:
            result.notes.append("the UP file has no statement: it applies trivially")
        result.invalid_indexes.extend(invalid)
        s1 = sc.after = _ended(conn, tracer)
        # B, a clone of A, starts its DOWN from there, and so does the next UP on A's clone
        after_up = sc.after_state = tracer.last_state
    if result.up.status != "ok":
        _lift_denied(result, result.up)
        result.status = "failed"
        result.round_trip = RoundTrip("not run", reason="UP failed")
        sc.server.drop_database(db_a)
        return result, None
    refused = runner_refuses(migration, migration.up, sc.options)
    if refused is not None:
        result.status = "failed"
        result.notes.insert(0, f"UP {refused}")
    down = migration.down
    down_errors = _syntax_errors(down) if down is not None else []
    if down is not None and down_errors:
        result.status = "round-trip failed"
        result.round_trip = RoundTrip("fail", reason=f"DOWN not run: {down_errors[0]}")
        return result, db_a
    if down is None or not down.statements:
        result.round_trip = RoundTrip("no down", reason="the migration has no DOWN section")
        return result, db_a
    if sc.split:
        result.round_trip = RoundTrip(
            "not run",
            reason="one file of a migration split into one file per statement: its DOWN files "
            "revert the whole group, not this file's UP, so no file is round-tripped alone",
        )
        return result, db_a
    sc.server.create_database(db_b, template=db_a)
    b_info = _migration_conninfo(sc, db_b)
    status, notes = result.status, list(result.notes)
    try:
        probed = _round_trip(
            sc, migration, down, result, b_info, (s0, s1), db_a, db_b, model, after_up
        )
        if probed and result.round_trip is not None and result.round_trip.reason == "DOWN failed":
            # DOWN failed with the probe rows in: rows the schema allows, but maybe values no
            # real row holds (lemmy's comment_ltrees derives a number from every path). DOWN
            # runs again on a fresh clone without them, to say which, and to judge the rest of
            # the round trip the failure hid. It still fails the migration: the failing rows
            # are rows the table may hold.
            failed, failed_down = _first_error(result.down), result.down
            sc.server.drop_database(db_b)
            sc.server.create_database(db_b, template=db_a)
            result.status, result.notes = status, notes
            _round_trip(
                sc,
                migration,
                down,
                result,
                b_info,
                (s0, s1),
                db_a,
                db_b,
                model,
                after_up,
                probes=False,
            )
            rt = result.round_trip
            assert rt is not None
            if rt.reason != "DOWN failed":
                rest = f"; without them: {rt.reason}" if rt.verdict == "fail" else ""
                rt.verdict, result.status = "fail", "round-trip failed"
                rt.reason = (
                    f"DOWN failed on the data-loss probe rows ({failed}), rows the schema "
                    f"allows; without them DOWN runs{rest}"
                )
                result.down = failed_down  # the trace that shows where it failed
    finally:
        sc.server.drop_database(db_b)
    return result, db_a


def _first_error(trace: SectionTrace | None) -> str:
    """Where and why a traced section stopped: `line N: message`."""
    failed = next((s for s in trace.statements if s.status == "error"), None) if trace else None
    if failed is None:
        return "an error"
    message = failed.error.message if failed.error is not None else "error"
    return f"line {failed.line}: {message}"


def _round_trip(
    sc: Scenario,
    migration: Migration,
    down: Section,
    result: MigrationCheck,
    b_info: str,
    before: tuple[catalog.Snapshot, catalog.Snapshot],
    db_a: str,
    db_b: str,
    model: Any = None,
    after_up: Any = None,
    *,
    probes: bool = True,
) -> bool:
    """DOWN and UP again on B (a clone of A after UP), with data-loss probe rows unless
    `probes` is off; whether probe rows were put in."""
    s0, s1 = before
    rt = RoundTrip("pass")
    result.round_trip = rt
    dumps: list[str] = []
    with _connect(b_info) as conn:
        probed = probe_rows(conn, s0, s1, result.notes) if probes else Probed([], [])
        put_in = bool(probed.probes or probed.seeded)
        tracer = SectionTracer(conn, b_info, sc.options, sc.server.admin_conninfo(db_b))
        # probe rows change no catalog: DOWN starts where UP's trace ended on A
        result.down, _ = tracer.run(migration, down, "down", model, start=after_up)
        s2 = _ended(conn, tracer)
        result.data_loss = _data_loss(result.down, probed.probes)
        if result.down.status != "ok":
            _lift_denied(result, result.down)
            rt.verdict, rt.reason = "fail", "DOWN failed"
            result.status = "round-trip failed"
            return put_in
        refused = runner_refuses(migration, down, sc.options)
        if refused is not None:
            # traced statement by statement for the evidence, but the runner would stop here
            rt.verdict, rt.reason = "fail", f"DOWN {refused}"
            result.status = "round-trip failed"
            return put_in
        rt.down_differences = _differences(s0, s2, migration.up)
        rt.down_restores = not _real(rt.down_differences)
        if not rt.down_restores and sc.dump_diff:
            dumps.append(_dump_diff(sc.server, sc.template, db_b, "before UP", "after DOWN"))
        remove_probe_rows(conn, probed)
        result.up_again, _ = tracer.run(
            migration, migration.up, "up-again", model, start=tracer.last_state
        )
        if result.up_again.status != "ok":
            rt.verdict = "fail"
            rt.reason = "; ".join(
                [_describe(d, "down") for d in _real(rt.down_differences)[:10]]
                + [f"UP failed when run again after DOWN at {_first_error(result.up_again)}"]
            )
            rt.pg_dump_diff = "".join(dumps)
            result.status = "round-trip failed"
            return put_in
        s3 = _ended(conn, tracer)
    rt.up_again_differences = _differences(s1, s3)
    rt.up_again_matches = not _real(rt.up_again_differences)
    if not rt.up_again_matches and sc.dump_diff:
        dumps.append(_dump_diff(sc.server, db_a, db_b, "after UP", "after UP again"))
    rt.pg_dump_diff = "".join(dumps)
    if not (rt.down_restores and rt.up_again_matches):
        rt.verdict = "fail"
        named = [_describe(d, "down") for d in _real(rt.down_differences)]
        named += [_describe(d, "up-again") for d in _real(rt.up_again_differences)]
        rt.reason = "; ".join(named[:10]) + ("; ..." if len(named) > 10 else "")
        result.status = "round-trip failed"
    return put_in


def _describe(diff: SchemaDifference, phase: str) -> str:
    return f"{diff.kind} {diff.name} {_change_words(diff.change, phase)}"


def _change_words(change: str, phase: str) -> str:
    if phase == "down":
        return {
            "missing": "gone after DOWN",
            "extra": "left behind by DOWN",
            "changed": "not restored by DOWN",
        }[change]
    return {
        "missing": "missing after UP again",
        "extra": "extra after UP again",
        "changed": "differs after UP again",
    }[change]


def _syntax_errors(section: Section) -> list[str]:
    out = []
    for error in section.syntax_errors:
        line = error.source.lines.position(error.offset)[0]
        out.append(f"syntax error at {error.source.display}:{line}: {error.message}")
    return out


def _empty(migration: Migration) -> bool:
    """No statement at all (UP and DOWN; files that are empty or hold only comments): a no-op,
    not a failure."""
    down = migration.down
    return (
        all(p.kind in _EMPTY for p in migration.problems)
        and not migration.up.statements
        and not migration.up.syntax_errors
        and (down is None or (not down.statements and not down.syntax_errors))
    )


def _not_runnable(migration: Migration) -> str | None:
    """Why UP cannot be traced. A DOWN that does not parse fails the round trip only, after UP
    has been traced. An empty file is no reason: an empty UP file applies trivially (pop's split
    migrations have them, beside a DOWN file that is not empty), an empty DOWN is judged by the
    round trip."""
    errors = _syntax_errors(migration.up)
    if errors:
        return f"not run: {errors[0]}"
    problems = [p for p in migration.problems if p.kind not in _EMPTY]
    if problems:
        return f"not run: {problems[0].message}"
    if not migration.up.statements and not _empty_up_file(migration):
        return "not run: UP has no statements"
    return None


_EMPTY = ("empty", "comments-only")


def _empty_up_file(migration: Migration) -> bool:
    """The UP is a file of its own with no code in it, empty or comments only (not a missing
    file: a Go migration beside a .down.sql has no SQL UP at all, and its UP section is read
    from the DOWN file)."""
    down = migration.down
    own_file = down is None or migration.up.source is not down.source
    return own_file and not migration.up.has_code


# -- data-loss probe ----------------------------------------------------------------------


@dataclass
class _Probe:
    table: str
    column: str | None  # None: the whole table is new
    rows: int  # rows holding data before DOWN (probe row included)


@dataclass
class Probed:
    """What `probe_rows` did: the probes, and the tables that existed before UP, were still
    empty after it and got probe rows (`remove_probe_rows` empties them again)."""

    probes: list[_Probe]
    seeded: list[str]


_CANDIDATES: dict[str, list[str]] = {
    "integer": ["1", "0", "100"],
    "bigint": ["1", "0", "100"],
    "smallint": ["1", "0", "100"],
    "numeric": ["1", "0", "100"],
    "real": ["1", "0"],
    "double precision": ["1", "0"],
    "boolean": ["true", "false"],
    "text": ["'pgpreflight-probe@example.com'", "'SP'", "'probe:probe'", "'probe'", "'P'", "'1'"],
    "uuid": ["'00000000-0000-4000-8000-000000000001'"],
    "date": ["current_date + 1", "current_date"],
    "timestamp with time zone": ["now() + interval '1 day'", "now()"],
    "timestamp without time zone": ["localtimestamp + interval '1 day'", "localtimestamp"],
    "time without time zone": ["'12:00'"],
    "interval": ["'1 hour'"],
    "jsonb": ["'{}'"],
    "json": ["'{}'"],
    "bytea": ["'\\x00'"],
    "inet": ["'127.0.0.1'"],
    "citext": ["'pgpreflight-probe@example.com'", "'SP'", "'probe'"],
}
_LITERAL_IN_LIST = re.compile(r"ARRAY\[\s*'((?:[^']|'')*)'|=\s*'((?:[^']|'')*)'::")


def _candidates(
    column: str, attrs: dict[str, Any], checks: dict[str, str], snap: catalog.Snapshot
) -> list[str]:
    """Values to try for a NOT NULL column without default: literals its CHECKs list
    (`col IN ('a', 'b')`), an enum's first label, then typed samples."""
    typ = str(attrs["type"])
    out: list[str] = []
    for definition in checks.values():
        if re.search(rf"\b{re.escape(column)}\b", definition):
            for m in _LITERAL_IN_LIST.finditer(definition):
                out.append("'" + (m.group(1) if m.group(1) is not None else m.group(2)) + "'")
    enum = snap.get(("enum", typ))
    if enum and enum.get("definition"):
        out.append(str(enum["definition"]).split(",")[0].strip())
    length = re.search(r"\((\d+)\)", typ)
    base = re.sub(r"\(.*\)", "", typ).strip()
    if base.startswith("character"):
        base = "text"
    if base.endswith("[]"):
        out.append("'{}'")
    out.extend(_CANDIDATES.get(base, []))
    if length and base == "text":
        limit = int(length.group(1))
        out = [v for v in out if len(v) - 2 <= limit]
    return out or ["NULL"]


def probe_rows(conn: Any, s0: catalog.Snapshot, s1: catalog.Snapshot, notes: list[str]) -> Probed:
    """Make sure every table and column the UP created holds data before DOWN runs.

    Rows are inserted with session_replication_role = replica (foreign-key and user triggers do
    not fire; CHECK and NOT NULL still apply), one savepoint per attempt; a CHECK that rejects
    the row moves its columns to their next candidate value. A row that cannot be built is a
    note, not a failure. Before DOWN, every probe row is made to satisfy the foreign keys of its
    table (`_satisfy_foreign_keys`): a probe must never make DOWN or UP-again fail where the
    real database, whose rows satisfy their foreign keys, would not."""
    new_tables = [name for kind, name in s1 if kind == "table" and ("table", name) not in s0]
    new_columns = [
        name
        for kind, name in s1
        if kind == "column"
        and ("column", name) not in s0
        and ("table", catalog.join_name(catalog.split_name(name)[:-1])) in s0
    ]
    targets: dict[str, list[str]] = {t: [] for t in new_tables}
    for col in new_columns:
        *parts, column = catalog.split_name(col)
        table = catalog.join_name(parts)
        targets.setdefault(table, []).append(column)
    probed = Probed([], [])
    if not targets:
        return probed
    import psycopg

    conn.execute("BEGIN")
    try:
        conn.execute("SET LOCAL session_replication_role = replica")
    except psycopg.Error:  # not granted to the migration role before PostgreSQL 15
        conn.execute("ROLLBACK")
        conn.execute("BEGIN")
    try:
        for table, columns in sorted(targets.items()):
            ident = _ident(table)
            has_rows = conn.execute(f"SELECT EXISTS (SELECT FROM {ident})").fetchone()[0]
            if not has_rows and table not in new_tables:
                probed.seeded.append(table)
            if not has_rows or table in new_tables:
                problem = _insert_probe(conn, table, s1)
                if problem:
                    notes.append(f"data-loss probe: could not insert a row into {table}: {problem}")
            for column in columns:
                filled = conn.execute(
                    f"SELECT EXISTS (SELECT FROM {ident} WHERE {_quote(column)} IS NOT NULL)"
                ).fetchone()[0]
                if not filled and has_rows:
                    _fill_column(conn, table, column, s1)
        parents = _satisfy_foreign_keys(conn, sorted(targets), s1, notes)
        probed.seeded.extend(sorted(t for t in parents if ("table", t) in s0))
        for table, columns in sorted(targets.items()):
            ident = _ident(table)
            if table in new_tables:
                rows = conn.execute(f"SELECT count(*) FROM {ident}").fetchone()[0]
                probed.probes.append(_Probe(table, None, int(rows)))
            for column in columns:
                rows = conn.execute(
                    f"SELECT count(*) FROM {ident} WHERE {_quote(column)} IS NOT NULL"
                ).fetchone()[0]
                probed.probes.append(_Probe(table, column, int(rows)))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return probed


def remove_probe_rows(conn: Any, probed: Probed) -> None:
    """After DOWN, before UP runs again: empty again the tables that existed before UP and were
    empty after it, where the probe put rows (and DOWN may have updated them), so that UP runs
    again on the rows it first ran on: an `ADD COLUMN ... NOT NULL` fails on a leftover probe
    row where the first UP passed on an empty table. The tables UP created went with their rows,
    or the round trip fails anyway.

    Foreign keys and triggers stay on: what DOWN derived from probe rows elsewhere (lemmy's DOWN
    copies rows back into a table it recreates) goes with them where a key cascades, and a table
    whose rows something still needs keeps them (each DELETE in a savepoint; children first,
    over a few passes). An orphan left behind would fail UP again where nothing is wrong."""
    import psycopg

    if not probed.seeded:
        return
    conn.execute("BEGIN")
    try:
        left = [
            t
            for t in probed.seeded
            if conn.execute("SELECT to_regclass(%s)", (_ident(t),)).fetchone()[0] is not None
        ]
        for _ in range(len(left)):
            kept = []
            for table in left:
                conn.execute("SAVEPOINT probe_cleanup")
                try:
                    conn.execute(f"DELETE FROM {_ident(table)}")
                    conn.execute("RELEASE SAVEPOINT probe_cleanup")
                except psycopg.Error:  # rows of another table still need them: next pass
                    conn.execute("ROLLBACK TO SAVEPOINT probe_cleanup")
                    kept.append(table)
            if not kept or len(kept) == len(left):
                break
            left = kept
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


_FOREIGN_KEYS = """
SELECT con.conname, ns.nspname, cl.relname, fns.nspname, fcl.relname,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o),
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o),
       ARRAY(SELECT a.attnotnull FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o)
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class cl ON cl.oid = con.conrelid
JOIN pg_catalog.pg_namespace ns ON ns.oid = cl.relnamespace
JOIN pg_catalog.pg_class fcl ON fcl.oid = con.confrelid
JOIN pg_catalog.pg_namespace fns ON fns.oid = fcl.relnamespace
WHERE con.contype = 'f'
ORDER BY 1
"""


def _satisfy_foreign_keys(
    conn: Any, tables: list[str], snap: catalog.Snapshot, notes: list[str], passes: int = 4
) -> set[str]:
    """Rows of `tables` that break a foreign key (probe rows, inserted with triggers off) are
    pointed at an existing parent row, else at a synthesised parent probe row, else set to NULL
    when the columns allow it; rows still broken after that are deleted, with a note. Returns
    the parent tables given a probe row."""
    import psycopg

    keys = [
        (name, catalog.qualify(cs, ct), catalog.qualify(ps, pt), cols, refs, not_null)
        for name, cs, ct, ps, pt, cols, refs, not_null in conn.execute(_FOREIGN_KEYS)
    ]
    touched = set(tables)  # grows by the parents given a probe row
    for attempt in range(passes):
        broken = False
        for name, child, parent, cols, refs, not_null in keys:
            if child not in touched:
                continue
            orphan = _orphan_condition(_ident(parent), cols, refs)
            exists = f"SELECT EXISTS (SELECT FROM {_ident(child)} c WHERE {orphan})"
            if not conn.execute(exists).fetchone()[0]:
                continue
            broken = True
            if attempt == passes - 1:
                conn.execute(f"DELETE FROM {_ident(child)} c WHERE {orphan}")
                notes.append(
                    f"data-loss probe: rows of {child} that no row of {parent} could satisfy "
                    f"({name}) were removed before DOWN"
                )
                continue
            target = f"({', '.join(map(_quote, cols))})" if len(cols) > 1 else _quote(cols[0])
            conn.execute("SAVEPOINT probe_fk")
            try:
                if conn.execute(f"SELECT EXISTS (SELECT FROM {_ident(parent)})").fetchone()[0]:
                    value = f"(SELECT {', '.join(map(_quote, refs))} FROM {_ident(parent)} LIMIT 1)"
                elif _insert_probe(conn, parent, snap) is None:
                    touched.add(parent)
                    value = f"(SELECT {', '.join(map(_quote, refs))} FROM {_ident(parent)} LIMIT 1)"
                elif all(not_null):
                    raise _NoParent(parent)
                else:
                    value = f"ROW({', '.join('NULL' for _ in cols)})" if len(cols) > 1 else "NULL"
                conn.execute(f"UPDATE {_ident(child)} c SET {target} = {value} WHERE {orphan}")
                conn.execute("RELEASE SAVEPOINT probe_fk")
            except (psycopg.Error, _NoParent):
                conn.execute("ROLLBACK TO SAVEPOINT probe_fk")
        if not broken:
            break
    return touched - set(tables)


class _NoParent(Exception):
    """No parent row exists or can be synthesised for a NOT NULL foreign key."""


def _orphan_condition(parent: str, cols: list[str], refs: list[str]) -> str:
    """Rows (alias c) breaking a MATCH SIMPLE foreign key: every column set, no parent row."""
    present = " AND ".join(f"c.{_quote(c)} IS NOT NULL" for c in cols)
    match = " AND ".join(f"p.{_quote(r)} = c.{_quote(c)}" for c, r in zip(cols, refs, strict=True))
    return f"{present} AND NOT EXISTS (SELECT FROM {parent} p WHERE {match})"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ident(qualified: str) -> str:
    return catalog.sql_name(qualified)


def _parts_of(snap: catalog.Snapshot, kind: str, table: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, attributes) of the columns or constraints of `table` in a snapshot: keys are
    `table.part` with PostgreSQL's quoting, so a dot inside a quoted name is no separator."""
    parent = catalog.split_name(table)
    out = []
    for (k, name), attrs in snap.items():
        if k == kind:
            parts = catalog.split_name(name)
            if parts[:-1] == parent:
                out.append((parts[-1], attrs))
    return out


def _checks_of(snap: catalog.Snapshot, table: str) -> dict[str, str]:
    return {
        name: str(attrs["definition"])
        for name, attrs in _parts_of(snap, "constraint", table)
        if attrs["type"] == "c"
    }


def _fill_column(conn: Any, table: str, column: str, snap: catalog.Snapshot) -> bool:
    """Give a new, all-NULL column of a table that has rows a value in one row."""
    import psycopg

    attrs = dict(_parts_of(snap, "column", table)).get(column)
    if attrs is None:
        return False
    checks = _checks_of(snap, table)
    col = _quote(column)
    for value in _candidates(column, attrs, checks, snap):
        if value == "NULL":
            continue
        conn.execute("SAVEPOINT probe")
        try:
            conn.execute(
                f"UPDATE {_ident(table)} SET {col} = {value} "
                f"WHERE ctid = (SELECT ctid FROM {_ident(table)} WHERE {col} IS NULL LIMIT 1)"
            )
            conn.execute("RELEASE SAVEPOINT probe")
            return True
        except psycopg.Error:
            conn.execute("ROLLBACK TO SAVEPOINT probe")
    return False


def _insert_probe(conn: Any, table: str, snap: catalog.Snapshot, attempts: int = 40) -> str | None:
    """Insert one row; None on success, else PostgreSQL's last message."""
    import psycopg

    checks = _checks_of(snap, table)
    options: dict[str, list[str]] = {}
    for column, attrs in _parts_of(snap, "column", table):
        if attrs["identity"] or attrs["generated"] or attrs["default"] is not None:
            continue
        values = _candidates(column, attrs, checks, snap)
        if not attrs["not_null"]:
            values = [*values, "NULL"]
        options[column] = values
    choice = dict.fromkeys(options, 0)
    last = "no attempt"
    for _ in range(attempts):
        names = [c for c in options if options[c][choice[c]] != "NULL"]
        if names:
            row = ", ".join(options[c][choice[c]] for c in names)
            sql = f"INSERT INTO {_ident(table)} ({', '.join(map(_quote, names))}) VALUES ({row})"
        else:
            sql = f"INSERT INTO {_ident(table)} DEFAULT VALUES"
        conn.execute("SAVEPOINT probe")
        try:
            conn.execute(sql)
            conn.execute("RELEASE SAVEPOINT probe")
            return None
        except psycopg.Error as exc:
            conn.execute("ROLLBACK TO SAVEPOINT probe")
            last = (exc.diag.message_primary or str(exc)).splitlines()[0]
            culprit = exc.diag.constraint_name
            involved = [
                c
                for c in options
                if culprit in checks and re.search(rf"\b{re.escape(c)}\b", checks[culprit])
            ] or ([exc.diag.column_name] if exc.diag.column_name in options else [])
            moved = False
            for column in involved:
                if choice[column] + 1 < len(options[column]):
                    choice[column] += 1
                    moved = True
                    break
            if not moved:
                return last
    return last


def _data_loss(down: SectionTrace, probes: list[_Probe]) -> list[DataLoss]:
    """DOWN statements whose catalog changes drop a probed table or column."""
    out: list[DataLoss] = []
    by_table = {p.table: p for p in probes if p.column is None}
    by_column = {
        catalog.join_name([*catalog.split_name(p.table), p.column]): p
        for p in probes
        if p.column is not None
    }
    for st in down.statements:
        for change in st.catalog_changes:
            if change.action != "dropped":
                continue
            if change.kind == "table" and change.name in by_table and by_table[change.name].rows:
                probe = by_table.pop(change.name)
                out.append(DataLoss(probe.table, "table", st.line, st.sql, probe.rows))
            elif (
                change.kind == "column" and change.name in by_column and by_column[change.name].rows
            ):
                probe = by_column.pop(change.name)
                out.append(DataLoss(change.name, "column", st.line, st.sql, probe.rows))
    return out


# -- pg_dump diff --------------------------------------------------------------------------

_DUMP_NOISE = re.compile(
    r"^(\\restrict|\\unrestrict|-- Dumped (from|by)|SET |SELECT pg_catalog\.set_config)"
)


def schema_dump(server: Any, dbname: str) -> list[str]:
    argv = [
        str(server.program("pg_dump")),
        "--schema-only",
        "--no-owner",
        "--no-privileges",
        "--dbname",
        server.conninfo(dbname),
    ]
    proc = subprocess.run(
        argv, capture_output=True, text=True, env=server.client_env(), timeout=300
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["pg_dump failed"])[-1]
        return [f"-- pg_dump failed: {last}\n"]
    return [line for line in proc.stdout.splitlines(keepends=True) if not _DUMP_NOISE.match(line)]


def _dump_diff(
    server: Any, expected_db: str, actual_db: str, expected_label: str, actual_label: str
) -> str:
    return "".join(
        difflib.unified_diff(
            schema_dump(server, expected_db),
            schema_dump(server, actual_db),
            fromfile=f"schema {expected_label}",
            tofile=f"schema {actual_label}",
            n=2,
        )
    )
