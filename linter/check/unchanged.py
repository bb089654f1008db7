"""Did the run change the target's rows? Row counts, checksums and write counters, before/after.

The schema fingerprint (linter.check.catalog) says nothing about rows: a `--test-command` or a
migration run by mistake on the target could delete rows and the schema would look the same. So
"target unchanged" also compares, read in one REPEATABLE READ read-only transaction (one
consistent snapshot):

- exact row counts of every table the pending migrations touch, and of every small table;
- an md5 checksum of the rows of every small table (at most `SMALL_ROWS` rows and
  `SMALL_BYTES` on disk), order-independent;
- the insert/update/delete counters of every table (`pg_stat_user_tables`), which see writes to
  tables too large to checksum. PostgreSQL 15+ flushes another backend's counters lazily (at
  most about a second late, at once when that session ends), so a write made by a session that
  is still open in the last second may be missed by the counters -- the counts and checksums
  above do not lag. With `--execute-on-target` the counters are not compared: a rolled-back
  INSERT still counts as an insert.

The result names what it covered (`covers`), so "unchanged: yes" never claims more than was
checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SMALL_ROWS = 10_000
SMALL_BYTES = 8 * 1024 * 1024


@dataclass
class RowSnapshot:
    counts: dict[str, int] = field(default_factory=dict)
    """table -> exact row count (touched and small tables)."""
    checksums: dict[str, str] = field(default_factory=dict)
    """table -> md5 of its rows (small tables)."""
    counters: dict[str, tuple[int, int, int]] | None = None
    """table -> (n_tup_ins, n_tup_upd, n_tup_del); None when not compared."""
    large: list[str] = field(default_factory=list)
    """Tables neither counted nor checksummed (over the bounds and not touched)."""


def _tables(conn: Any) -> list[tuple[str, float, int]]:
    """(regclass text, reltuples, bytes) of every ordinary table outside the system schemas."""
    rows = conn.execute(
        "SELECT c.oid::regclass::text, c.reltuples, pg_relation_size(c.oid) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' "
        "ORDER BY 1"
    ).fetchall()
    return [(str(r[0]), float(r[1]), int(r[2])) for r in rows]


def _touched(conn: Any, touched: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for name in touched:
        row = conn.execute("SELECT to_regclass(%s)::text", (name,)).fetchone()
        if row and row[0]:
            out.add(str(row[0]))
    return out


def snapshot(conn: Any, touched: Sequence[str], *, counters: bool = True) -> RowSnapshot:
    """Counts, checksums and counters of the target's tables (see the module docstring)."""
    from psycopg import sql

    snap = RowSnapshot()
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        wanted = _touched(conn, touched)
        for name, reltuples, size in _tables(conn):
            small = reltuples <= SMALL_ROWS and size <= SMALL_BYTES
            rel = sql.SQL(name)  # regclass output, quoted as needed
            if small:
                row = conn.execute(
                    sql.SQL(
                        "SELECT count(*), md5(coalesce(string_agg(md5(t::text), '' "
                        "ORDER BY md5(t::text)), '')) FROM {} t"
                    ).format(rel)
                ).fetchone()
                snap.counts[name] = int(row[0])
                snap.checksums[name] = str(row[1])
            elif name in wanted:
                row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(rel)).fetchone()
                snap.counts[name] = int(row[0])
            else:
                snap.large.append(name)
    finally:
        conn.execute("COMMIT")
    if counters:
        # a new transaction reads a fresh statistics snapshot (stats_fetch_consistency)
        conn.execute("SELECT pg_stat_clear_snapshot()")
        rows = conn.execute(
            "SELECT relid::regclass::text, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables"
        ).fetchall()
        snap.counters = {str(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in rows}
    return snap


def compare(before: RowSnapshot, after: RowSnapshot) -> list[str]:
    """What changed, one short phrase per table and kind (empty: nothing seen)."""
    changes: list[str] = []
    for name, count in before.counts.items():
        new = after.counts.get(name)
        if new is not None and new != count:
            changes.append(f"{name}: {count} rows before, {new} after")
        elif name in before.checksums and before.checksums[name] != after.checksums.get(name):
            changes.append(f"{name}: row contents changed (checksum)")
    if before.counters is not None and after.counters is not None:
        for name, old in before.counters.items():
            new_counters = after.counters.get(name)
            if new_counters is None or new_counters == old:
                continue
            moved = [
                f"{n - o} {what}"
                for what, o, n in zip(
                    ("inserted", "updated", "deleted"), old, new_counters, strict=True
                )
                if n != o
            ]
            changes.append(f"{name}: {', '.join(moved)} (pg_stat_user_tables)")
    return changes


def covers(snap: RowSnapshot) -> list[str]:
    """What the comparison covered, for the report."""
    out = ["schema (every table, column, index, constraint, function, view)", "sequence values"]
    if snap.counts:
        out.append(f"exact row counts of {len(snap.counts)} table(s)")
    if snap.checksums:
        out.append(
            f"md5 checksum of the rows of {len(snap.checksums)} table(s) of at most "
            f"{SMALL_ROWS:,} rows and {SMALL_BYTES // (1024 * 1024)} MB"
        )
    if snap.counters is not None:
        out.append(
            "insert/update/delete counters of every table (pg_stat_user_tables; another "
            "session's writes can show up to about a second late)"
        )
    if snap.large:
        out.append(
            f"not compared row by row: {len(snap.large)} larger table(s) the migrations do not "
            "touch"
        )
    return out
