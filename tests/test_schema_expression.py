"""Expressions the schema model prints only when read (linter/schema/expression.py): the text
printed late is the text printed at once, comparing trees agrees with comparing the texts, and
a saved replay state keeps them as plain data."""

from __future__ import annotations

import pickle
import pickletools
from collections.abc import Iterator
from pathlib import Path

from pglast import ast
from pgpreflight.linter.cache import LintCache
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.parser import parse_sql
from pgpreflight.linter.replay import ReplayState
from pgpreflight.linter.schema import SchemaModel, diff
from pgpreflight.linter.schema.diff import expression_key
from pgpreflight.linter.schema.expression import Expression
from pgpreflight.linter.schema.names import deparse, nodes_of
from pgpreflight.linter.schema.render import model_to_dict

HISTORY = Path(__file__).parent / "fixtures" / "schema_history"

# What the fixture history lacks: casts and arrays, SQL-syntax calls (`TRIM`, `IN`, `ROW`),
# nested boolean groups, generated columns, expression indexes with predicates, domains.
VARIED = """
CREATE DOMAIN positive AS integer DEFAULT 1 CHECK (VALUE > 0) CHECK (VALUE < 1000);
CREATE TABLE item (
    id serial PRIMARY KEY,
    name text NOT NULL DEFAULT TRIM(BOTH FROM 'x'),
    tags text[] DEFAULT ARRAY[]::text[],
    kind text CHECK (kind IN ('a', 'b')) DEFAULT 'a'::text,
    price numeric(10, 2) DEFAULT -1.5,
    total numeric GENERATED ALWAYS AS (price * 2 + 1) STORED,
    made timestamptz DEFAULT now(),
    stock positive,
    CONSTRAINT grouped CHECK (((price > 0) AND ((kind = 'a') AND (tags IS NOT NULL))) OR (price IS NULL)),
    CONSTRAINT row_like CHECK (ROW(price, kind) IS NOT NULL)
);
CREATE INDEX item_lower ON item (lower(name), (price + 1)) WHERE kind <> 'b' AND made > '2020-01-01';
CREATE TABLE part (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE part_2024 PARTITION OF part FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE part_rest PARTITION OF part DEFAULT;
ALTER TABLE item ALTER COLUMN made SET DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE item ADD CONSTRAINT cheap CHECK (price < 100 AND name <> '') NOT VALID;
ALTER DOMAIN positive SET DEFAULT 2;
"""


def replay_history() -> SchemaModel:
    model = SchemaModel()
    for migration in discover([HISTORY], "auto"):
        for statement in migration.up.statements:
            model.apply(statement.node, location=statement)
    for raw in parse_sql(VARIED):
        model.apply(raw.stmt)
    return model


def expressions(model: SchemaModel) -> Iterator[Expression]:
    for table in model.tables.values():
        for column in table.columns.values():
            yield from (e for e in (column.default, column.generated) if e is not None)
        yield from (c.expression for c in table.constraints.values() if c.expression is not None)
        for index in table.indexes.values():
            yield from (e.expression for e in index.elements if e.expression is not None)
            if index.predicate is not None:
                yield index.predicate
        if table.partition_bound is not None:
            yield table.partition_bound
    for type_ in model.types.values():
        default = getattr(type_, "default", None)
        if default is not None:
            yield default
        yield from (e for _, e in getattr(type_, "checks", ()))


def test_every_expression_is_a_tree_until_read_and_then_its_eager_print() -> None:
    model = replay_history()
    found = list(expressions(model))
    trees = [e for e in found if e.node is not None]
    assert len(trees) >= 30
    assert all(e._text is None for e in trees)  # nothing read them during the replay
    for expression in trees:
        assert str(expression) == deparse(expression.node)
        assert str(expression) == str(expression)  # printed once, kept


def test_the_key_of_a_tree_is_the_key_of_its_printed_text() -> None:
    # diff compares keys: a tree and its text read back (a state saved after printing) must
    # compare as the texts did, casts, positions and how a call is written aside
    model = replay_history()
    for expression in expressions(model):
        if expression.node is None:
            continue
        text = deparse(expression.node)
        assert Expression.of_text(text) == expression
        if not isinstance(expression.node, ast.PartitionBoundSpec):  # compared as text only
            assert Expression.of_text(text).key == expression.key, text
            assert expression_key(Expression.of_text(text)) == expression_key(expression)


def test_equal_trees_and_equal_texts_compare_equal() -> None:
    def expression(sql: str) -> Expression:
        stmt = parse_sql(f"SELECT {sql}")[0].stmt
        assert isinstance(stmt, ast.SelectStmt) and stmt.targetList
        return Expression(stmt.targetList[0].val)

    assert expression("a  >  1") == expression("a > 1")
    assert expression("TRIM(BOTH FROM a)") == expression("pg_catalog.btrim(a)")
    assert expression("a > 1") != expression("a > 2")
    assert expression("a > 1") == "a > 1" and expression("(a > 1)") == Expression.of_text("a > 1")
    assert expression("a::text").key == expression("a").key != expression("b").key


def test_renaming_a_column_renames_it_in_the_tree_as_in_the_printed_text() -> None:
    def renamed_text(text: str, old: str, new: str) -> str:
        """What the model did before keeping trees: read the text back, rename, print."""
        stmt = parse_sql(f"SELECT {text}")[0].stmt
        assert isinstance(stmt, ast.SelectStmt) and stmt.targetList
        value = stmt.targetList[0].val
        for ref in nodes_of(value, ast.ColumnRef):
            fields = ref.fields or ()
            if fields and isinstance(fields[-1], ast.String) and fields[-1].sval == old:
                ref.fields = (*fields[:-1], ast.String(sval=new))
        return deparse(value)

    model = replay_history()
    checked = 0
    for expression in expressions(model):
        node = expression.node
        if node is None:
            continue
        for ref in list(nodes_of(node, ast.ColumnRef))[:1]:
            old = getattr((ref.fields or ())[-1], "sval", None)
            if not isinstance(old, str):
                continue
            before = deparse(node)
            renamed = expression.with_column_renamed(old, "renamed")
            assert str(renamed) == renamed_text(before, old, "renamed")
            assert deparse(node) == before  # the statement's own tree is left alone
            checked += 1
    assert checked >= 15
    text = Expression.of_text("price > 0")
    assert str(text.with_column_renamed("price", "cost")) == "cost > 0"


def test_a_saved_state_holds_no_parse_tree_and_prints_the_same_texts(tmp_path: Path) -> None:
    model = replay_history()
    read = next(e for e in expressions(model) if e.node is not None)
    str(read)  # one printed before saving: kept as its text
    cache = LintCache(tmp_path / "cache")
    cache.store_state("k", ReplayState(model, {"lock_timeout": None}))
    data = cache.state_entry("k").read_bytes()
    modules = {
        str(arg).split(" ")[0]
        for op, arg, _ in pickletools.genops(data)
        if op.name in ("GLOBAL", "STACK_GLOBAL", "SHORT_BINUNICODE", "BINUNICODE")
        and isinstance(arg, str)
        and arg.startswith("pglast")
    }
    assert not modules
    assert b"pglast" not in data
    loaded = cache.load_state(["seed", "k"])
    assert loaded is not None
    again = loaded[1].model
    saved = list(expressions(again))
    assert all(isinstance(e, Expression) for e in saved)
    assert model_to_dict(again) == model_to_dict(model)
    assert [e.key for e in saved] == [e.key for e in expressions(model)]
    assert not diff(model, again)
    pickle.loads(pickle.dumps(saved[0]))  # an expression alone round-trips too
