"""pglast's `parse_sql`, without re-checking what PostgreSQL's parser already built.

pglast builds every node through `Node.__setattr__`, which checks each attribute's type against
the node's slot description and adapts it. For trees the parser itself produced the check finds
nothing to change, yet it was four fifths of a cold lint: over the 5,558 migration files of the
public histories in benchmarks/README.md, parsing takes 2.7 s with the checks and 0.5 s without,
and the trees are identical attribute for attribute, types included, except `Boolean.boolval`,
which the parser hands over as an int and the check turns into a bool; that class keeps its
check (tests/test_parser.py holds the comparison to a corpus of its own).

The checks are switched off only for the duration of one parse, under a lock, and only for the
pglast series this was measured on; with any other the library's own `parse_sql` runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from operator import attrgetter
from typing import Any

import pglast
from pglast import ast
from pglast import parse_sql as checked_parse_sql

LOCK = threading.Lock()
"""Held while the checks are off; code that builds nodes itself (from saved data) holds it too."""
_MEASURED_ON = ("7.", "8.")


def parse_sql(text: str) -> tuple[Any, ...]:
    """`pglast.parse_sql(text)`, faster; raises what it raises."""
    if not pglast.__version__.lstrip("v").startswith(_MEASURED_ON):
        return tuple(checked_parse_sql(text))
    node_setattr = ast.Node.__setattr__
    with LOCK:
        ast.Node.__setattr__ = object.__setattr__  # type: ignore[method-assign,assignment]
        ast.Boolean.__setattr__ = node_setattr  # type: ignore[method-assign]
        try:
            return tuple(checked_parse_sql(text))
        finally:
            ast.Node.__setattr__ = node_setattr  # type: ignore[method-assign]
            del ast.Boolean.__setattr__


def child_slots(cls: type) -> tuple[str, ...]:
    """The attributes of a pglast node class that may hold nodes, in order (from pglast's slot
    types): tree walks skip strings, numbers, flags and enums."""
    slots = getattr(cls, "__slots__", {})
    if not isinstance(slots, dict):
        return tuple(slots)
    return tuple(
        name
        for name, info in slots.items()
        if (getattr(info, "c_type", "*").endswith("*") and info.c_type != "char*")
        or getattr(info, "c_type", "") in ("CreateStmt", "ValUnion")
    )


_CHILD_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]] | None] = {}


def child_getter(cls: type) -> Callable[[Any], tuple[Any, ...]] | None:
    """What reads the `child_slots` of a node of `cls` in one call, last slot first (ready to
    push on a walk's stack), or None when it has none. Made once per class, a property of
    pglast's classes, not of any run; `attrgetter` reads the slots in C, where a Python loop of
    getattr was most of the walk over a long history's views."""
    if cls in _CHILD_GETTERS:
        return _CHILD_GETTERS[cls]
    slots = tuple(reversed(child_slots(cls)))
    getter: Callable[[Any], tuple[Any, ...]] | None = None
    if len(slots) == 1:
        one = attrgetter(slots[0])

        def getter(node: Any) -> tuple[Any, ...]:
            return (one(node),)

    elif slots:
        getter = attrgetter(*slots)
    _CHILD_GETTERS[cls] = getter
    return getter
