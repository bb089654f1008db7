"""How to run a migration outside a transaction, in the words of its convention.

Hints that say "add CONCURRENTLY" lead straight into `concurrently-in-transaction` when the runner
wraps the file in a transaction: the hint has to say how this file, in this convention and this
`transaction` mode, gets out of it. The markers named here are the ones discovery honours
(`linter/discovery.py`), so following a hint literally gives a file that lints clean.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pgpreflight.linter.facts import MigrationFacts
    from pgpreflight.linter.migration import Migration

UPDOWN_MARKER = "-- NO TRANSACTION"
"""The guide's (`-- UP`/`-- DOWN`) per-file marker: a line of its own, anywhere in the file, that
tells the runner (and pgpreflight) to run the file outside a transaction, as goose's
`-- +goose NO TRANSACTION` does."""

UPDOWN_PATTERN = re.compile(r"^[ \t]*--[ \t]*no[ \t]+transaction[ \t]*\r?$", re.I | re.M)

_AUTO = (
    ' (or set transaction = "auto" in the configuration if the runner, like Flyway, runs a file '
    "holding such a statement outside a transaction)"
)
_HOW = {
    "updown": f"add the line '{UPDOWN_MARKER}' above '-- UP'{_AUTO}",
    "plain": f"add the line '{UPDOWN_MARKER}' at the top of the file{_AUTO}",
    "goose": "add the line '-- +goose NO TRANSACTION' at the top of the file",
    "sql-migrate": "write the marker as '-- +migrate Up notransaction'",
    "dbmate": "write the marker as '-- migrate:up transaction:false'",
    "dir-pair": "add run_in_transaction = false to the migration's metadata.toml",
    "golang-migrate": "put the statement alone in a migration of its own (golang-migrate runs a "
    "file of several statements as one transaction)",
    "flyway": "keep it in a V file of its own, which Flyway runs outside a transaction, and set "
    'transaction = "auto" in the configuration',
}


def how_to_leave_transaction(migration: Migration, facts: MigrationFacts) -> str:
    """What to do so that the runner does not wrap this file in a transaction; "" when it
    already would not (mode "none" or "per-statement", a no-transaction marker, or mode "auto",
    where the statement itself makes the runner leave the file unwrapped)."""
    if facts.transaction_mode != "per-file" or not migration.in_transaction:
        return ""
    return _HOW.get(
        migration.convention,
        'run the file outside a transaction (the runner\'s directive, or transaction = "none" '
        'or "auto" in the configuration if the runner does so)',
    )


def outside_transaction_hint(
    migration: Migration, facts: MigrationFacts, sql: str, *, lock_timeout: bool = True
) -> str:
    """`sql` (a statement that cannot run in a transaction) preceded by what to do first, with
    `SET lock_timeout` unless the statement must be alone in its file (golang-migrate)."""
    how = how_to_leave_transaction(migration, facts)
    alone = bool(how) and migration.convention == "golang-migrate"
    body = sql if alone or not lock_timeout else f"SET lock_timeout = '2s'; {sql}"
    if how:
        return f"{how}, then: {body}"
    if facts.transaction_mode == "auto" and migration.in_transaction:
        return f"{body} (the runner then runs this whole file outside a transaction)"
    return body
