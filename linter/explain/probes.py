"""The new indexes of the pending migrations, read from the catalog, and the probe queries that
exercise each one.

A probe asks what the index was built for, with values from `pg_stats`:

- btree: equality on the leading column with a selective value and with a common value; equality
  on every key column with the values of one real row; a range for date/time leading columns;
  `ORDER BY <leading column> LIMIT 20` in the index's direction;
- hash: equality with a selective value; BRIN: a range;
- GIN/GiST with `gin_trgm_ops`/`gist_trgm_ops`: `ILIKE '%<frequent substring>%'`;
- GIN/GiST on tsvector: `@@` a lexeme found in some of the rows; GIN on an array: `@>` one
  element; GIN on jsonb: `@>` one key/value pair of the documents (the most frequent value
  found in at least two rows and at most 5% of them);
- an expression key is probed with the expression itself (its statistics live in pg_stats under
  the index's name);
- a partial index adds its predicate to every probe, and takes its values from the rows that
  satisfy the predicate: a value from elsewhere would make the probe return nothing.

Other kinds (GiST on geometry, SP-GiST) get no probe; the evidence says so, and the application
queries still exercise them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pgpreflight.linter.explain.stats import (
    ColumnStats,
    Params,
    column_stats,
    inline,
    qident,
    qtable,
)

TRGM = ("gin_trgm_ops", "gist_trgm_ops")
TIME_TYPES = ("date", "timestamp", "time")
NUMBER_TYPES = ("integer", "bigint", "smallint", "numeric", "double precision", "real")


def _sortable(type_name: str) -> bool:
    return type_name.startswith(TIME_TYPES) or type_name.startswith(NUMBER_TYPES)


@dataclass
class IndexKey:
    column: str | None
    text: str
    """The column name or the expression as `pg_get_indexdef` prints it."""
    opclass: str
    descending: bool = False


@dataclass
class IndexInfo:
    name: str
    """Qualified: `public.idx_oficinas_nome_trgm`."""
    table: str
    method: str
    unique: bool
    keys: list[IndexKey]
    predicate: str | None
    definition: str
    constraint: str | None
    """Name of the constraint the index backs (dropped with it for the before-plans)."""
    oid: int = 0
    size_bytes: int = 0
    build_ms: float | None = None
    predicate_rows: int | None = None
    """Partial index: rows of the data used that satisfy its predicate (None: not partial)."""
    included: bool = False
    """It has INCLUDE columns (it serves index-only scans a shorter key list may not)."""

    @property
    def short(self) -> str:
        schema, _, name = self.name.partition(".")
        return name if schema == "public" else self.name

    @property
    def trigram(self) -> bool:
        return self.method in ("gin", "gist") and any(k.opclass in TRGM for k in self.keys)


@dataclass
class Probe:
    label: str
    sql: str
    """With `$n` placeholders for every value taken from the data (see `params`)."""
    index: str
    """Qualified name of the index the probe was made for."""
    kind: str
    notes: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    """The values of `$1`, `$2`, ... as text; the server binds them (never quoted by us)."""

    @property
    def text(self) -> str:
        """The probe with its values written as literals (reports, the scratch server)."""
        return inline(self.sql, self.params)


def user_indexes(conn: Any) -> dict[int, str]:
    rows = conn.execute(
        """
        SELECT c.oid, n.nspname || '.' || c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('i', 'I') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg_toast%'
        """
    ).fetchall()
    return {int(r[0]): str(r[1]) for r in rows}


def index_info(conn: Any, oid: int) -> IndexInfo | None:
    row = conn.execute(
        """
        SELECT n.nspname || '.' || c.relname, tn.nspname || '.' || t.relname, am.amname,
               i.indisunique, pg_get_expr(i.indpred, i.indrelid), pg_get_indexdef(i.indexrelid),
               (SELECT conname FROM pg_constraint
                 WHERE conindid = i.indexrelid AND contype IN ('p', 'u', 'x')),
               i.indnkeyatts, pg_relation_size(i.indexrelid), t.relkind, i.indnatts
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
        JOIN pg_am am ON am.oid = c.relam
        WHERE i.indexrelid = %s
        """,
        (oid,),
    ).fetchone()
    if row is None or row[9] not in ("r", "p", "m"):
        return None
    keys: list[IndexKey] = []
    for k in range(1, int(row[7]) + 1):
        key = conn.execute(
            """
            SELECT pg_get_indexdef(%s, %s, true),
                   (SELECT a.attname FROM pg_attribute a
                     WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[%s - 1]
                     AND i.indkey[%s - 1] <> 0),
                   (SELECT opcname FROM pg_opclass WHERE oid = i.indclass[%s - 1]),
                   (i.indoption[%s - 1] & 1) = 1
            FROM pg_index i WHERE i.indexrelid = %s
            """,
            (oid, k, k, k, k, k, oid),
        ).fetchone()
        keys.append(
            IndexKey(
                column=key[1], text=str(key[0]), opclass=str(key[2] or ""), descending=bool(key[3])
            )
        )
    return IndexInfo(
        name=str(row[0]),
        table=str(row[1]),
        method=str(row[2]),
        unique=bool(row[3]),
        keys=keys,
        predicate=row[4],
        definition=str(row[5]),
        constraint=row[6],
        oid=oid,
        size_bytes=int(row[8] or 0),
        included=int(row[10]) > int(row[7]),
    )


def _raw_cursor(conn: Any) -> Any:
    """A cursor taking `$n` placeholders (the SQL may hold `%`, as LIKE patterns do)."""
    from psycopg import RawCursor

    return RawCursor(conn)


def _where(conditions: list[str], predicate: str | None) -> str:
    parts = list(conditions) + ([f"({predicate})"] if predicate else [])
    return f" WHERE {' AND '.join(parts)}" if parts else ""


def probes_for(
    conn: Any, index: IndexInfo, stats_cache: dict[tuple[str, str], ColumnStats]
) -> tuple[list[Probe], list[str]]:
    """Probe queries for `index`, and notes on what could not be probed."""
    notes: list[str] = []
    if not index.keys:
        return [], ["index has no key columns"]
    table = qtable(index.table)
    lead = index.keys[0]
    if lead.column is not None:
        key = (index.table, lead.column)
        if key not in stats_cache:
            stats_cache[key] = column_stats(conn, index.table, lead.column)
        stats = stats_cache[key]
        target = qident(lead.column)
    else:
        stats = column_stats(
            conn, index.table, "pg_expression_1", stats_table=index.name.split(".", 1)[1]
        )
        if not stats.mcv and not stats.histogram:
            sample = conn.execute(
                f"SELECT ({lead.text})::text FROM {table} WHERE ({lead.text}) IS NOT NULL LIMIT 20"
            ).fetchall()
            stats.sample = [r[0] for r in sample]
        stats.type = (
            conn.execute(f"SELECT pg_typeof(({lead.text})) FROM {table} LIMIT 1").fetchone()[0]
            if stats.sample or stats.mcv or stats.histogram
            else "text"
        )
        target = f"({lead.text})"
    if index.predicate:
        matching = _matching_stats(conn, table, target, index.predicate, stats.type)
        if matching is not None:
            stats = matching
    probes: list[Probe] = []

    def add(
        label: str, kind: str, conditions: list[str], p: Params | None = None, tail: str = ""
    ) -> None:
        sql = f"SELECT * FROM {table}{_where(conditions, index.predicate)}{tail}"
        probes.append(Probe(label, sql, index.name, kind, params=p.texts if p else []))

    if index.trigram:
        piece = stats.frequent_substring()
        if piece is None:
            return [], ["no values to take a substring from"]
        p = Params()
        add(
            f"{lead.text} ILIKE '%{piece}%'",
            "trigram",
            [f"{target} ILIKE {p(f'%{piece}%', 'text')}"],
            p,
        )
        return probes, notes
    if index.method in ("btree", "hash"):
        selective, common = stats.selective, stats.common
        if selective is None:
            return [], [f"no statistics nor values for {lead.text}"]
        p = Params()
        add(
            f"{lead.text} = selective value",
            "equality-selective",
            [f"{target} = {p(selective, stats.type)}"],
            p,
        )
        if index.method == "hash":
            return probes, notes
        if common is not None and common != selective and stats.mcv:
            p = Params()
            add(
                f"{lead.text} = most common value",
                "equality-common",
                [f"{target} = {p(common, stats.type)}"],
                p,
            )
        plain = [k.column for k in index.keys if k.column is not None]
        if len(index.keys) > 1 and len(plain) == len(index.keys):
            cols = ", ".join(f"{qident(c)}::text" for c in plain)
            types = conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attname = ANY(%s)",
                (table, plain),
            ).fetchall()
            type_of = {r[0]: r[1] for r in types}
            p = Params()
            row = (
                _raw_cursor(conn)
                .execute(
                    f"SELECT {cols} FROM {table} WHERE {target} = {p(selective, stats.type)}"
                    f"{' AND (' + index.predicate + ')' if index.predicate else ''} LIMIT 1",
                    p.texts,
                )
                .fetchone()
            )
            if row is not None and all(v is not None for v in row):
                p = Params()
                conds = [
                    f"{qident(c)} = {p(str(v), type_of.get(c, 'text'))}"
                    for c, v in zip(plain, row, strict=True)
                ]
                add("every key column = values of one row", "equality-all-keys", conds, p)
        if any(stats.type.startswith(t) for t in TIME_TYPES):
            low, high = stats.quantile(0.45), stats.quantile(0.5)
            if low is not None and high is not None:
                p = Params()
                add(
                    f"{lead.text} in a narrow range",
                    "range",
                    [f"{target} >= {p(low, stats.type)}", f"{target} < {p(high, stats.type)}"],
                    p,
                )
        if _sortable(stats.type):
            # Only for what applications sort by (dates, numbers): ORDER BY a boolean or a city
            # name LIMIT 20 would make any btree look "used".
            direction = " DESC" if lead.descending else ""
            add(
                f"ORDER BY {lead.text}{direction} LIMIT 20",
                "order-limit",
                [],
                tail=f" ORDER BY {target}{direction} LIMIT 20",
            )
        return probes, notes
    if index.method == "brin":
        low, high = stats.quantile(0.45), stats.quantile(0.5)
        if low is not None and high is not None:
            p = Params()
            add(
                f"{lead.text} in a narrow range",
                "range",
                [f"{target} >= {p(low, stats.type)}", f"{target} < {p(high, stats.type)}"],
                p,
            )
        return probes, notes
    contains = _containment(conn, table, target, lead.opclass, index.predicate)
    if contains is not None:
        label, kind, condition, p = contains
        add(label, kind, [condition], p)
        return probes, notes
    opclass = lead.opclass or "default"
    return [], [
        f"no probe for {index.method} indexes with operator class {opclass}; "
        "application queries still count"
    ]


def _matching_stats(
    conn: Any, table: str, target: str, predicate: str, type_name: str
) -> ColumnStats | None:
    """Statistics of `target` over the rows that satisfy a partial index's predicate: up to 100
    most common values with their frequencies, and ~20 values in order."""
    import psycopg

    where = f"WHERE ({predicate}) AND ({target}) IS NOT NULL"
    try:
        counts = conn.execute(
            f"SELECT v, n, sum(n) OVER () FROM (SELECT ({target})::text AS v, count(*) AS n "
            f"FROM {table} {where} GROUP BY 1) s ORDER BY n DESC, v LIMIT 100"
        ).fetchall()
        ordered = conn.execute(
            f"SELECT v FROM (SELECT ({target})::text AS v, row_number() OVER (ORDER BY {target}) "
            f"AS i, count(*) OVER () AS c FROM {table} {where}) s "
            "WHERE (i - 1) % greatest(c / 20, 1) = 0 ORDER BY i"
        ).fetchall()
    except psycopg.Error:
        return None
    if not counts:
        return None
    stats = ColumnStats(table, target, type_name)
    stats.mcv = [str(r[0]) for r in counts]
    stats.mcf = [float(r[1]) / float(r[2]) for r in counts]
    # as in pg_stats, the histogram leaves out the common values; every value, in order, is
    # the sample that range probes take their bounds from
    stats.sample = [str(r[0]) for r in ordered]
    if len(counts) == 100:
        common = set(stats.mcv)
        stats.histogram = [v for v in stats.sample if v not in common]
    return stats


def _quote_element(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _containment(
    conn: Any, table: str, target: str, opclass: str, predicate: str | None
) -> tuple[str, str, str, Params] | None:
    """A `@@`/`@>` probe for GIN/GiST on tsvector, GIN on arrays and on jsonb: the value is
    one found in some rows but not most."""
    import psycopg

    rows = f"SELECT {target} AS x FROM {table} WHERE {target} IS NOT NULL" + (
        f" AND ({predicate})" if predicate else ""
    )
    if opclass == "tsvector_ops":
        items = f"SELECT unnest(tsvector_to_array(x)) AS v FROM ({rows} LIMIT 2000) s"
    elif opclass == "array_ops":
        items = f"SELECT unnest(x)::text AS v FROM ({rows} LIMIT 2000) s"
    elif opclass in ("jsonb_ops", "jsonb_path_ops"):
        items = (
            f"SELECT jsonb_build_object(e.key, e.value)::text AS v FROM ({rows} "
            f"AND jsonb_typeof({target}) = 'object' LIMIT 2000) s, jsonb_each(s.x) e "
            "WHERE jsonb_typeof(e.value) IN ('string', 'number', 'boolean')"
        )
    else:
        return None
    try:
        found = conn.execute(
            f"SELECT v, count(*), (SELECT count(*) FROM ({rows} LIMIT 2000) s) FROM ({items}) i "
            "WHERE v IS NOT NULL GROUP BY v ORDER BY count(*) DESC, v LIMIT 200"
        ).fetchall()
        type_name = str(
            conn.execute(f"SELECT pg_typeof({target}) FROM {table} LIMIT 1").fetchone()[0]
        )
    except (psycopg.Error, TypeError):
        return None
    if not found:
        return None
    # frequent but selective: the most frequent value in at least two rows and at most 5% of
    # the rows read (a word of the small vocabulary is in most synthesised documents)
    selective = [str(v) for v, n, total in found if n >= 2 and n <= 0.05 * total]
    value = selective[0] if selective else str(found[-1][0])
    p = Params()
    if opclass == "tsvector_ops":
        query = "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
        return f"{target} @@ '{value}'", "fulltext", f"{target} @@ {p(query, 'tsquery')}", p
    if opclass == "array_ops":
        element = "{" + _quote_element(value) + "}"
        return f"{target} @> {element}", "contains", f"{target} @> {p(element, type_name)}", p
    return f"{target} @> {value}", "contains", f"{target} @> {p(value, 'jsonb')}", p
