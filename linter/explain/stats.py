"""What the planner knows about a column (`pg_stats`), turned into concrete values for probes and
for the placeholders of application queries.

- a *common* value is the most common value (`most_common_vals[1]`), the worst case for an index;
- a *selective* value is one the planner expects on few rows: the middle histogram bound (the
  histogram excludes the most common values), else the least common of the MCVs;
- range bounds are histogram quantiles;
- a *frequent substring* for trigram probes is a four-letter piece found in many, but not most,
  of the sampled values.

Values travel as text with the column's type (`$1::text` bound to `ativo`), so a probe compares
like with like and the planner sees a constant, as it does for a real parameterised query's
custom plan. They are *parameters*, never literals we quote: the values come from the target's
own rows, and the target's `standard_conforming_strings` decides how a backslash in a literal
reads -- a quote we escape client-side can end the literal on the server. `Value.literal()` is
the same value written as a literal, for the report and for the scratch server we start
ourselves (standard_conforming_strings on, and disposable).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Value:
    """One value bound to a `$n` placeholder: its text, and the cast written after it."""

    text: str
    type: str | None = None
    """`None`: no cast, the server infers the type from where the placeholder sits."""
    array: bool = False
    """Written as `ARRAY[$n::type]` (the query compares with `= ANY(...)`)."""
    number: bool = False
    """A constant of ours (LIMIT 20), shown as a bare number."""

    def literal(self) -> str:
        """The value as an SQL literal, for display and for our own scratch server."""
        if self.number:
            return self.text
        text = quote_literal(self.text) + (f"::{self.type}" if self.type else "")
        return f"ARRAY[{text}]" if self.array else text

    def placeholder(self, n: int) -> str:
        text = f"${n}" + (f"::{self.type}" if self.type else "")
        return f"ARRAY[{text}]" if self.array else text


@dataclass
class Params:
    """Collects the values of one query's placeholders, in `$n` order."""

    values: list[Value] = field(default_factory=list)

    def __call__(self, text: str, type_name: str | None = None, array: bool = False) -> str:
        """Add a value; returns its placeholder (`$3::date`) for the query text."""
        value = Value(text, type_name, array)
        self.values.append(value)
        return value.placeholder(len(self.values))

    @property
    def texts(self) -> list[str]:
        return [v.text for v in self.values]


def inline(template: str, params: list[str]) -> str:
    """`template` with each `$n` (found by PostgreSQL's scanner, so never one inside a string)
    replaced by the n-th value as a literal: the form shown in reports and measured on the
    scratch server."""
    from pglast.parser import scan

    if not params:
        return template
    out: list[str] = []
    last = 0
    for tok in scan(template):
        if tok.name != "PARAM":
            continue
        n = int(template[tok.start + 1 : tok.end + 1])
        out.append(template[last : tok.start])
        out.append(quote_literal(params[n - 1]))
        last = tok.end + 1
    out.append(template[last:])
    return "".join(out)


def qident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qtable(qualified: str) -> str:
    schema, _, name = qualified.partition(".")
    return f"{qident(schema)}.{qident(name)}"


@dataclass
class ColumnStats:
    table: str
    column: str
    type: str
    mcv: list[str] = field(default_factory=list)
    mcf: list[float] = field(default_factory=list)
    histogram: list[str] = field(default_factory=list)
    n_distinct: float = 0.0
    sample: list[str] = field(default_factory=list)
    """A few real values read from the table when pg_stats has nothing (tiny or new tables)."""

    def literal(self, value: str) -> str:
        return f"{quote_literal(value)}::{self.type}"

    @property
    def common(self) -> str | None:
        if self.mcv:
            return self.mcv[0]
        return self.sample[0] if self.sample else None

    @property
    def selective(self) -> str | None:
        if self.histogram:
            return self.histogram[len(self.histogram) // 2]
        if len(self.mcv) > 1:
            return self.mcv[-1]
        if self.sample:
            return self.sample[len(self.sample) // 2]
        return self.mcv[0] if self.mcv else None

    def quantile(self, q: float) -> str | None:
        values = self.histogram or sorted(self.sample)
        if not values:
            return None
        return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]

    def frequent_substring(self, length: int = 4) -> str | None:
        values = [v for v in [*self.mcv, *self.histogram, *self.sample] if v]
        if not values:
            return None
        counts: Counter[str] = Counter()
        for value in values:
            pieces = set()
            for word in re.findall(r"[^\W\d_]+", value.lower()):
                for i in range(len(word) - length + 1):
                    pieces.add(word[i : i + length])
            counts.update(pieces)
        # Frequent but selective: in at least two sampled values, at most a fifth of them.
        limit = max(2, len(values) // 5)
        for piece, count in counts.most_common():
            if 2 <= count <= limit or len(values) < 4:
                return piece
        words = sorted(
            re.findall(rf"[^\W\d_]{{{length},}}", values[0].lower()), key=len, reverse=True
        )
        return words[0][:length] if words else None


def column_stats(conn: Any, table: str, column: str, stats_table: str | None = None) -> ColumnStats:
    """pg_stats of `table`.`column` (or of an expression index `stats_table`, whose expression
    columns appear in pg_stats under the index's name), plus a small sample when empty."""
    schema, _, name = table.partition(".")
    type_row = None
    if stats_table is None:
        type_row = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname = %s",
            (qtable(table), column),
        ).fetchone()
    stats = ColumnStats(table, column, type_row[0] if type_row else "text")
    row = conn.execute(
        "SELECT most_common_vals::text::text[], most_common_freqs, histogram_bounds::text::text[], "
        "n_distinct FROM pg_stats WHERE schemaname = %s AND tablename = %s AND attname = %s",
        (schema, stats_table or name, column),
    ).fetchone()
    if row is not None:
        stats.mcv = list(row[0] or [])
        stats.mcf = [float(x) for x in row[1] or []]
        stats.histogram = list(row[2] or [])
        stats.n_distinct = float(row[3] or 0)
    if not stats.mcv and not stats.histogram and stats_table is None:
        stats.sample = [
            r[0]
            for r in conn.execute(
                f"SELECT {qident(column)}::text FROM {qtable(table)} "
                f"WHERE {qident(column)} IS NOT NULL LIMIT 20"
            ).fetchall()
        ]
    return stats


@dataclass
class TableSize:
    rows: float
    pages: float


def table_size(conn: Any, table: str) -> TableSize:
    row = conn.execute(
        "SELECT reltuples, relpages FROM pg_class WHERE oid = %s::regclass", (qtable(table),)
    ).fetchone()
    if row is None:
        return TableSize(0, 0)
    return TableSize(max(float(row[0]), 0.0), float(row[1]))
