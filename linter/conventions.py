"""The names of the migration conventions, for argparse choices and help text.

Kept apart from `linter/discovery.py` (which defines how each one is read and takes this tuple
as its list; a test checks that every marker style it reads is named here) so that building the
command line does not import the SQL parser.
"""

from __future__ import annotations

CONVENTIONS = (
    "auto",
    "dbmate",
    "goose",
    "sql-migrate",
    "updown",
    "golang-migrate",
    "pop",
    "dir-pair",
    "flyway",
)
