"""PostgreSQL's table-level lock modes and what each one blocks.

Source: the PostgreSQL manual, "Explicit Locking", table "Conflicting Lock Modes"
(https://www.postgresql.org/docs/current/explicit-locking.html). The conflict table is the same
in every supported major version. `pg_locks.mode` spells modes as `AccessExclusiveLock`; reports
use the manual's `ACCESS EXCLUSIVE`.
"""

from __future__ import annotations

MODES = (
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)
"""Weakest to strongest; the order is also the order of the manual's table."""

_CONFLICTS: dict[str, frozenset[str]] = {
    "ACCESS SHARE": frozenset({"ACCESS EXCLUSIVE"}),
    "ROW SHARE": frozenset({"EXCLUSIVE", "ACCESS EXCLUSIVE"}),
    "ROW EXCLUSIVE": frozenset({"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}),
    "SHARE UPDATE EXCLUSIVE": frozenset(
        {"SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}
    ),
    "SHARE": frozenset(
        {
            "ROW EXCLUSIVE",
            "SHARE UPDATE EXCLUSIVE",
            "SHARE ROW EXCLUSIVE",
            "EXCLUSIVE",
            "ACCESS EXCLUSIVE",
        }
    ),
    "SHARE ROW EXCLUSIVE": frozenset(
        {
            "ROW EXCLUSIVE",
            "SHARE UPDATE EXCLUSIVE",
            "SHARE",
            "SHARE ROW EXCLUSIVE",
            "EXCLUSIVE",
            "ACCESS EXCLUSIVE",
        }
    ),
    "EXCLUSIVE": frozenset(set(MODES) - {"ACCESS SHARE"}),
    "ACCESS EXCLUSIVE": frozenset(MODES),
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
    words: list[str] = []
    current = ""
    for ch in pg_mode.removesuffix("Lock"):
        if ch.isupper() and current:
            words.append(current)
            current = ch
        else:
            current += ch
    if current:
        words.append(current)
    name = " ".join(words).upper()
    return name if name in _CONFLICTS else pg_mode


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
