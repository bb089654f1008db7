"""Catalog snapshots: storage files, the session's own locks, and a normalised schema model.

The schema model is keyed by object kind and schema-qualified name, and holds only what the
server prints back through its own deparsers (`format_type`, `pg_get_indexdef`,
`pg_get_constraintdef`, `pg_get_expr`, `pg_get_triggerdef`, `pg_get_functiondef`): OIDs change
when DOWN drops and UP recreates an object, names and definitions must not.

Snapshots taken *inside* a traced transaction must not lock user tables, or they would hide
the statement's own locks: view definitions are then compared by a hash of the stored rule tree
instead of `pg_get_viewdef` (which locks the relations the view reads). A test checks that a
snapshot takes no lock on any user relation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

FIRST_USER_OID = 16384
"""FirstNormalObjectId: OIDs below belong to the system catalogs created by initdb."""

_USER_NS = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "
    "AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'"
)
_NOT_EXTENSION_MEMBER = (
    "NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '{catalog}'::regclass "
    "AND dep.objid = {oid} AND dep.deptype = 'e')"
)

RELKIND = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
    "S": "sequence",
    "c": "composite type",
    "i": "index",
    "I": "partitioned index",
    "t": "toast table",
}


_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")


def ident(name: str) -> str:
    """One part of a name as PostgreSQL would print it: double-quoted unless it is a plain
    lower-case identifier, so that `"my.table"` and `my.table` (schema my) stay two names."""
    return name if _PLAIN.fullmatch(name) else '"' + name.replace('"', '""') + '"'


def qualify(schema: str, name: str) -> str:
    """`public` is implied, as in the migrations people write; other schemas are spelled out."""
    return ident(name) if schema == "public" else f"{ident(schema)}.{ident(name)}"


def split_name(name: str) -> list[str]:
    """The parts of a name made by `qualify` (and `.column` after it), quotes honoured."""
    parts: list[str] = []
    i, n = 0, len(name)
    while i <= n:
        if i < n and name[i] == '"':
            j, part = i + 1, []
            while j < n:
                if name[j] == '"':
                    if j + 1 < n and name[j + 1] == '"':
                        part.append('"')
                        j += 2
                        continue
                    break
                part.append(name[j])
                j += 1
            parts.append("".join(part))
            i = j + 2  # past the closing quote and the dot
        else:
            j = name.find(".", i)
            j = n if j < 0 else j
            parts.append(name[i:j])
            i = j + 1
    return parts


def join_name(parts: list[str]) -> str:
    """The inverse of `split_name`."""
    return ".".join(ident(p) for p in parts)


def sql_name(name: str) -> str:
    """A name made by `qualify` as SQL, every part quoted (a table called `user` or `order`
    is a keyword unquoted)."""
    return ".".join('"' + p.replace('"', '""') + '"' for p in split_name(name))


# -- storage and locks (per statement) -----------------------------------------------------


@dataclass(frozen=True)
class Relation:
    oid: int
    name: str  # qualified, see `qualify`
    kind: str  # RELKIND value
    filenode: int
    owner: int | None  # table of an index or of a TOAST table/index


_RELATIONS_SQL = """
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relfilenode,
       coalesce(i.indrelid, t.oid)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_class t ON t.reltoastrelid = c.oid
WHERE c.oid >= 16384
"""


def relations(conn: Any) -> dict[int, Relation]:
    """Every user relation (tables, indexes, TOAST, sequences, views) by OID."""
    return _relations(conn.execute(_RELATIONS_SQL, prepare=True).fetchall())


def _relations(rows: list[tuple[Any, ...]]) -> dict[int, Relation]:
    out: dict[int, Relation] = {}
    for oid, nsp, name, kind, filenode, owner in rows:
        out[oid] = Relation(oid, qualify(nsp, name), RELKIND.get(kind, kind), filenode, owner)
    return out


def owner_table(rels: dict[int, Relation], oid: int) -> Relation | None:
    """The table an index, TOAST table or TOAST index belongs to (following two hops)."""
    rel = rels.get(oid)
    hops = 0
    while rel is not None and rel.owner is not None and hops < 3:
        rel = rels.get(rel.owner)
        hops += 1
    return rel


@dataclass(frozen=True)
class HeldLock:
    locktype: str
    mode: str  # pg_locks spelling: AccessExclusiveLock
    relation: int | None
    classid: int | None
    objid: int | None
    objsubid: int | None

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.locktype, self.mode, self.relation, self.classid, self.objid, self.objsubid)


_LOCKS_SQL = """
SELECT l.locktype, l.mode, l.relation::int8, l.classid::int8, l.objid::int8, l.objsubid::int8
FROM pg_locks l
WHERE l.pid = {pid} AND l.granted AND l.locktype IN ('relation', 'object')
  AND coalesce(l.relation::int8, l.objid::int8, 0) >= 16384
"""


def own_locks(conn: Any) -> list[HeldLock]:
    """Granted relation and object locks of this session on user objects."""
    rows = conn.execute(_LOCKS_SQL.format(pid="pg_backend_pid()"), prepare=True).fetchall()
    return [HeldLock(*row) for row in rows]


def locks_of(conn: Any, pid: int) -> list[HeldLock]:
    """The same, for another backend (the poller's view of a non-transactional statement)."""
    rows = conn.execute(_LOCKS_SQL.format(pid=int(pid))).fetchall()
    return [HeldLock(*row) for row in rows]


def describe_objects(conn: Any, locks: list[HeldLock]) -> dict[tuple[int, int, int], str]:
    """pg_describe_object for object locks whose object still exists."""
    keys = {(lk.classid, lk.objid, lk.objsubid or 0) for lk in locks if lk.locktype == "object"}
    out: dict[tuple[int, int, int], str] = {}
    for classid, objid, subid in keys:
        if classid is None or objid is None:
            continue
        row = conn.execute(
            "SELECT pg_describe_object(%s, %s, %s)", (classid, objid, subid)
        ).fetchone()
        if row and row[0]:
            out[(classid, objid, subid)] = str(row[0])
    return out


_SETTINGS_SQL = "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"


def session_settings(conn: Any) -> tuple[str, str]:
    row = conn.execute(_SETTINGS_SQL).fetchone()
    return str(row[0]), str(row[1])


def before_statement(
    conn: Any, *, begin: bool, count: bool
) -> tuple[tuple[str, str], dict[str, int] | None]:
    """What the trace reads before a statement, in one round trip: BEGIN first when the trace
    opens the statement's transaction (`begin`), the session's lock and statement timeouts, and
    `catalog_writes` when `count` (inside that transaction)."""
    if conn.info.transaction_status == 3:  # INERROR: let the caller see the real error
        return session_settings(conn), catalog_writes(conn) if count else None
    with conn.pipeline():
        if begin:
            conn.execute("BEGIN")
        settings = conn.cursor().execute(_SETTINGS_SQL, prepare=True)
        writes = conn.cursor().execute(_CATALOG_WRITES_SQL, prepare=True) if count else None
    row = settings.fetchone()
    return (str(row[0]), str(row[1])), _writes(writes.fetchone()) if writes is not None else None


def after_statement(
    conn: Any, *, count: bool
) -> tuple[dict[str, int] | None, dict[int, Relation], list[HeldLock]]:
    """What the trace reads after a statement that ran in this session, in one round trip:
    `catalog_writes` (when `count`), `relations` and `own_locks`."""
    if conn.info.transaction_status == 3:
        return catalog_writes(conn) if count else None, relations(conn), own_locks(conn)
    with conn.pipeline():
        writes = conn.cursor().execute(_CATALOG_WRITES_SQL, prepare=True) if count else None
        rels = conn.cursor().execute(_RELATIONS_SQL, prepare=True)
        locks = conn.cursor().execute(_LOCKS_SQL.format(pid="pg_backend_pid()"), prepare=True)
    return (
        _writes(writes.fetchone()) if writes is not None else None,
        _relations(rels.fetchall()),
        [HeldLock(*row) for row in locks.fetchall()],
    )


# -- the normalised schema model (round trip and per-statement changes) --------------------

Snapshot = dict[tuple[str, str], dict[str, Any]]
"""(kind, qualified name) -> attributes that must survive DOWN/UP unchanged."""


def _relations_query(in_transaction: bool) -> str:
    viewdef = (
        "(SELECT md5(string_agg(r.ev_action::text, ',')) FROM pg_rewrite r WHERE r.ev_class = "
        "c.oid)"
        if in_transaction
        else "CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END"
    )
    return f"""
SELECT n.nspname, c.relname, c.relkind, c.relpersistence, c.relrowsecurity,
       coalesce(array_to_string(c.reloptions, ','), ''),
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
       {viewdef}, obj_description(c.oid, 'pg_class'), c.oid::int8
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c') AND {_USER_NS}
  AND {_NOT_EXTENSION_MEMBER.format(catalog="pg_class", oid="c.oid")}
"""


_COLUMNS_SQL = f"""
SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN (SELECT collname FROM pg_collation WHERE oid = a.attcollation) END,
       col_description(c.oid, a.attnum), c.oid::int8
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
  AND {_USER_NS} AND {_NOT_EXTENSION_MEMBER.format(catalog="pg_class", oid="c.oid")}
"""

_CONSTRAINTS_SQL = f"""
SELECT n.nspname, c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid),
       con.convalidated, con.condeferrable, con.condeferred, c.oid::int8
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {_USER_NS}
"""

_INDEXES_SQL = f"""
SELECT n.nspname, ic.relname, tc.relname, pg_get_indexdef(i.indexrelid), i.indisvalid,
       i.indisready, i.indisprimary, i.indisunique, tc.oid::int8
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class tc ON tc.oid = i.indrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE {_USER_NS}
"""

_TRIGGERS_SQL = f"""
SELECT n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, c.oid::int8
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND {_USER_NS}
"""

_FUNCTIONS_SQL = f"""
SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prokind,
       CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid)
            ELSE pg_get_function_result(p.oid) END
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {_USER_NS} AND {_NOT_EXTENSION_MEMBER.format(catalog="pg_proc", oid="p.oid")}
"""

_SEQUENCES_SQL = f"""
SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
       (SELECT tn.nspname || '.' || tc.relname || '.' || ta.attname
          FROM pg_depend dep
          JOIN pg_class tc ON tc.oid = dep.refobjid
          JOIN pg_namespace tn ON tn.oid = tc.relnamespace
          JOIN pg_attribute ta ON ta.attrelid = dep.refobjid AND ta.attnum = dep.refobjsubid
         WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid
           AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')
         LIMIT 1)
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {_USER_NS} AND {_NOT_EXTENSION_MEMBER.format(catalog="pg_class", oid="c.oid")}
"""

_TYPES_SQL = f"""
SELECT n.nspname, t.typname, t.typtype,
       CASE t.typtype
         WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                          FROM pg_enum e WHERE e.enumtypid = t.oid)
         WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod)
                       || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
                       || coalesce(' DEFAULT ' || t.typdefault, '')
                       || coalesce((SELECT ' ' || string_agg(pg_get_constraintdef(dc.oid), ' '
                                                             ORDER BY dc.conname)
                                      FROM pg_constraint dc WHERE dc.contypid = t.oid), '')
         WHEN 'r' THEN (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r
                         WHERE r.rngtypid = t.oid)
       END
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd', 'r') AND {_USER_NS}
  AND {_NOT_EXTENSION_MEMBER.format(catalog="pg_type", oid="t.oid")}
"""

_EXTENSIONS_SQL = """
SELECT e.extname, e.extversion, n.nspname
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
"""

_SCHEMAS_SQL = f"""
SELECT n.nspname, obj_description(n.oid, 'pg_namespace') FROM pg_namespace n
WHERE {_USER_NS} AND {_NOT_EXTENSION_MEMBER.format(catalog="pg_namespace", oid="n.oid")}
"""

_POLICIES_SQL = """
SELECT schemaname, tablename, policyname, permissive, roles::text, cmd, qual, with_check
FROM pg_policies
"""


def _fetch_all(
    conn: Any, queries: list[tuple[str, tuple[Any, ...] | None]]
) -> list[list[tuple[Any, ...]]]:
    """Run the queries in one pipeline (one round trip instead of eleven): snapshots run
    between every two traced statements, and on a busy machine round trips dominate. They are
    prepared from their first use: planning them costs more than running them, and a scenario's
    sessions are too short for psycopg's own threshold (5 runs) to prepare them."""
    if conn.info.transaction_status == 3:  # INERROR: let the caller see the real error
        return [conn.execute(q, p).fetchall() for q, p in queries]
    with conn.pipeline():
        cursors = [conn.cursor().execute(q, p, prepare=True) for q, p in queries]
    return [cur.fetchall() for cur in cursors]


def _scope_by_setting(conn: Any) -> bool:
    """Whether a scoped snapshot's relations go in a transaction-local setting rather than in a
    parameter: inside a transaction on a session that prepares statements (not a target's).
    A query with a parameter is planned again at each of its first five runs (PostgreSQL's
    custom plans), and a traced session ends before that: planning the five relation queries
    cost three times what running them did (concourse: 12 ms of a 16 ms snapshot). Without a
    parameter, each is planned once per session, when it is prepared. The setting is local to
    the transaction (reverted at its end) and takes no lock."""
    return conn.info.transaction_status == 2 and conn.prepare_threshold is not None  # INTRANS


_WIDE_SQL = {
    "schemas": _SCHEMAS_SQL,
    "functions": _FUNCTIONS_SQL,
    "sequences": _SEQUENCES_SQL,
    "types": _TYPES_SQL,
    "extensions": _EXTENSIONS_SQL,
    "policies": _POLICIES_SQL,
}

READS = {
    "relations": frozenset(
        {"pg_class", "pg_rewrite", "pg_description", "pg_partitioned_table", "pg_namespace"}
    ),
    "columns": frozenset(
        {"pg_attribute", "pg_attrdef", "pg_description", "pg_type", "pg_collation"}
    ),
    "constraints": frozenset({"pg_constraint"}),
    "indexes": frozenset({"pg_index", "pg_class"}),  # pg_class: the index's reloptions
    "triggers": frozenset({"pg_trigger"}),
    "schemas": frozenset({"pg_namespace", "pg_description"}),
    "functions": frozenset({"pg_proc", "pg_namespace", "pg_type", "pg_language", "pg_transform"}),
    "sequences": frozenset(
        {"pg_sequence", "pg_class", "pg_namespace", "pg_depend", "pg_attribute", "pg_type"}
    ),
    "types": frozenset(
        {"pg_type", "pg_enum", "pg_range", "pg_constraint", "pg_namespace", "pg_collation"}
    ),
    "extensions": frozenset({"pg_extension", "pg_namespace"}),
    "policies": frozenset({"pg_policy", "pg_namespace", "pg_authid"}),
}
"""The catalogs each section of a snapshot prints from, for a relation-scoped statement that is
not a rename: a rename changes the text of whatever names the renamed object (a foreign key's
referenced table, a trigger's function), and gets every section read again. The names of other
objects that a definition prints change only with a rename; a new or dropped object writes its
own catalog (a dropped table's policies go from pg_policy, its constraints from pg_constraint).
pg_depend tells extension members apart, but membership changes only with CREATE/ALTER/DROP
EXTENSION, statements that are not relation-scoped and get full snapshots."""

_SECTIONS = (
    "schemas",
    "relations",
    "columns",
    "constraints",
    "indexes",
    "triggers",
    "functions",
    "sequences",
    "types",
    "extensions",
    "policies",
)

_SECTION_OF = {
    **dict.fromkeys(("table", "partitioned table", "view", "materialized view"), "relations"),
    **dict.fromkeys(("foreign table", "composite type"), "relations"),
    "column": "columns",
    "constraint": "constraints",
    "index": "indexes",
    "trigger": "triggers",
    "schema": "schemas",
    "function": "functions",
    "sequence": "sequences",
    "enum": "types",
    "domain": "types",
    "range type": "types",
    "extension": "extensions",
    "policy": "policies",
}


def unchanged_sections(written: set[str]) -> frozenset[str]:
    """The sections none of whose catalogs are among `written` (see `READS`)."""
    return frozenset(name for name, reads in READS.items() if not reads & written)


_CATALOG_WRITES_SQL = """
SELECT current_setting('track_counts')::bool,
       coalesce(array_agg(s.relname::text ORDER BY s.relname), '{}'),
       coalesce(array_agg((s.n_tup_ins + s.n_tup_upd + s.n_tup_del)::int8 ORDER BY s.relname), '{}')
FROM pg_stat_xact_sys_tables s
WHERE s.schemaname = 'pg_catalog' AND s.n_tup_ins + s.n_tup_upd + s.n_tup_del > 0
"""


def catalog_writes(conn: Any) -> dict[str, int] | None:
    """System catalog -> rows this session inserted, updated or deleted in it, as counted so
    far in the open transaction (None when the server counts nothing: track_counts off).

    Every change to the catalog a snapshot prints is such a write (ALTER, CREATE, DROP, COMMENT,
    a table rewrite's new relfilenode...); the counts only grow within a transaction, rolled
    back subtransactions included. Two reads in one transaction that are equal mean that
    nothing in between changed the schema. Across transactions they mean nothing: the session
    flushes its counts when it goes idle outside a transaction."""
    return _writes(conn.execute(_CATALOG_WRITES_SQL, prepare=True).fetchone())


def _writes(row: tuple[Any, ...] | None) -> dict[str, int] | None:
    if row is None or not row[0]:
        return None
    return dict(zip(row[1], row[2], strict=True))


def written_between(before: dict[str, int] | None, after: dict[str, int] | None) -> set[str] | None:
    """The catalogs written between two `catalog_writes` of one transaction (None: unknown)."""
    if before is None or after is None:
        return None
    return {name for name, n in after.items() if before.get(name) != n}


_RELATION_FILTERS = (
    " AND c.oid = ANY(%s)",  # relations
    " AND c.oid = ANY(%s)",  # columns
    " AND c.oid = ANY(%s)",  # constraints
    " AND tc.oid = ANY(%s)",  # indexes
    " AND c.oid = ANY(%s)",  # triggers
)

SCOPE_SETTING = "pgpreflight.scope"
"""Inside a transaction, a scoped snapshot hands its relations to the queries in this setting,
local to the transaction, instead of as a parameter (see `_scope_by_setting`)."""

_SCOPE = f"current_setting('{SCOPE_SETTING}')::oid[]"
_SCOPE_FILTERS = tuple(f.replace("%s", _SCOPE) for f in _RELATION_FILTERS)

Owners = dict[tuple[str, str], int]
"""Snapshot key -> OID of the relation it belongs to (relations, columns, constraints, indexes,
triggers); keys missing from it are schema-wide objects (functions, types, sequences...)."""


def schema_snapshot(
    conn: Any,
    *,
    in_transaction: bool = False,
    relations: list[int] | None = None,
    owners: Owners | None = None,
    skip: frozenset[str] = frozenset(),
) -> Snapshot:
    """The normalised schema model of the connected database.

    `in_transaction=True` avoids deparsing views (see the module docstring); only snapshots
    compared with each other should use the same flag. With `relations` (OIDs), the objects
    that belong to a relation are read for those relations only (`scoped_snapshot`); `owners`
    is filled with the relation each object belongs to. The sections named in `skip` (`READS`)
    are not read: their objects are missing (`scoped_snapshot`, `rewritten_snapshot`)."""
    bound = {
        "relations": _relations_query(in_transaction),
        "columns": _COLUMNS_SQL,
        "constraints": _CONSTRAINTS_SQL,
        "indexes": _INDEXES_SQL,
        "triggers": _TRIGGERS_SQL,
    }
    params: tuple[Any, ...] | None = None
    setup: list[tuple[str, tuple[Any, ...] | None]] = []
    if relations is not None and _scope_by_setting(conn):
        bound = {n: q + f for (n, q), f in zip(bound.items(), _SCOPE_FILTERS, strict=True)}
        scope = "{" + ",".join(str(int(oid)) for oid in relations) + "}"
        setup = [("SELECT set_config(%s, %s, true)", (SCOPE_SETTING, scope))]
    elif relations is not None:
        # with parameters, the LIKE patterns' % must be doubled for psycopg
        bound = {
            n: q.replace("%", "%%") + f
            for (n, q), f in zip(bound.items(), _RELATION_FILTERS, strict=True)
        }
        params = (list(relations),)
    sections = {n: q for n, q in {**bound, **_WIDE_SQL}.items() if n not in skip}
    queries = [*setup, *((q, params if n in bound else None) for n, q in sections.items())]
    read = dict(zip(sections, _fetch_all(conn, queries)[len(setup) :], strict=True))
    rows = [read.get(n, []) for n in _SECTIONS]
    own: Owners = owners if owners is not None else {}
    snap: Snapshot = {}
    for nsp, comment in rows[0]:
        snap[("schema", nsp)] = {"comment": comment}
    for row in rows[1]:
        nsp, name, kind, persistence, rls, options, bound_, partkey, viewdef, comment, oid = row
        key = (RELKIND.get(kind, kind), qualify(nsp, name))
        own[key] = oid
        snap[key] = {
            "persistence": persistence,
            "row_security": rls,
            "options": options,
            "partition_bound": bound_,
            "partition_key": partkey,
            "definition": viewdef,
            "comment": comment,
        }
    for row in rows[2]:
        nsp, rel, col, typ, notnull, default, identity, generated, collation, comment, oid = row
        key = ("column", f"{qualify(nsp, rel)}.{ident(col)}")
        own[key] = oid
        snap[key] = {
            "type": typ,
            "not_null": notnull,
            "default": default,
            "identity": identity or None,
            "generated": generated or None,
            "collation": collation,
            "comment": comment,
        }
    for row in rows[3]:
        nsp, rel, name, contype, definition, validated, deferrable, deferred, oid = row
        key = ("constraint", f"{qualify(nsp, rel)}.{ident(name)}")
        own[key] = oid
        snap[key] = {
            "type": contype,
            "definition": definition,
            "validated": validated,
            "deferrable": deferrable,
            "deferred": deferred,
        }
    for row in rows[4]:
        nsp, name, table, definition, valid, ready, primary, unique, oid = row
        key = ("index", qualify(nsp, name))
        own[key] = oid
        snap[key] = {
            "table": qualify(nsp, table),
            "definition": definition,
            "valid": valid,
            "ready": ready,
            "primary": primary,
            "unique": unique,
        }
    for nsp, rel, name, definition, enabled, oid in rows[5]:
        own[("trigger", f"{qualify(nsp, rel)}.{ident(name)}")] = oid
        snap[("trigger", f"{qualify(nsp, rel)}.{ident(name)}")] = {
            "definition": definition,
            "enabled": enabled,
        }
    for nsp, name, args, prokind, definition in rows[6]:
        snap[("function", f"{qualify(nsp, name)}({args})")] = {
            "kind": prokind,
            "definition": definition,
        }
    for row in rows[7]:
        nsp, name, typ, start, inc, smin, smax, cache, cycle, owned = row
        snap[("sequence", qualify(nsp, name))] = {
            "type": typ,
            "start": start,
            "increment": inc,
            "min": smin,
            "max": smax,
            "cache": cache,
            "cycle": cycle,
            "owned_by": owned,
        }
    for nsp, name, typtype, definition in rows[8]:
        kind = {"e": "enum", "d": "domain", "r": "range type"}[typtype]
        snap[(kind, qualify(nsp, name))] = {"definition": definition}
    for name, version, nsp in rows[9]:
        snap[("extension", name)] = {"version": version, "schema": nsp}
    for nsp, table, name, permissive, roles, cmd, qual, check in rows[10]:
        snap[("policy", f"{qualify(nsp, table)}.{ident(name)}")] = {
            "permissive": permissive,
            "roles": roles,
            "command": cmd,
            "using": qual,
            "with_check": check,
        }
    return snap


_VIEWDEFS_SQL = f"""
SELECT n.nspname, c.relname, c.relkind, pg_get_viewdef(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND {_USER_NS}
  AND {_NOT_EXTENSION_MEMBER.format(catalog="pg_class", oid="c.oid")}
"""

_RELATION_KINDS = frozenset(RELKIND[k] for k in ("r", "p", "v", "m", "f", "c"))


def outside_transaction(conn: Any, schema: Snapshot) -> Snapshot:
    """The snapshot `schema_snapshot(conn)` reads, from an equal one taken inside a transaction
    (`in_transaction=True`, such as the one a traced section ended with): the two differ only
    in view definitions, which are read here (deparsed, as outside a transaction). Call it
    outside a transaction: deparsing a view locks the relations it reads."""
    views = (
        {
            (RELKIND[kind], qualify(nsp, name)): definition
            for nsp, name, kind, definition in conn.execute(_VIEWDEFS_SQL, prepare=True).fetchall()
        }
        if any(kind in ("view", "materialized view") for kind, _ in schema)
        else {}
    )
    out: Snapshot = {}
    for key, attrs in schema.items():
        if key[0] in _RELATION_KINDS:
            attrs = {**attrs, "definition": views.get(key)}
        out[key] = attrs
    return out


_DEPENDENT_RELATIONS = """
SELECT con.conrelid::int8 FROM pg_constraint con WHERE con.confrelid = ANY(%(oids)s)
UNION SELECT ad.adrelid::int8 FROM pg_depend d JOIN pg_attrdef ad ON ad.oid = d.objid
      WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
        AND d.refobjid = ANY(%(oids)s)
UNION SELECT r.ev_class::int8 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
      WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
        AND d.refobjid = ANY(%(oids)s)
UNION SELECT i.indrelid::int8 FROM pg_index i WHERE i.indexrelid = ANY(%(oids)s)
"""


def scoped_snapshot(
    conn: Any,
    before: Snapshot,
    before_owners: Owners,
    touched: set[int],
    *,
    in_transaction: bool = False,
    renamed: bool = False,
    written: set[str] | None = None,
) -> tuple[Snapshot, Owners]:
    """The snapshot after a statement that could change only the relations `touched` (OIDs:
    what it locked, created, dropped or rewrote): `before`, with every object of those
    relations and every schema-wide object read again. After a rename (`renamed`), so are the
    relations whose definitions name them (foreign keys referencing them, column defaults,
    views). Much cheaper than `schema_snapshot` on a large catalog, and equal to it for such a
    statement. `written` (`written_between`, not for a rename): the catalogs the statement
    wrote; the sections that read none of them are kept from `before` (`READS`)."""
    oids = set(touched)
    if oids and renamed:
        rows = conn.execute(_DEPENDENT_RELATIONS, {"oids": list(oids)}).fetchall()
        oids.update(int(r[0]) for r in rows)
    skip = unchanged_sections(written) if written is not None and not renamed else frozenset()
    owners: Owners = {}
    fresh = schema_snapshot(
        conn, in_transaction=in_transaction, relations=sorted(oids), owners=owners, skip=skip
    )
    snap: Snapshot = {}
    for key, attrs in before.items():
        owner = before_owners.get(key)
        if _SECTION_OF.get(key[0]) in skip or (owner is not None and owner not in oids):
            snap[key] = attrs
            if owner is not None:
                owners[key] = owner
    snap.update(fresh)
    return snap, owners


def rewritten_snapshot(
    conn: Any, before: Snapshot, before_owners: Owners, written: set[str]
) -> tuple[Snapshot, Owners]:
    """The snapshot after a statement that is not relation-scoped but changes no name another
    object prints (`trace._NAMES_KEPT`: CREATE FUNCTION, CREATE TYPE, ALTER SEQUENCE...):
    `before`, with the sections whose catalogs it wrote (`READS`, `written`) read again in full.
    A new object writes its own catalogs; only a rename (or an enum label renamed) changes the
    text of other objects without writing theirs."""
    skip = unchanged_sections(written)
    owners: Owners = {}
    fresh = schema_snapshot(conn, in_transaction=True, owners=owners, skip=skip)
    snap: Snapshot = {}
    for key, attrs in before.items():
        if _SECTION_OF.get(key[0]) in skip:
            snap[key] = attrs
            owner = before_owners.get(key)
            if owner is not None:
                owners[key] = owner
    snap.update(fresh)
    return snap, owners


def compare(expected: Snapshot, actual: Snapshot) -> list[tuple[str, str, str, Any, Any]]:
    """(kind, name, change, expected attrs, actual attrs) for every object that differs;
    change is "missing" (only in expected), "extra" (only in actual) or "changed"."""
    out: list[tuple[str, str, str, Any, Any]] = []
    for key in sorted(set(expected) | set(actual)):
        before, after = expected.get(key), actual.get(key)
        if before == after:
            continue
        if after is None:
            out.append((key[0], key[1], "missing", before, None))
        elif before is None:
            out.append((key[0], key[1], "extra", None, after))
        else:
            changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
            out.append(
                (
                    key[0],
                    key[1],
                    "changed",
                    {k: before.get(k) for k in sorted(changed)},
                    {k: after.get(k) for k in sorted(changed)},
                )
            )
    return out


def sequence_values(conn: Any) -> dict[str, int | None]:
    """last_value of every user sequence (None when never called). Reading it advances
    nothing, but opens each sequence: call it outside traced transactions."""
    rows = conn.execute(
        "SELECT schemaname, sequencename, last_value FROM pg_sequences "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
    ).fetchall()
    return {qualify(nsp, name): value for nsp, name, value in rows}
