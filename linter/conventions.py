"""The names of the migration conventions, for argparse choices and help text.

Kept apart from `linter/discovery.py` (which defines how each one is read, and equals this tuple,
as a test checks) so that building the command line does not import the SQL parser.
"""

from __future__ import annotations

CONVENTIONS = (
    "auto",
    "dbmate",
    "goose",
    "sql-migrate",
    "updown",
    "golang-migrate",
    "dir-pair",
    "flyway",
)
