"""Index or constraint name does not follow the naming convention.

Each kind of object has a list of accepted name templates. In a template `<table>` is the table
name (without schema), `<columns>` (or `<column>`) the key column names joined by `_` (the columns
an expression uses, for expression indexes and CHECKs), and `*` any text. The defaults accept both
PostgreSQL's own generated names (`orders_customer_id_fkey`) and the prefixed style the guide's
project uses (`fk_orders_customer`, `idx_orders_customer_id`).

## Why is this bad?
Names are how people and migrations find objects: a DOWN section drops `idx_orders_customer_id`,
an incident runbook looks for the index on `orders(customer_id)`, an error message says
`violates foreign key constraint "fk_orders_customer"`. Names that follow one pattern say which
table and columns they are about, never collide across tables, and can be written without looking
them up.

## Example
```sql
CREATE INDEX orders_by_customer ON orders (customer_id);
```

Use instead:
```sql
CREATE INDEX idx_orders_customer_id ON orders (customer_id);
```

## Options
- `index-patterns`, `unique-index-patterns`: for `CREATE [UNIQUE] INDEX`.
- `primary-key-patterns`, `foreign-key-patterns`, `unique-patterns`, `check-patterns`,
  `exclude-patterns`: for named constraints (unnamed ones get PostgreSQL's name; see
  `check-constraint-unnamed`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pglast import ast
from pglast.enums import ConstrType
from pgpreflight.linter.context import Context
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.names import relation_name, short
from pgpreflight.linter.schema.names import NAMEDATALEN, referenced_columns

ID = "index-naming"
SEVERITY = "info"
OPTIONS: dict[str, object] = {
    "index-patterns": ["idx_<table>_<columns>*", "<table>_<columns>_idx"],
    "unique-index-patterns": [
        "uq_<table>_*",
        "ux_<table>_*",
        "idx_<table>_<columns>*",
        "<table>_<columns>_key",
        "<table>_<columns>_idx",
    ],
    "primary-key-patterns": ["pk_<table>", "<table>_pkey"],
    "foreign-key-patterns": ["fk_<table>_*", "<table>_<columns>_fkey"],
    "unique-patterns": ["uq_<table>_*", "<table>_<columns>_key"],
    "check-patterns": ["ck_<table>_*", "chk_<table>_*", "<table>_*check"],
    "exclude-patterns": ["ex_<table>_*", "<table>_*excl"],
}
EQUIVALENTS: dict[str, list[str]] = {}
PRESETS = ("guide",)

_CONSTRAINTS = {
    ConstrType.CONSTR_PRIMARY: ("primary key", "primary-key-patterns"),
    ConstrType.CONSTR_FOREIGN: ("foreign key", "foreign-key-patterns"),
    ConstrType.CONSTR_UNIQUE: ("unique constraint", "unique-patterns"),
    ConstrType.CONSTR_CHECK: ("check constraint", "check-patterns"),
    ConstrType.CONSTR_EXCLUSION: ("exclusion constraint", "exclude-patterns"),
}
_PLACEHOLDER = re.compile(r"(<table>|<columns>|<column>|\*)")


def _fill(template: str, table: str, columns: list[str]) -> str:
    out = []
    for part in _PLACEHOLDER.split(template):
        if part == "<table>":
            out.append(table)
        elif part in ("<columns>", "<column>"):
            out.append("_".join(columns))
        else:
            out.append(part)
    return "".join(out)


def _follows(name: str, templates: list[str], table: str, columns: list[str]) -> bool:
    if len(name.encode()) >= NAMEDATALEN - 1:
        return True  # truncated by PostgreSQL: the tail the template checks is gone
    return any(_glob(name, _fill(t, table, columns)) for t in templates)


def _glob(name: str, pattern: str) -> bool:
    """`name` matches `pattern`, where `*` stands for any text. Hand-written: every index has its
    own pattern, and compiling a regular expression for each one dominated large files."""
    parts = pattern.split("*")
    if len(parts) == 1:
        return name == pattern
    head, tail = parts[0], parts[-1]
    if len(name) < len(head) + len(tail) or not name.startswith(head) or not name.endswith(tail):
        return False
    position, end = len(head), len(name) - len(tail)
    for part in parts[1:-1]:
        found = name.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return True


def _index_columns(node: ast.IndexStmt) -> list[str]:
    columns: list[str] = []
    for elem in node.indexParams or ():
        used = [str(elem.name)] if elem.name else referenced_columns(elem.expr)
        columns.extend(c for c in used if c not in columns)
    return columns


def _constraint_columns(node: ast.Constraint, column: str | None) -> list[str]:
    names: Any = node.fk_attrs if node.contype == ConstrType.CONSTR_FOREIGN else node.keys
    if names:
        return [n.sval for n in names]
    if node.contype == ConstrType.CONSTR_CHECK and node.raw_expr is not None:
        return referenced_columns(node.raw_expr)
    return [column] if column else []


def check(migration: Migration, ctx: Context) -> Iterator[Finding]:
    for stmt, node in migration.up.of(ast.IndexStmt):
        if not node.idxname or node.relation is None:
            continue  # PostgreSQL names it <table>_<columns>_idx
        table = str(node.relation.relname)
        columns = _index_columns(node)
        option = "unique-index-patterns" if node.unique else "index-patterns"
        templates = [str(t) for t in ctx.options[option]]
        if _follows(str(node.idxname), templates, table, columns):
            continue
        expected = _fill(templates[0], table, columns) if templates else "?"
        yield ctx.finding(
            stmt,
            f"index {node.idxname} on {short(relation_name(node.relation))} does not follow the "
            f"naming convention ({expected})",
            hint=f"name it {expected}, or change the '{option}' option of {ID}",
        )
    for fact in ctx.facts.constraints:
        kind = _CONSTRAINTS.get(fact.node.contype) if fact.node.contype is not None else None
        if kind is None or not fact.node.conname:
            continue
        what, option = kind
        table = fact.table.split(".", 1)[1]
        columns = _constraint_columns(fact.node, fact.column)
        templates = [str(t) for t in ctx.options[option]]
        if _follows(str(fact.node.conname), templates, table, columns):
            continue
        expected = _fill(templates[0], table, columns) if templates else "?"
        yield ctx.finding(
            fact.stmt,
            f"{what} {fact.node.conname} on {short(fact.table)} does not follow the naming "
            f"convention ({expected})",
            node=fact.node,
            hint=f"name it {expected}, or change the '{option}' option of {ID}",
        )
