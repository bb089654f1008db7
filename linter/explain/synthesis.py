"""Rows for empty tables, so that EXPLAIN ANALYZE shows real plans.

The planner sizes a plan from the table's real block count: on an empty table every plan is a
sequential scan and no index is ever "used". When a table an index is analysed on has no rows
(no `--data` file and no sample from a target filled it), N rows are generated in SQL with
`generate_series`, from the live catalog of the scratch database:

- CHECK `col IN (...)` lists (stored as `col = ANY (ARRAY[...])`) and enum types give the
  allowed values, with a skewed distribution (the first value ~60%, the next ~25%, ...) so that
  selectivity differs by value, as it does for real status columns; booleans are 70/30;
- foreign keys point at existing parent rows (parents with no rows are generated first, or the
  table is reported as not synthesisable);
- columns of a primary key, unique constraint or unique index get distinct values; a unique set
  of several foreign-key columns walks the parents' keys in mixed radix (`g % n1`,
  `g / n1 % n2`), so the pairs are distinct;
- every other CHECK constraint filters the generated rows (the query generates twice as many
  candidates and keeps the first N that satisfy all of them);
- dates and timestamps spread over three years, text gets words from a small vocabulary (so
  trigram probes find frequent substrings), other columns their DEFAULT or a value by type.

Each table's outcome (rows generated, or why not) goes into the evidence.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

LOG = logging.getLogger(__name__)

DEFAULT_ROWS = 10_000
"""Rows generated per empty table when `synthesize-rows` is 0 (automatic)."""

WORDS = (
    "oficina",
    "curso",
    "projeto",
    "costura",
    "leitura",
    "musica",
    "danca",
    "teatro",
    "horta",
    "culinaria",
    "informatica",
    "artesanato",
    "fotografia",
    "pintura",
    "yoga",
    "capoeira",
)


@dataclass
class ColumnInfo:
    name: str
    type: str
    not_null: bool
    has_default: bool
    identity: bool
    generated: bool
    enum_values: list[str] = field(default_factory=list)
    type_category: str = "U"
    upper_letters: int = 0
    """n when a CHECK asks `col ~ '^[A-Z]{n}$'` (state codes such as 'PE')."""


@dataclass
class TableSynthesis:
    table: str
    rows: int = 0
    status: str = "generated"
    """`generated`, `had data`, or `failed`."""
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rows": self.rows,
            "status": self.status,
            "reason": self.reason,
        }


_IN_LIST = re.compile(
    r"^CHECK \(\(\(?(\w+)\)?(?:::text)? = ANY \(\(?ARRAY\[(.*)\]\)?(?:::text\[\])?\)\)\)$", re.S
)
_UPPER = re.compile(r"^CHECK \(\(\(?(\w+)\)?(?:::text)? ~ '\^\[A-Z\]\{(\d)\}\$'(?:::text)?\)\)$")
_STRING = re.compile(r"'((?:[^']|'')*)'")


def _qident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qtable(qualified: str) -> str:
    schema, _, name = qualified.partition(".")
    return f"{_qident(schema)}.{_qident(name)}"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def has_rows(conn: Any, table: str) -> bool:
    row = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {_qtable(table)})").fetchone()
    return bool(row and row[0])


def _columns(conn: Any, table: str) -> list[ColumnInfo]:
    rows = conn.execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef,
               a.attidentity <> '', a.attgenerated <> '',
               COALESCE((SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)
                         FROM pg_enum e WHERE e.enumtypid = a.atttypid), '{}'),
               t.typcategory
        FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        (_qtable(table),),
    ).fetchall()
    return [ColumnInfo(r[0], r[1], r[2], r[3], r[4], r[5], list(r[6]), r[7]) for r in rows]


def _constraints(conn: Any, table: str) -> list[tuple[str, list[str], str | None, list[str], str]]:
    """(contype, columns, referenced table, referenced columns, definition)."""
    rows = conn.execute(
        """
        SELECT c.contype,
               ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                     ORDER BY k.i),
               CASE WHEN c.confrelid <> 0 THEN
                    (SELECT n.nspname || '.' || r.relname FROM pg_class r
                     JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = c.confrelid) END,
               ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
                     ORDER BY k.i),
               pg_get_constraintdef(c.oid)
        FROM pg_constraint c WHERE c.conrelid = %s::regclass
        """,
        (_qtable(table),),
    ).fetchall()
    out = [(r[0], list(r[1]), r[2], list(r[3]), r[4]) for r in rows]
    # Unique indexes that back no constraint are unique sets too.
    for (cols,) in conn.execute(
        """
        SELECT ARRAY(SELECT a.attname FROM unnest(i.indkey) k(n)
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n)
        FROM pg_index i WHERE i.indrelid = %s::regclass AND i.indisunique
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
          AND i.indexprs IS NULL
        """,
        (_qtable(table),),
    ).fetchall():
        if cols:
            out.append(("u", list(cols), None, [], "UNIQUE INDEX"))
    return out


def _skewed(values: list[str], rvar: str, cast: str) -> str:
    """CASE over `rvar` (uniform in [0,1)) giving values[0] ~60%, values[1] ~25%, ..."""
    if len(values) == 1:
        return f"{_literal(values[0])}::{cast}"
    weights = [0.6, 0.25, 0.1]
    parts = []
    cumulative = 0.0
    remaining = 1.0
    for i, value in enumerate(values[:-1]):
        share = weights[i] if i < len(weights) else remaining / (len(values) - i)
        share = min(share, remaining)
        cumulative += share
        remaining -= share
        parts.append(f"WHEN {rvar} < {cumulative:.4f} THEN {_literal(value)}::{cast}")
    return f"(CASE {' '.join(parts)} ELSE {_literal(values[-1])}::{cast} END)"


def _by_type(col: ColumnInfo, rvar: str, unique: bool) -> str | None:
    t = col.type
    if col.enum_values:
        return _skewed(col.enum_values, rvar, t)
    if t == "boolean":
        return f"({rvar} < 0.7)"
    if t == "uuid":
        return (
            "md5(g::text || random()::text)::uuid"
            if not unique
            else "md5('pgpreflight' || g::text)::uuid"
        )
    if t in ("integer", "bigint", "smallint") or t.startswith("numeric"):
        return f"g::{t}" if unique else f"(1 + floor({rvar} * 1000))::{t}"
    if t in ("double precision", "real"):
        return f"({rvar} * 1000)::{t}"
    if t == "date":
        return f"(date '2023-01-01' + floor({rvar} * 1095)::int)"
    if t.startswith("timestamp"):
        return f"(timestamp '2023-01-01' + {rvar} * interval '1095 days')::{t}"
    if (t == "text" or t.startswith("character")) and "email" in col.name.lower():
        text = "('pessoa' || g || '@exemplo.org')"
        return f"{text}::{t}" if t != "text" else text
    if (t == "text" or t.startswith("character")) and col.upper_letters:
        n = col.upper_letters
        letters = " || ".join(
            f"chr(65 + ((g / {26**i}) + floor({rvar} * 26)::int) % 26)" for i in range(n)
        )
        return f"({letters})::{t}" if t != "text" else f"({letters})"
    if t in ("text",) or t.startswith("character varying") or t.startswith("character("):
        words = "(ARRAY[" + ", ".join(_literal(w) for w in WORDS) + "])"
        n = len(WORDS)
        base = (
            f"initcap({words}[1 + floor({rvar} * {n})::int] || ' de ' || "
            f"{words}[1 + (g::bigint * 7919 % {n})::int])"
        )
        text = f"({base} || ' ' || g)" if unique else base
        return f"{text}::{t}" if t != "text" else text
    if t == "inet":
        return "('10.0.0.0'::inet + g)"
    if t == "jsonb" or t == "json":
        return f"'{{}}'::{t}"
    if t.endswith("[]"):
        return f"'{{}}'::{t}"
    if t == "tsvector":
        return "to_tsvector('simple', 'pgpreflight')"
    return None


def synthesize_table(conn: Any, table: str, n_rows: int) -> TableSynthesis:
    """Insert up to `n_rows` generated rows into the empty `table`; never raises for data."""
    import psycopg

    result = TableSynthesis(table)
    columns = _columns(conn, table)
    constraints = _constraints(conn, table)
    unique_sets = [cols for kind, cols, _, _, _ in constraints if kind in ("p", "u") and cols]
    unique_cols = {c for cols in unique_sets if len(cols) == 1 for c in cols}
    fks: dict[str, tuple[str, str]] = {}
    for kind, cols, ref, ref_cols, _ in constraints:
        if kind == "f" and len(cols) == 1 and ref:
            fks[cols[0]] = (ref, ref_cols[0])
    in_lists: dict[str, list[str]] = {}
    checks: list[str] = []
    for kind, _cols, _, _, definition in constraints:
        if kind != "c":
            continue
        m = _IN_LIST.match(definition)
        if m:
            in_lists[m.group(1)] = [v.replace("''", "'") for v in _STRING.findall(m.group(2))]
        if definition.startswith("CHECK ") and " NOT VALID" not in definition:
            checks.append(definition[len("CHECK ") :])
        letters = _UPPER.match(definition)
        if letters:
            for col in columns:
                if col.name == letters.group(1):
                    col.upper_letters = int(letters.group(2))

    ctes: list[str] = []
    cte_names: list[str] = []
    selects: list[str] = []
    names: list[str] = []
    radix: dict[str, str] = {}  # FK column in a multi-column unique set -> index expression
    for cols in unique_sets:
        if len(cols) > 1 and all(c in fks for c in cols):
            # Mixed radix, each digit shifted by the ones before: distinct tuples while
            # N <= n1 * n2 * ..., and every parent used (not just the first few).
            divisor, before = "1", "0"
            for c in cols:
                digit = f"((g / ({divisor})) + {before}) % cardinality(p_{c}.k)"
                radix[c] = digit
                before = f"{before} + {digit}"
                divisor = f"{divisor} * cardinality(p_{c}.k)"
    for i, col in enumerate(columns):
        if col.generated or col.identity:
            continue
        rvar = f"r.r{i}"
        expr: str | None
        if col.name in fks:
            ref, ref_col = fks[col.name]
            if not has_rows(conn, ref):
                if col.not_null:
                    result.status, result.reason = (
                        "failed",
                        f"column {col.name} references {ref}, which has no rows",
                    )
                    return result
                continue
            cte_names.append(f"p_{col.name}")
            ctes.append(
                f"p_{col.name} AS (SELECT array_agg({_qident(ref_col)}) AS k FROM "
                f"(SELECT {_qident(ref_col)} FROM {_qtable(ref)} LIMIT 100000) s)"
            )
            index = radix.get(col.name) or (
                f"((g::bigint * 7919 + floor({rvar} * 1000)::int)"
                f" % cardinality(p_{col.name}.k))::int"
            )
            if col.name in unique_cols:
                index = f"(g - 1) % cardinality(p_{col.name}.k)"
            expr = f"p_{col.name}.k[1 + {index}]"
        elif col.name in in_lists:
            expr = _skewed(in_lists[col.name], rvar, col.type)
        elif (
            col.has_default
            and col.name not in unique_cols
            and not (
                col.type == "date" or col.type.startswith("timestamp") or col.type == "boolean"
            )
        ):
            continue  # its DEFAULT is a valid value
        else:
            expr = _by_type(col, rvar, col.name in unique_cols)
            if expr is None:
                if col.not_null and not col.has_default:
                    result.status = "failed"
                    result.reason = f"no generator for column {col.name} of type {col.type}"
                    return result
                continue
        names.append(_qident(col.name))
        selects.append(f"{expr} AS {_qident(col.name)}")
    if not names:
        result.status, result.reason = "failed", "no column to generate"
        return result
    # A CHECK on a column left to its DEFAULT cannot be evaluated on the candidates (the column
    # is not generated); the default is assumed to satisfy it.
    generated = {n.strip('"') for n in names}
    omitted = [c.name for c in columns if c.name not in generated]
    checks = [c for c in checks if not any(re.search(rf"\b{re.escape(o)}\b", c) for o in omitted)]
    randoms = ", ".join(f"random() + 0 * g AS r{i}" for i in range(len(columns)))
    with_clause = f"WITH {', '.join(ctes)} " if ctes else ""
    where = f"WHERE {' AND '.join(checks)}" if checks else ""
    # Candidates that fail a CHECK are dropped: generate twice as many as needed, then (for
    # strict checks) up to two more passes over fresh series numbers, so unique values stay unique.
    start = 1
    for factor in (2, 8, 32):
        missing = n_rows - result.rows
        if missing <= 0:
            break
        stop = start + missing * factor - 1
        from_parts = [
            f"generate_series({start}, {stop}) AS g",
            *cte_names,
            f"LATERAL (SELECT {randoms}) AS r",
        ]
        sql = (
            f"INSERT INTO {_qtable(table)} ({', '.join(names)}) "
            f"{with_clause}SELECT {', '.join(names)} FROM (SELECT {', '.join(selects)} "
            f"FROM {', '.join(from_parts)}) AS candidate {where} LIMIT {missing}"
        )
        start = stop + 1
        LOG.debug("synthesis of %s: %s", table, sql)
        try:
            with conn.transaction():
                result.rows += conn.execute(sql).rowcount
        except psycopg.Error as exc:
            result.status = "failed"
            result.reason = (exc.diag.message_primary or str(exc)).splitlines()[0]
            return result
        if not checks:
            break
    if result.rows == 0:
        result.status = "failed"
        result.reason = "every generated row violated a CHECK constraint"
        if checks:
            result.reason += f": {'; '.join(checks)[:200]}"
    return result


def parents_first(conn: Any, tables: list[str]) -> list[str]:
    """`tables` plus their empty FK parents, parents before children."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(t: str, depth: int = 0) -> None:
        if t in seen or depth > 20:
            return
        seen.add(t)
        for kind, _cols, ref, _rc, _d in _constraints(conn, t):
            if kind == "f" and ref and ref != t and not has_rows(conn, ref):
                visit(ref, depth + 1)
        order.append(t)

    for t in tables:
        visit(t)
    return order


def synthesize(conn: Any, tables: list[str], n_rows: int) -> list[TableSynthesis]:
    """Fill each empty table of `tables` (and empty parents they need), then ANALYZE them."""
    n = n_rows or DEFAULT_ROWS
    out: list[TableSynthesis] = []
    for table in parents_first(conn, tables):
        if has_rows(conn, table):
            continue
        result = synthesize_table(conn, table, n)
        out.append(result)
        if result.status == "generated":
            conn.execute(f"ANALYZE {_qtable(table)}")
    return out
