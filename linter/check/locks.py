"""What each table-level lock mode seen in `pg_locks` blocks, for the trace's tables.

`pg_locks.mode` spells modes as `AccessExclusiveLock`; reports use the manual's
`ACCESS EXCLUSIVE`. The modes and their conflicts come from linter.locks.
"""

from __future__ import annotations

from pgpreflight.linter.locks import CONFLICTS, Lock

# The one conflict table is linter.locks' (checked against pg_locks by tests/test_locks.py); the
# trace reads modes as text, spelled as the manual spells them.
MODES = tuple(mode.label for mode in Lock)
"""Weakest to strongest; the order is also the order of the manual's table."""

_CONFLICTS: dict[str, frozenset[str]] = {
    mode.label: frozenset(other.label for other in CONFLICTS[mode]) for mode in Lock
}

QUERY_KINDS: tuple[tuple[str, str], ...] = (
    ("SELECT", "ACCESS SHARE"),
    ("SELECT FOR UPDATE/SHARE", "ROW SHARE"),
    ("INSERT/UPDATE/DELETE", "ROW EXCLUSIVE"),
    ("VACUUM/ANALYZE/CREATE INDEX CONCURRENTLY", "SHARE UPDATE EXCLUSIVE"),
    ("CREATE INDEX", "SHARE"),
    ("DDL", "ACCESS EXCLUSIVE"),
)
"""What the everyday statements of an application and of other migrations need on a table."""

HEADLINE_KINDS = ("SELECT", "INSERT/UPDATE/DELETE", "DDL")


def mode_name(pg_mode: str) -> str:
    """`AccessExclusiveLock` -> `ACCESS EXCLUSIVE`; unknown spellings pass through."""
    if pg_mode in _CONFLICTS:
        return pg_mode
    try:
        return Lock.from_pg_name(pg_mode).label
    except ValueError:
        return pg_mode


def strength(mode: str) -> int:
    """Rank in MODES (0 weakest); -1 for a mode that is not a table lock mode."""
    try:
        return MODES.index(mode_name(mode))
    except ValueError:
        return -1


def conflicts(held: str, requested: str) -> bool:
    return mode_name(requested) in _CONFLICTS.get(mode_name(held), frozenset())


def blocks(mode: str) -> list[str]:
    """Query kinds that must wait while `mode` is held on their table."""
    return [kind for kind, needs in QUERY_KINDS if conflicts(mode, needs)]


def headline_blocks(mode: str) -> list[str]:
    """The three kinds a reviewer asks about first: reads, writes, schema changes."""
    return [kind for kind in blocks(mode) if kind in HEADLINE_KINDS]


def strongest(modes: list[str]) -> str | None:
    known = [mode_name(m) for m in modes if strength(m) >= 0]
    return max(known, key=strength) if known else None
