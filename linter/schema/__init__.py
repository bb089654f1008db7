"""The in-memory schema model: what the database looks like after each migration.

Other modules code against this small surface: `SchemaModel` (`apply`, `copy`, lookups,
`to_dict`, `to_text`), the object records, and `diff`.
"""

from __future__ import annotations

from .diff import SchemaDifference, diff
from .model import SchemaModel
from .objects import (
    CHECK,
    EXCLUDE,
    FOREIGN_KEY,
    PRIMARY_KEY,
    UNIQUE,
    Column,
    Constraint,
    Domain,
    EnumType,
    Extension,
    Function,
    Index,
    IndexElement,
    Problem,
    Sequence,
    Table,
    Trigger,
    Unmodelled,
    View,
    display,
    qualify,
)

__all__ = [
    "CHECK",
    "EXCLUDE",
    "FOREIGN_KEY",
    "PRIMARY_KEY",
    "UNIQUE",
    "Column",
    "Constraint",
    "Domain",
    "EnumType",
    "Extension",
    "Function",
    "Index",
    "IndexElement",
    "Problem",
    "SchemaDifference",
    "SchemaModel",
    "Sequence",
    "Table",
    "Trigger",
    "Unmodelled",
    "View",
    "diff",
    "display",
    "qualify",
]
