"""Rows for empty tables, so that EXPLAIN ANALYZE shows real plans.

The planner sizes a plan from the table's real block count: on an empty table every plan is a
sequential scan and no index is ever "used". When a table an index is analysed on has no rows
(no `--data` file and no sample from a target filled it), N rows are generated in SQL with
`generate_series`, from the live catalog of the scratch database:

- CHECK `col IN (...)` lists (stored as `col = ANY (ARRAY[...])`) and enum types give the
  allowed values, with a skewed distribution (the first value ~60%, the next ~25%, ...) so that
  selectivity differs by value, as it does for real status columns; booleans are 70/30;
- foreign keys (one column or several) point at existing parent rows, spread over many of them:
  parents with no rows are generated first, and a parent holding only a few rows (the seed row
  a migration inserts: the local instance, the admin) gets more, up to `FEW_PARENTS` or a tenth
  of N, so that a probe on the foreign key does not select every row;
- columns of a primary key, unique constraint or unique index get distinct values; a unique set
  of several foreign-key columns walks the parents' keys in mixed radix (`g % n1`,
  `g / n1 % n2`), so the pairs are distinct; a unique set that mixes foreign keys and other
  columns (a composite natural key) makes one of the others distinct. Rows that would still
  collide are skipped (`ON CONFLICT DO NOTHING`) and made up in a further pass;
- a partial index's predicate is made true on `PARTIAL_SHARE` of the rows and false on as many
  (`linter.explain.expressions.satisfy`), so that its probes return rows and it is smaller than
  the table; the share reached is measured and reported;
- a JSON column that generated columns (or index expressions) read with `->>`/`#>>` gets those
  keys, each valued by the type of the generated column that reads it (kestra's tables);
- arrays get one to three elements of their element type;
- `CHECK (num_nonnulls(a, b, c) = 1)` (one of several references) sets one of the columns per
  row; a self-referencing foreign key points half the rows at other rows of the table (an UPDATE
  after the load, then the rewrite below);
- every other CHECK constraint filters the generated rows (the query generates twice as many
  candidates and keeps the first N that satisfy all of them);
- dates and timestamps spread over three years, text gets words from a small vocabulary (so
  trigram probes find frequent substrings), other columns their DEFAULT or a value by type.

A generation attempt that fails (a trigger, a cast, a constraint we cannot read) is retried
once without the optional columns. Rows of an aborted attempt stay behind as dead tuples in the
table and its indexes, so a table that had one is rewritten (`VACUUM FULL`) before anything is
measured: the index sizes reported are those of a clean load.

Each table's outcome (rows generated, or why not) goes into the evidence.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from pgpreflight.linter.explain.expressions import Atom, json_paths, satisfy

LOG = logging.getLogger(__name__)

DEFAULT_ROWS = 10_000
"""Rows generated per empty table when `synthesize-rows` is 0 (automatic)."""

FEW_PARENTS = 100
"""A parent table with fewer rows than this (and than a tenth of the rows generated for its
child) gets more rows, up to this many or a tenth of N."""

PARTIAL_SHARE = 0.3
"""Share of the rows made to satisfy each partial index's predicate (and as many to fail it)."""

PASSES = 5
"""Generation passes at most: rows dropped by a CHECK or a unique conflict are made up in the
next pass, from fresh series numbers."""

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

NO_JIT = "SET LOCAL jit = off"
"""Run first in each generating transaction. An INSERT of a few thousand candidate rows is
costed above `jit_above_cost`, and compiling its many expressions took longer than running it:
one pass over lemmy's modlog (a long CHECK, seven foreign keys) spent 19.4 s of 19.9 s in JIT
compilation. The measured queries keep the server's setting."""

_NUMBERS = ("integer", "bigint", "smallint", "double precision", "real")


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
    expression: str | None = None
    """The DEFAULT, or for a generated column its generation expression (`pg_get_expr`)."""
    element_type: str | None = None
    """For an array column, the type of its elements (`text` for `text[]`)."""
    element_enum: list[str] = field(default_factory=list)
    base_type: str | None = None
    """For a column of a domain, the domain's base type (generated, then cast)."""

    @property
    def sequence_default(self) -> bool:
        """serial/bigserial: the DEFAULT draws from a sequence, keep it."""
        return bool(self.expression and self.expression.startswith("nextval("))


@dataclass
class TableSynthesis:
    table: str
    rows: int = 0
    status: str = "generated"
    """`generated`, `had data`, or `failed`."""
    reason: str | None = None
    existing: int = 0
    """Rows the table held before: a parent with only a few rows gets more (see FEW_PARENTS)."""
    partial: list[dict[str, Any]] = field(default_factory=list)
    """Per partial index: its predicate and how many of the table's rows satisfy it."""
    notes: list[str] = field(default_factory=list)
    aborted: int = 0
    """INSERTs that failed: their rows are dead tuples until the table is rewritten."""
    sqlstate: str | None = None
    """The SQLSTATE of the failed INSERT that made the attempt fail, if one did."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rows": self.rows,
            "status": self.status,
            "reason": self.reason,
            "existing": self.existing,
            "partial": self.partial,
            "notes": self.notes,
        }


_IN_LIST = re.compile(
    r"^CHECK \(\(\(?(\w+)\)?(?:::text)? = ANY \(\(?ARRAY\[(.*)\]\)?(?:::text\[\])?\)\)\)$", re.S
)
_ONE_OF = re.compile(r"^CHECK \(\(?num_nonnulls\((.+)\) = 1\)?\)$")
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


def row_count(conn: Any, table: str, limit: int) -> int:
    """Rows of `table`, counted up to `limit` (enough to tell "a few" from "many")."""
    row = conn.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {_qtable(table)} LIMIT {int(limit)}) s"
    ).fetchone()
    return int(row[0]) if row else 0


def _columns(conn: Any, table: str) -> list[ColumnInfo]:
    rows = conn.execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef,
               a.attidentity <> '', a.attgenerated <> '',
               COALESCE((SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)
                         FROM pg_enum e WHERE e.enumtypid = a.atttypid), '{}'),
               t.typcategory, pg_get_expr(d.adbin, d.adrelid),
               CASE WHEN t.typcategory = 'A' AND t.typelem <> 0
                    THEN format_type(t.typelem, NULL) END,
               COALESCE((SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)
                         FROM pg_enum e WHERE e.enumtypid = t.typelem
                           AND t.typcategory = 'A'), '{}'),
               CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END
        FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        (_qtable(table),),
    ).fetchall()
    return [
        ColumnInfo(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            list(r[6]),
            r[7],
            expression=r[8],
            element_type=r[9],
            element_enum=list(r[10]),
            base_type=r[11],
        )
        for r in rows
    ]


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
        ORDER BY c.contype, c.conname
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


def _partial_indexes(conn: Any, table: str) -> list[tuple[str, str]]:
    """(qualified index name, predicate) of the table's partial indexes."""
    rows = conn.execute(
        """
        SELECT n.nspname || '.' || c.relname, pg_get_expr(i.indpred, i.indrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE i.indrelid = %s::regclass AND i.indpred IS NOT NULL
        ORDER BY 1
        """,
        (_qtable(table),),
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def _index_expressions(conn: Any, table: str) -> list[str]:
    """Expression keys of the table's indexes (`(value -> 'labels')`): JSON keys they read."""
    rows = conn.execute(
        """
        SELECT pg_get_expr(i.indexprs, i.indrelid) FROM pg_index i
        WHERE i.indrelid = %s::regclass AND i.indexprs IS NOT NULL
        """,
        (_qtable(table),),
    ).fetchall()
    return [str(r[0]) for r in rows]


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


def _fraction(rvar: str, k: int) -> str:
    """Another uniform value in [0,1) drawn from `rvar` (its k-th "digit")."""
    return f"(({rvar}) * {k} - floor(({rvar}) * {k}))"


def _by_type(col: ColumnInfo, rvar: str, unique: bool) -> str | None:
    t = col.type
    if col.enum_values:
        return _skewed(col.enum_values, rvar, t)
    if col.base_type and col.base_type != t:
        underlying = ColumnInfo(col.name, col.base_type, col.not_null, False, False, False)
        made = _by_type(underlying, rvar, unique)
        return None if made is None else f"({made})::{t}"
    if col.element_type:
        return _array(col, rvar)
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
        return f"(g + {rvar})::{t}" if unique else f"({rvar} * 1000)::{t}"
    if t == "date":
        return (
            "(date '2000-01-01' + g::int)"
            if unique
            else f"(date '2023-01-01' + floor({rvar} * 1095)::int)"
        )
    if t.startswith("timestamp"):
        if unique:
            return f"(timestamp '2023-01-01' + g * interval '1 second')::{t}"
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
        # the series number first: a length limit (varchar(30)) keeps what makes it unique
        text = f"(g || ' ' || {base})" if unique else base
        return f"{text}::{t}" if t != "text" else text
    if t == "inet":
        return "('10.0.0.0'::inet + g)"
    if t == "jsonb" or t == "json":
        return f"'{{}}'::{t}"
    if t == "tsvector":
        return "to_tsvector('simple', 'pgpreflight')"
    return None


def _array(col: ColumnInfo, rvar: str) -> str | None:
    """One to three elements of the array's element type, each drawn on its own."""
    assert col.element_type is not None
    element = ColumnInfo(
        col.name, col.element_type, True, False, False, False, list(col.element_enum)
    )
    if col.element_type in ("text", "character varying") or col.element_type.startswith(
        "character"
    ):
        n = len(WORDS)
        words = "(ARRAY[" + ", ".join(_literal(w) for w in WORDS) + "])"
        items = [f"{words}[1 + floor({_fraction(rvar, k)} * {n})::int]" for k in (7, 13, 29)]
    else:
        items = [_by_type(element, _fraction(rvar, k), False) or "" for k in (7, 13, 29)]
        if not all(items):
            return None
    return (
        f"(CASE WHEN {rvar} < 0.4 THEN ARRAY[{items[0]}] "
        f"WHEN {rvar} < 0.8 THEN ARRAY[{items[0]}, {items[1]}] "
        f"ELSE ARRAY[{', '.join(items)}] END)::{col.type}"
    )


def _json_document(
    column: ColumnInfo,
    columns: list[ColumnInfo],
    unique_cols: set[str],
    index_expressions: list[str],
    rvar: str,
) -> str | None:
    """A JSON object with the keys that generated columns and index expressions read from
    `column`, each valued by the type of the generated column reading it; None when nothing
    reads a key."""
    reads: dict[tuple[str, ...], tuple[ColumnInfo | None, str]] = {}
    for col in columns:
        if not col.generated or not col.expression:
            continue
        paths = [p for p in json_paths(col.expression) if p[0] == column.name]
        for _, keys, op in paths:
            # the type drives the value only when the column reads this one key
            driver = col if len(paths) == 1 else None
            if keys not in reads or (reads[keys][0] is None and driver is not None):
                reads[keys] = (driver, op)
    for expression in index_expressions:
        for name, keys, op in json_paths(expression):
            if name == column.name and keys not in reads:
                reads[keys] = (None, op)
    if not reads:
        return None
    tree: dict[str, Any] = {}
    for n, (keys, (driver, op)) in enumerate(sorted(reads.items())):
        r = _fraction(rvar, 3 + 7 * n)
        value = _json_value(driver, op, r, driver is not None and driver.name in unique_cols)
        node = tree
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                break
        else:
            node.setdefault(keys[-1], value)
    document = _build_object(tree)
    return f"({document})::{column.type}" if column.type != "jsonb" else document


def _json_value(driver: ColumnInfo | None, op: str, rvar: str, unique: bool) -> str:
    """A JSON value whose text form the reading column turns into its own type."""
    words = "(ARRAY[" + ", ".join(_literal(w) for w in WORDS) + "])"
    n = len(WORDS)
    word = f"{words}[1 + floor({rvar} * {n})::int]"
    if driver is None:
        if op in ("->", "#>"):  # read as JSON (a GIN index on `value -> 'labels'`)
            return (
                f"jsonb_build_object({word}, {words}[1 + floor({_fraction(rvar, 7)} * {n})::int])"
            )
        return f"to_jsonb({word} || ' ' || floor({rvar} * 1000)::int)"
    plain = ColumnInfo(
        driver.name,
        driver.base_type or driver.type,
        True,
        False,
        False,
        False,
        list(driver.enum_values),
    )
    if plain.type in ("tsvector",) or plain.type.startswith(("json", "tsvector")):
        return f"to_jsonb({word})"
    if plain.type in ("text", "character varying") or plain.type.startswith("character"):
        # identifiers and names: many distinct values, a few rows each
        text = f"(g || '-' || {word})" if unique else f"({word} || '-' || floor({rvar} * 500)::int)"
        return f"to_jsonb({text})"
    expr = _by_type(plain, rvar, unique)
    if expr is None:
        return f"to_jsonb({word})"
    if plain.enum_values:
        return f"to_jsonb(({expr})::text)"
    return f"to_jsonb({expr})"


def _build_object(tree: dict[str, Any]) -> str:
    parts = []
    for key, value in tree.items():
        inner = _build_object(value) if isinstance(value, dict) else value
        parts.append(f"{_literal(key)}, {inner}")
    return f"jsonb_build_object({', '.join(parts)})"


def _atom_value(col: ColumnInfo, atom: Atom, normal: str | None, rvar: str) -> str | None:
    """The value `col` takes to make `atom` hold, or None when it cannot be forced."""
    cast = col.type
    if atom.kind == "null":
        return None if col.not_null else "NULL"
    if atom.kind == "not null":
        return normal or _by_type(col, rvar, False)
    if atom.value is None:
        return None
    if atom.kind == "equals":
        return f"CAST(({atom.value}) AS {cast})"
    base = col.base_type or col.type
    step = (
        "1"
        if base in _NUMBERS or base.startswith("numeric") or base == "date"
        else "interval '1 day'"
        if base.startswith("timestamp")
        else None
    )
    if step is None:
        return None
    sign = "+" if atom.kind == "above" else "-"
    return f"CAST(({atom.value}) {sign} {step} AS {cast})"


def synthesize_table(
    conn: Any, table: str, n_rows: int, *, existing: int = 0, lean: bool = False
) -> TableSynthesis:
    """Insert up to `n_rows` generated rows into `table` (empty, or holding `existing` rows);
    never raises for data. `lean`: leave every optional column to its DEFAULT or NULL."""
    import psycopg

    result = TableSynthesis(table, existing=existing)
    columns = _columns(conn, table)
    by_name = {c.name: c for c in columns}
    constraints = _constraints(conn, table)
    unique_sets = [cols for kind, cols, _, _, _ in constraints if kind in ("p", "u") and cols]
    unique_cols = {c for cols in unique_sets if len(cols) == 1 for c in cols}
    # foreign keys, one pick of a parent row per constraint: (cte, [(column, parent column)])
    fks: dict[str, tuple[int, int]] = {}  # column -> (fk number, position in its key)
    fk_refs: list[tuple[str, list[str], list[str]]] = []
    for kind, cols, ref, ref_cols, _ in constraints:
        if kind == "f" and ref and cols and not any(c in fks for c in cols):
            for j, c in enumerate(cols):
                fks[c] = (len(fk_refs), j)
            fk_refs.append((ref, cols, ref_cols))
    in_lists: dict[str, list[str]] = {}
    one_of: list[list[str]] = []  # CHECK (num_nonnulls(a, b, c) = 1): exactly one is set
    checks: list[str] = []
    for kind, _cols, _, _, definition in constraints:
        if kind != "c":
            continue
        exactly_one = _ONE_OF.match(definition)
        if exactly_one:
            one_of.append([c.strip().strip('"') for c in exactly_one.group(1).split(",")])
        m = _IN_LIST.match(definition)
        if m:
            in_lists[m.group(1)] = [v.replace("''", "'") for v in _STRING.findall(m.group(2))]
        if definition.startswith("CHECK ") and " NOT VALID" not in definition:
            checks.append(definition[len("CHECK ") :])
        letters = _UPPER.match(definition)
        if letters and letters.group(1) in by_name:
            by_name[letters.group(1)].upper_letters = int(letters.group(2))
    # a composite natural key: one column that is neither a foreign key nor of a few values
    # carries the distinctness (the radix below covers keys made only of foreign keys)
    for cols in unique_sets:
        if len(cols) < 2 or all(c in fks for c in cols) or unique_cols & set(cols):
            continue
        free = [
            c
            for c in cols
            if c not in fks
            and c in by_name
            and not by_name[c].generated
            and not by_name[c].identity
            and not by_name[c].enum_values
            and c not in in_lists
            and by_name[c].type != "boolean"
        ]
        if free:
            unique_cols.add(free[-1])
    partials = _partial_indexes(conn, table)
    index_expressions = _index_expressions(conn, table)
    # columns a partial predicate reads, and the JSON sources of generated columns, are needed
    needed = {a.column for _, p in partials for want in (True, False) for a in satisfy(p, want)}
    ctes: list[str] = []
    cte_names: list[str] = []
    selects: list[str] = []
    names: list[str] = []
    randoms: list[str] = []

    def random_var() -> str:
        randoms.append(f"random() + 0 * g AS r{len(randoms)}")
        return f"r.r{len(randoms) - 1}"

    # foreign keys: parents' keys as aligned arrays, one CTE per constraint
    picks: dict[int, str] = {}
    empty_parent: dict[int, str] = {}
    for n, (ref, _cols, ref_cols) in enumerate(fk_refs):
        if ref == table or not has_rows(conn, ref):
            empty_parent[n] = ref
            continue
        name = f"p{n}"
        keys = ", ".join(f"array_agg({_qident(rc)}) AS k{j}" for j, rc in enumerate(ref_cols))
        where = " AND ".join(f"{_qident(rc)} IS NOT NULL" for rc in ref_cols)
        ctes.append(
            f"{name} AS (SELECT {keys} FROM (SELECT {', '.join(_qident(rc) for rc in ref_cols)} "
            f"FROM {_qtable(ref)} WHERE {where} LIMIT 100000) s)"
        )
        cte_names.append(name)
        picks[n] = name
    radix: dict[str, str] = {}  # FK column in a multi-column unique set -> index expression
    for cols in unique_sets:
        if len(cols) > 1 and all(c in fks and fks[c][0] in picks for c in cols):
            # Mixed radix, each digit shifted by the ones before: distinct tuples while
            # N <= n1 * n2 * ..., and every parent used (not just the first few).
            divisor, before = "1", "0"
            for c in cols:
                size = f"cardinality({picks[fks[c][0]]}.k{fks[c][1]})"
                digit = f"((g / ({divisor})) + {before}) % {size}"
                radix[c] = digit
                before = f"{before} + {digit}"
                divisor = f"{divisor} * {size}"
    fk_index: dict[int, str] = {}
    plain: dict[str, str | None] = {}  # column -> its expression (None: DEFAULT or NULL)
    for col in columns:
        if col.generated or col.identity or (col.sequence_default and col.name in unique_cols):
            continue
        rvar = random_var()
        expr: str | None
        if col.name in fks:
            n, j = fks[col.name]
            if n not in picks:
                if col.not_null:
                    result.status, result.reason = (
                        "failed",
                        f"column {col.name} references {empty_parent[n]}, which has no rows",
                    )
                    return result
                plain[col.name] = None
                continue
            size = f"cardinality({picks[n]}.k{j})"
            if n not in fk_index:
                fk_index[n] = f"((g::bigint * 7919 + floor({rvar} * 1000)::int) % {size})::int"
            index = radix.get(col.name) or fk_index[n]
            if col.name in unique_cols:
                index = f"(g - 1) % {size}"
            expr = f"{picks[n]}.k{j}[1 + {index}]"
        elif col.name in in_lists:
            expr = _skewed(in_lists[col.name], rvar, col.type)
        elif col.type in ("json", "jsonb") and (
            document := _json_document(col, columns, unique_cols, index_expressions, rvar)
        ):
            expr = document
        elif lean and not col.not_null and col.name not in unique_cols and col.name not in needed:
            plain[col.name] = None
            continue
        elif (
            col.has_default
            and col.name not in unique_cols
            and not (
                col.type == "date" or col.type.startswith("timestamp") or col.type == "boolean"
            )
        ):
            plain[col.name] = None
            continue  # its DEFAULT is a valid value
        else:
            expr = _by_type(col, rvar, col.name in unique_cols)
            if expr is None:
                if col.not_null and not col.has_default:
                    result.status = "failed"
                    result.reason = f"no generator for column {col.name} of type {col.type}"
                    return result
                plain[col.name] = None
                continue
        plain[col.name] = expr
    # CHECK (num_nonnulls(...) = 1), the "one of these references" of lemmy's combined tables:
    # each row sets one of the columns, drawn at random, and leaves the others NULL
    for group in one_of:
        present = [c for c in group if plain.get(c) is not None]
        if len(present) < 2:
            continue
        rvar = random_var()
        for i, c in enumerate(present):
            plain[c] = f"(CASE WHEN floor({rvar} * {len(present)})::int = {i} THEN {plain[c]} END)"
    # partial indexes: a share of the rows satisfies each predicate, as many fail it
    overrides: dict[str, list[tuple[str, str]]] = {}
    for _index, predicate in partials:
        rvar = random_var()
        for want, when in (
            (True, f"{rvar} < {PARTIAL_SHARE}"),
            (False, f"{rvar} >= {1 - PARTIAL_SHARE}"),
        ):
            for atom in satisfy(predicate, want):
                target = by_name.get(atom.column)
                if (
                    target is None
                    or atom.column not in plain
                    or (atom.column in unique_cols and atom.kind != "null")
                    or (atom.column in fks and atom.kind not in ("null", "not null"))
                ):
                    continue
                value = _atom_value(target, atom, plain[atom.column], rvar)
                if value is not None:
                    overrides.setdefault(atom.column, []).append((when, value))
    for col in columns:
        if col.name not in plain:
            continue
        expr = plain[col.name]
        if col.name in overrides:
            otherwise = expr or (col.expression if col.has_default and col.expression else "NULL")
            cases = " ".join(f"WHEN {w} THEN {v}" for w, v in overrides[col.name])
            expr = f"(CASE {cases} ELSE {otherwise} END)"
        if expr is None:
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
    with_clause = f"WITH {', '.join(ctes)} " if ctes else ""
    where = f"WHERE {' AND '.join(checks)}" if checks else ""
    # Candidates that fail a CHECK are dropped and rows that collide on a unique key skipped:
    # generate more candidates than needed, then further passes over fresh series numbers (so
    # unique values stay unique) until N rows are in or a pass adds nothing.
    start = existing + 1
    factor = 2 if checks else 1
    for _ in range(PASSES):
        missing = n_rows - result.rows
        if missing <= 0:
            break
        stop = start + missing * factor - 1
        from_parts = [
            f"generate_series({start}, {stop}) AS g",
            *cte_names,
            f"LATERAL (SELECT {', '.join(randoms) or '0 * g AS r0'}) AS r",
        ]
        sql = (
            f"INSERT INTO {_qtable(table)} ({', '.join(names)}) "
            f"{with_clause}SELECT {', '.join(names)} FROM (SELECT {', '.join(selects)} "
            f"FROM {', '.join(from_parts)}) AS candidate {where} LIMIT {missing} "
            "ON CONFLICT DO NOTHING"
        )
        start = stop + 1
        factor *= 4
        LOG.debug("synthesis of %s: %s", table, sql)
        try:
            with conn.transaction():
                conn.execute(NO_JIT)
                added = conn.execute(sql).rowcount
        except psycopg.Error as exc:
            result.aborted += 1
            message = (exc.diag.message_primary or str(exc)).splitlines()[0]
            if result.rows:  # the earlier passes' rows stay
                result.notes.append(f"a further pass failed ({message}); {result.rows} rows kept")
                break
            result.status, result.reason, result.sqlstate = "failed", message, exc.sqlstate
            return result
        result.rows += added
        if added == 0:
            break
    if result.rows == 0:
        result.status = "failed"
        result.reason = "every generated row violated a CHECK constraint"
        if checks:
            result.reason += f": {'; '.join(checks)[:200]}"
    return result


def _clean(conn: Any, table: str, result: TableSynthesis, aborted: int) -> None:
    """Rewrite `table` after aborted attempts (or an UPDATE, `aborted` = 0): their rows are
    dead tuples in the heap and in every index, and would show up in the index sizes."""
    import psycopg

    after = f"{aborted} aborted attempt(s)" if aborted else "the update"
    try:
        conn.execute(f"VACUUM FULL {_qtable(table)}")
    except psycopg.Error as exc:
        first = (exc.diag.message_primary or str(exc)).splitlines()[0]
        result.notes.append(f"not rewritten after {after}: {first}")
        return
    result.notes.append(f"rewritten with VACUUM FULL after {after}: sizes hold no dead rows")


def _attempt(conn: Any, table: str, n_rows: int, existing: int) -> TableSynthesis:
    """Generate; when every INSERT failed, try once more with the optional columns left out,
    unless the server ran out of a resource (SQLSTATE class 53: out of shared memory when each
    row's trigger creates tables, as concourse's pipelines do): the retry inserts as many rows
    through the same triggers, and failed the same way after as long. A table with any aborted
    INSERT is rewritten, so that its sizes hold no dead rows."""
    result = synthesize_table(conn, table, n_rows, existing=existing)
    aborted = result.aborted
    if (result.sqlstate or "").startswith("53"):
        result.notes.insert(
            0, "not retried without the optional columns: the retry inserts as many rows"
        )
    elif result.status == "failed" and not result.rows and result.aborted:
        first = result.reason
        result = synthesize_table(conn, table, n_rows, existing=existing, lean=True)
        result.notes.insert(
            0, f"first attempt failed ({first}); retried without the optional columns"
        )
        aborted += result.aborted
    if aborted:
        _clean(conn, table, result, aborted)
    return result


def _link_to_self(conn: Any, table: str, result: TableSynthesis) -> None:
    """Point half the rows of a self-referencing foreign key (a parent comment, who invited
    whom) at other rows of the table; the generated rows left it NULL. The UPDATE leaves the
    old row versions behind, so the table is rewritten afterwards."""
    import psycopg

    linked = []
    for kind, cols, ref, ref_cols, _ in _constraints(conn, table):
        if kind != "f" or ref != table or len(cols) != 1:
            continue
        column, ref_col = _qident(cols[0]), _qident(ref_cols[0])
        try:
            with conn.transaction():
                conn.execute(NO_JIT)
                conn.execute(
                    f"UPDATE {_qtable(table)} SET {column} = p.k[1 + floor(random() * "
                    f"cardinality(p.k))::int] FROM (SELECT array_agg({ref_col}) AS k FROM "
                    f"(SELECT {ref_col} FROM {_qtable(table)} WHERE {ref_col} IS NOT NULL "
                    f"LIMIT 100000) s) p WHERE random() < 0.5"
                )
        except psycopg.Error as exc:
            first = (exc.diag.message_primary or str(exc)).splitlines()[0]
            result.notes.append(f"{cols[0]} (a reference to the same table) left NULL: {first}")
            continue
        linked.append(cols[0])
    if linked:
        result.notes.append(
            f"{', '.join(linked)} point{'s' if len(linked) == 1 else ''} at other rows of the "
            "table in half the rows"
        )
        _clean(conn, table, result, 0)


def _partial_shares(conn: Any, table: str) -> list[dict[str, Any]]:
    """How many rows satisfy each partial index's predicate, measured on the table."""
    import psycopg

    out = []
    for index, predicate in _partial_indexes(conn, table):
        try:
            row = conn.execute(
                f"SELECT count(*) FILTER (WHERE {predicate}), count(*) FROM {_qtable(table)}"
            ).fetchone()
        except psycopg.Error:
            continue
        matching, total = int(row[0]), int(row[1])
        out.append(
            {
                "index": index,
                "predicate": predicate,
                "rows": matching,
                "share": round(matching / total, 4) if total else 0.0,
            }
        )
    return out


def parents_first(conn: Any, tables: list[str], few: int = FEW_PARENTS) -> list[str]:
    """`tables` plus the FK parents they need filled (empty ones, or with fewer than `few`
    rows), parents before children."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(t: str, depth: int = 0) -> None:
        if t in seen or depth > 20:
            return
        seen.add(t)
        for kind, _cols, ref, _rc, _d in _constraints(conn, t):
            if kind == "f" and ref and ref != t and row_count(conn, ref, few) < few:
                visit(ref, depth + 1)
        order.append(t)

    for t in tables:
        visit(t)
    return order


def synthesize(conn: Any, tables: list[str], n_rows: int) -> list[TableSynthesis]:
    """Fill each empty table of `tables` (and the parents they need), then ANALYZE them."""
    n = n_rows or DEFAULT_ROWS
    few = max(1, min(FEW_PARENTS, n // 10))
    parents = max(few, n // 10)
    wanted = set(tables)
    out: list[TableSynthesis] = []
    for table in parents_first(conn, tables, few):
        count = row_count(conn, table, few)
        if count and (table in wanted or count >= few):
            continue
        if count:  # a parent holding a seed row or two: spread its children over more
            result = _attempt(conn, table, parents - count, count)
        else:
            result = _attempt(conn, table, n, 0)
        out.append(result)
        if result.status == "generated":
            _link_to_self(conn, table, result)
            result.partial = _partial_shares(conn, table)
            conn.execute(f"ANALYZE {_qtable(table)}")
    return out
