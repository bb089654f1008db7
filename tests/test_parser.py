"""linter/parser.py builds the trees pglast's checked `parse_sql` builds: same classes, same
attribute values and types, node for node, over every SQL text the repository holds (migrations
of the examples and fixtures, and every rule's bad and good examples)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pglast
import pytest
from pglast import ast
from pgpreflight.linter import parser
from pgpreflight.linter.registry import all_rules

REPO = Path(__file__).resolve().parents[1]


def corpus() -> list[str]:
    texts = [
        p.read_text(encoding="utf-8")
        for folder in (REPO / "examples", REPO / "tests" / "fixtures")
        for p in sorted(folder.rglob("*.sql"))
    ]
    for rule in all_rules().values():
        texts += [*rule.doc.bad, *rule.doc.good]
    return texts


def difference(a: Any, b: Any, path: str = "") -> str | None:
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, ast.Node):
        for name in a.__slots__:
            found = difference(getattr(a, name), getattr(b, name), f"{path}.{name}")
            if found:
                return found
        return None
    if isinstance(a, (tuple, list)):
        if len(a) != len(b):
            return f"{path}: {len(a)} != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def test_trees_are_those_of_the_checked_parser() -> None:
    texts = corpus()
    assert len(texts) > 150
    compared = 0
    for text in texts:
        try:
            checked = tuple(pglast.parse_sql(text))
        except pglast.parser.ParseError:
            with pytest.raises(pglast.parser.ParseError):
                parser.parse_sql(text)
            continue
        assert difference(checked, parser.parse_sql(text)) is None, text[:200]
        compared += 1
    assert compared > 100


def test_booleans_stay_booleans_and_checks_come_back() -> None:
    (raw,) = parser.parse_sql("SELECT true, false")
    values = [t.val.val.boolval for t in raw.stmt.targetList]
    assert values == [True, False] and all(type(v) is bool for v in values)
    # after a parse (and after one that fails) pglast checks hand-built nodes again
    with pytest.raises(pglast.parser.ParseError):
        parser.parse_sql("SELEC 1")
    with pytest.raises(ValueError):
        ast.RangeVar(relname=1)


def _every_node(node: Any) -> list[Any]:
    """Reference walk, the plainest there is: every node under `node` (each slot of each node
    read by name, in order), parents first."""
    if isinstance(node, (tuple, list)):
        return [found for item in node for found in _every_node(item)]
    if not isinstance(node, ast.Node):
        return []
    found = [node]
    for name in node.__slots__:
        found += _every_node(getattr(node, name))
    return found


def test_walks_reach_every_node_in_order() -> None:
    """`nodes_of` reads children only from the slots `child_slots` names, through one getter
    per class: it must still reach every node of every tree, in document order."""
    from pgpreflight.linter.schema.names import nodes_of

    walked = 0
    for text in corpus():
        try:
            trees = parser.parse_sql(text)
        except pglast.parser.ParseError:
            continue
        for tree in trees:
            expected = [id(n) for n in _every_node(tree)]
            assert [id(n) for n in nodes_of(tree, ast.Node)] == expected, text[:200]
            walked += len(expected)
    assert walked > 5_000
