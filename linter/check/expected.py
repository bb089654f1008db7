"""What the static side claims about a statement, for the trace to confirm or contradict.

The lock level and rewrite of each statement are predicted by the static core,
`linter.locks.statement_locks` (the same code the rules use); the trace compares them table by
table (see trace.SectionTracer._agreement). This module adds what a *finding* claims: a rule
that flags a statement for its lock or its rewrite is confirmed when the trace saw at least
that lock on a pre-existing table (and the rewrite), and contradicted otherwise.
"""

from __future__ import annotations

ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
SHARE = "SHARE"

RULE_CLAIMS: dict[str, tuple[str | None, bool | None]] = {
    # lock rules of rules/ (the ids are the module names with dashes)
    "require-concurrent-index": (SHARE, False),
    "require-concurrent-index-drop": (ACCESS_EXCLUSIVE, False),
    "require-concurrent-reindex": (SHARE, None),
    "require-concurrent-refresh": (ACCESS_EXCLUSIVE, None),
    "require-concurrent-detach": (ACCESS_EXCLUSIVE, None),
    "add-column-rewrite": (ACCESS_EXCLUSIVE, True),
    "add-column-volatile-default": (ACCESS_EXCLUSIVE, True),
    "column-type-rewrite": (ACCESS_EXCLUSIVE, True),
    "table-rewrite-option": (ACCESS_EXCLUSIVE, True),
    "constraint-without-not-valid": (SHARE_ROW_EXCLUSIVE, False),
    "set-not-null-without-check": (ACCESS_EXCLUSIVE, False),
    "unique-without-index": (ACCESS_EXCLUSIVE, False),
    "trigger-on-existing-table": (SHARE_ROW_EXCLUSIVE, False),
    "rename-table": (ACCESS_EXCLUSIVE, False),
    "rename-column": (ACCESS_EXCLUSIVE, False),
    "drop-table": (ACCESS_EXCLUSIVE, None),
    "drop-column": (ACCESS_EXCLUSIVE, False),
    "truncate-table": (ACCESS_EXCLUSIVE, None),
}
"""What a static rule's finding claims about the statement it flags: at least this lock on a
pre-existing table, and a rewrite (True) or none (False). A rule module can state its own claim
with module constants `LOCK = "SHARE"` and `REWRITE = True`; those win over this table."""


def rule_claims(
    rules: dict[str, object] | None = None,
) -> dict[str, tuple[str | None, bool | None]]:
    """RULE_CLAIMS overlaid with the LOCK/REWRITE constants of the registered rule modules."""
    claims = dict(RULE_CLAIMS)
    for rule_id, rule in (rules or {}).items():
        module = getattr(rule, "module", None)
        lock, rewrite = getattr(module, "LOCK", None), getattr(module, "REWRITE", None)
        if lock is not None or rewrite is not None:
            claims[rule_id] = (lock, rewrite)
    return claims
