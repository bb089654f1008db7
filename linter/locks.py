"""What a statement does to the tables it touches: which lock it takes, what that lock blocks, and
whether it holds it for an instant, a full scan, an index build or a rewrite of the table.

The lock modes and their conflicts are the table of the PostgreSQL manual ("Explicit Locking",
13.3.1); the level of each ALTER TABLE subcommand follows `AlterTableGetLockLevel` in
`src/backend/commands/tablecmds.c` and the ALTER TABLE reference page (PostgreSQL 12-17).
tests/test_locks.py runs each statement on a real server inside a transaction and compares the
locks it holds (`pg_locks`) with what this module predicts.

Rules and the database check use this module; it knows nothing of findings or migrations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType as CT
from pglast.enums import NullTestType
from pglast.enums import ObjectType as OT
from pglast.enums import ReindexObjectType as RT
from pgpreflight.linter.names import list_name, relation_name
from pgpreflight.linter.volatility import VOLATILE, volatility

if TYPE_CHECKING:
    from pgpreflight.linter.schema import SchemaModel


class Lock(IntEnum):
    """Table-level lock modes, weakest first (the order PostgreSQL numbers them)."""

    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def label(self) -> str:
        """`ACCESS EXCLUSIVE`, as SQL and the manual write it."""
        return self.name.replace("_", " ")

    @property
    def pg_name(self) -> str:
        """`AccessExclusiveLock`, as `pg_locks.mode` shows it."""
        return "".join(part.capitalize() for part in self.name.split("_")) + "Lock"

    @classmethod
    def from_pg_name(cls, name: str) -> Lock:
        for mode in cls:
            if mode.pg_name == name:
                return mode
        raise ValueError(name)


L = Lock
# mode -> the modes it conflicts with (symmetric); manual table 13.2
CONFLICTS: dict[Lock, frozenset[Lock]] = {
    L.ACCESS_SHARE: frozenset({L.ACCESS_EXCLUSIVE}),
    L.ROW_SHARE: frozenset({L.EXCLUSIVE, L.ACCESS_EXCLUSIVE}),
    L.ROW_EXCLUSIVE: frozenset({L.SHARE, L.SHARE_ROW_EXCLUSIVE, L.EXCLUSIVE, L.ACCESS_EXCLUSIVE}),
    L.SHARE_UPDATE_EXCLUSIVE: frozenset(
        {L.SHARE_UPDATE_EXCLUSIVE, L.SHARE, L.SHARE_ROW_EXCLUSIVE, L.EXCLUSIVE, L.ACCESS_EXCLUSIVE}
    ),
    L.SHARE: frozenset(
        {
            L.ROW_EXCLUSIVE,
            L.SHARE_UPDATE_EXCLUSIVE,
            L.SHARE_ROW_EXCLUSIVE,
            L.EXCLUSIVE,
            L.ACCESS_EXCLUSIVE,
        }
    ),
    L.SHARE_ROW_EXCLUSIVE: frozenset(
        {
            L.ROW_EXCLUSIVE,
            L.SHARE_UPDATE_EXCLUSIVE,
            L.SHARE,
            L.SHARE_ROW_EXCLUSIVE,
            L.EXCLUSIVE,
            L.ACCESS_EXCLUSIVE,
        }
    ),
    L.EXCLUSIVE: frozenset(
        {
            L.ROW_SHARE,
            L.ROW_EXCLUSIVE,
            L.SHARE_UPDATE_EXCLUSIVE,
            L.SHARE,
            L.SHARE_ROW_EXCLUSIVE,
            L.EXCLUSIVE,
            L.ACCESS_EXCLUSIVE,
        }
    ),
    L.ACCESS_EXCLUSIVE: frozenset(Lock),
}

# What ordinary traffic takes: SELECT -> ACCESS SHARE, SELECT FOR UPDATE -> ROW SHARE,
# INSERT/UPDATE/DELETE -> ROW EXCLUSIVE,
# VACUUM/ANALYZE/CREATE INDEX CONCURRENTLY -> SHARE UPDATE EXCLUSIVE.
READ = L.ACCESS_SHARE
WRITE = L.ROW_EXCLUSIVE
MAINTENANCE = L.SHARE_UPDATE_EXCLUSIVE


def conflicts(a: Lock, b: Lock) -> bool:
    return b in CONFLICTS[a]


def blocks_reads(mode: Lock) -> bool:
    return conflicts(mode, READ)


def blocks_writes(mode: Lock) -> bool:
    return conflicts(mode, WRITE)


def blocked(mode: Lock) -> str:
    """What a lock held in `mode` blocks, in the words messages use."""
    if blocks_reads(mode):
        return "reads and writes"
    if blocks_writes(mode):
        return "writes"
    if conflicts(mode, MAINTENANCE):
        return "other schema changes and VACUUM"
    return "only exclusive locks"


# How long the lock is held, beyond waiting for it.
BRIEF = "brief"  # catalog change only
SCAN = "scan"  # reads the whole table (validation)
BUILD = "index build"  # builds an index over the whole table
REWRITE = "rewrite"  # rewrites the table and all its indexes

_LONG = (SCAN, BUILD, REWRITE)


@dataclass(frozen=True)
class TableLock:
    """One relation a statement locks."""

    table: str  # qualified name (of the index's table for index operations when known)
    mode: Lock
    action: str  # what does it, for messages: "ADD COLUMN", "CREATE INDEX", "FOREIGN KEY"
    work: str = BRIEF
    node: Any = None  # the subcommand or constraint node, for positions
    referenced: bool = False  # the referenced side of a foreign key

    @property
    def long(self) -> bool:
        """Held while the whole table is read, indexed or rewritten."""
        return self.work in _LONG


# ALTER TABLE subcommand -> lock level (tablecmds.c AlterTableGetLockLevel);
# unlisted -> ACCESS EXCLUSIVE
_AT_LEVEL: dict[AT, Lock] = {
    AT.AT_EnableTrig: L.SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableAlwaysTrig: L.SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableReplicaTrig: L.SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableTrigAll: L.SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableTrigUser: L.SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrig: L.SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrigAll: L.SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrigUser: L.SHARE_ROW_EXCLUSIVE,
    AT.AT_SetStatistics: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ClusterOn: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_DropCluster: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_SetOptions: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ResetOptions: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ValidateConstraint: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_AttachPartition: L.SHARE_UPDATE_EXCLUSIVE,
    AT.AT_DetachPartitionFinalize: L.SHARE_UPDATE_EXCLUSIVE,
}
# Storage parameters that only need SHARE UPDATE EXCLUSIVE (reloptions.c lockmode per option).
_SUE_RELOPTIONS = re.compile(
    r"^(?:toast\.)?(?:fillfactor|autovacuum_\w+|toast_tuple_target|parallel_workers|"
    r"log_autovacuum_min_duration|vacuum_index_cleanup|vacuum_truncate|user_catalog_table)$"
)
_AT_NAMES = {
    AT.AT_AddColumn: "ADD COLUMN",
    AT.AT_DropColumn: "DROP COLUMN",
    AT.AT_AlterColumnType: "ALTER COLUMN TYPE",
    AT.AT_SetNotNull: "SET NOT NULL",
    AT.AT_DropNotNull: "DROP NOT NULL",
    AT.AT_ColumnDefault: "SET DEFAULT",
    AT.AT_AddConstraint: "ADD CONSTRAINT",
    AT.AT_DropConstraint: "DROP CONSTRAINT",
    AT.AT_ValidateConstraint: "VALIDATE CONSTRAINT",
    AT.AT_SetLogged: "SET LOGGED",
    AT.AT_SetUnLogged: "SET UNLOGGED",
    AT.AT_SetTableSpace: "SET TABLESPACE",
    AT.AT_SetAccessMethod: "SET ACCESS METHOD",
    AT.AT_AttachPartition: "ATTACH PARTITION",
    AT.AT_DetachPartition: "DETACH PARTITION",
    AT.AT_EnableTrig: "ENABLE TRIGGER",
    AT.AT_DisableTrig: "DISABLE TRIGGER",
    AT.AT_DisableTrigAll: "DISABLE TRIGGER ALL",
    AT.AT_DisableTrigUser: "DISABLE TRIGGER USER",
    AT.AT_EnableTrigAll: "ENABLE TRIGGER ALL",
    AT.AT_EnableTrigUser: "ENABLE TRIGGER USER",
    AT.AT_AddIdentity: "ADD IDENTITY",
    AT.AT_SetStatistics: "SET STATISTICS",
    AT.AT_SetRelOptions: "SET (storage parameter)",
    AT.AT_ChangeOwner: "OWNER TO",
    AT.AT_SetStorage: "SET STORAGE",
    AT.AT_ReplicaIdentity: "REPLICA IDENTITY",
    AT.AT_AddInherit: "INHERIT",
    AT.AT_DropInherit: "NO INHERIT",
    AT.AT_DropIdentity: "DROP IDENTITY",
    AT.AT_SetIdentity: "SET (identity option)",
    AT.AT_DropExpression: "DROP EXPRESSION",
    AT.AT_EnableRowSecurity: "ENABLE ROW LEVEL SECURITY",
    AT.AT_ClusterOn: "CLUSTER ON",
}


def subcommand_name(cmd: ast.AlterTableCmd) -> str:
    if cmd.subtype is None:
        return "ALTER TABLE"
    return _AT_NAMES.get(cmd.subtype) or cmd.subtype.name[3:].upper()


def alter_table_lock(cmd: ast.AlterTableCmd) -> Lock:
    """The lock one ALTER TABLE subcommand needs (the statement takes its strongest)."""
    if cmd.subtype == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        return (
            L.SHARE_ROW_EXCLUSIVE if cmd.def_.contype == CT.CONSTR_FOREIGN else L.ACCESS_EXCLUSIVE
        )
    if cmd.subtype == AT.AT_DetachPartition:
        return (
            L.SHARE_UPDATE_EXCLUSIVE
            if getattr(cmd.def_, "concurrent", False)
            else L.ACCESS_EXCLUSIVE
        )
    if cmd.subtype in (AT.AT_SetRelOptions, AT.AT_ResetRelOptions):
        defs = [d for d in cmd.def_ or () if isinstance(d, ast.DefElem)]
        names = [
            str(d.defname) if not d.defnamespace else f"{d.defnamespace}.{d.defname}" for d in defs
        ]
        if names and all(_SUE_RELOPTIONS.match(n) for n in names):
            return L.SHARE_UPDATE_EXCLUSIVE
        return L.ACCESS_EXCLUSIVE
    return (
        _AT_LEVEL.get(cmd.subtype, L.ACCESS_EXCLUSIVE)
        if cmd.subtype is not None
        else L.ACCESS_EXCLUSIVE
    )


# ---------------------------------------------------------------- column type changes

_VARCHAR = re.compile(r"^character varying(?:\((\d+)\))?$")
_NUMERIC = re.compile(r"^numeric(?:\((\d+)(?:,(\d+))?\))?$")
_TIMESTAMP = re.compile(r"^(timestamp|time|interval)(?:\((\d+)\))?( with(?:out)? time zone)?$")
_VARBIT = re.compile(r"^bit varying(?:\((\d+)\))?$")


def type_change_rewrites(
    old: str, new: str, *, utc: bool = False, pg_version: tuple[int, ...] = (15,)
) -> bool:
    """Whether ALTER COLUMN TYPE from `old` to `new` (`format_type` spelling) rewrites the table.

    PostgreSQL skips the rewrite when the new type is binary coercible and its length check cannot
    fail: varchar widening or to text, numeric precision increase at the same scale, timestamp or
    time precision increase, cidr -> inet, and from 12 timestamp <-> timestamptz when the session
    time zone is UTC. Everything else rewrites the table and rebuilds its indexes.
    """
    if old == new:
        return False
    if old in ("text", "character varying") and new in ("text", "character varying"):
        return False
    m_old, m_new = _VARCHAR.match(old), _VARCHAR.match(new)
    if m_old and (new == "text" or m_new):
        if new == "text" or m_new.group(1) is None:  # type: ignore[union-attr]
            return False
        return m_old.group(1) is None or int(m_new.group(1)) < int(m_old.group(1))  # type: ignore[union-attr]
    m_old, m_new = _VARBIT.match(old), _VARBIT.match(new)
    if m_old and m_new:
        if m_new.group(1) is None:
            return False
        return m_old.group(1) is None or int(m_new.group(1)) < int(m_old.group(1))
    m_old, m_new = _NUMERIC.match(old), _NUMERIC.match(new)
    if m_old and m_new:
        if m_new.group(1) is None:
            return False
        if m_old.group(1) is None:
            return True
        same_scale = int(m_old.group(2) or 0) == int(m_new.group(2) or 0)
        return not (same_scale and int(m_new.group(1)) >= int(m_old.group(1)))
    if old == "cidr" and new == "inet":
        return False
    m_old, m_new = _TIMESTAMP.match(old), _TIMESTAMP.match(new)
    if m_old and m_new and m_old.group(1) == m_new.group(1):
        precision_ok = m_new.group(2) is None or (
            m_old.group(2) is not None and int(m_new.group(2)) >= int(m_old.group(2))
        )
        if m_old.group(3) == m_new.group(3):
            return not precision_ok
        # timestamp <-> timestamptz: catalog-only from 12 when the session TimeZone is UTC
        return not (
            m_old.group(1) == "timestamp" and precision_ok and utc and tuple(pg_version) >= (12,)
        )
    return True


def column_type(schema: SchemaModel | None, table: str, column: str) -> str | None:
    if schema is None:
        return None
    t = schema.table(table)
    col = t.columns.get(column) if t is not None else None
    return col.type if col is not None else None


def has_using(cmd: ast.AlterTableCmd) -> bool:
    """ALTER COLUMN ... TYPE with a USING expression that computes something. `USING col` and
    `USING col::newtype` are the conversion PostgreSQL does without USING: whether the table is
    rewritten then depends on the two types alone (a binary-compatible change is catalog-only)."""
    from pgpreflight.linter.schema.names import format_type

    expr = getattr(cmd.def_, "raw_default", None)
    if expr is None:
        return False
    new = getattr(cmd.def_, "typeName", None)
    if isinstance(expr, ast.TypeCast) and expr.typeName is not None and new is not None:
        try:
            same = format_type(expr.typeName) == format_type(new)
        except Exception:  # an odd type name: assume it computes something
            same = False
        if not same:
            return True
        expr = expr.arg
    fields = expr.fields if isinstance(expr, ast.ColumnRef) else None
    return not (fields and getattr(fields[-1], "sval", None) == cmd.name)


def new_type_name(cmd: ast.AlterTableCmd, schema: SchemaModel | None = None) -> str | None:
    from pgpreflight.linter.schema.names import format_type

    type_name = getattr(cmd.def_, "typeName", None)
    if type_name is None:
        return None
    try:
        return format_type(type_name)
    except Exception:  # an odd type name just means "unknown"
        return None


# ---------------------------------------------------------------- ADD COLUMN


def add_column_rewrites(coldef: ast.ColumnDef, pg_version: tuple[int, ...] = (15,)) -> str | None:
    """Why ADD COLUMN rewrites the table, or None when it is a catalog-only change."""
    names = coldef.typeName.names if coldef.typeName is not None else None
    type_names = [str(getattr(n, "sval", "")).lower() for n in names or ()]
    if type_names and type_names[-1] in (
        "serial",
        "bigserial",
        "smallserial",
        "serial4",
        "serial8",
        "serial2",
    ):
        return f"{type_names[-1]} fills every row from a sequence"
    for con in coldef.constraints or ():
        if con.contype == CT.CONSTR_IDENTITY:
            return "an identity column fills every row from a sequence"
        if con.contype == CT.CONSTR_GENERATED:
            return "a stored generated column is computed for every row"
        if con.contype == CT.CONSTR_DEFAULT and con.raw_expr is not None:
            if volatility(con.raw_expr) == VOLATILE:
                return "the DEFAULT is volatile and is evaluated for every row"
            if tuple(pg_version) < (11,) and not _is_null(con.raw_expr):
                return "before PostgreSQL 11 any DEFAULT is written into every row"
    return None


def _is_null(expr: Any) -> bool:
    return isinstance(expr, ast.A_Const) and bool(expr.isnull)


# ---------------------------------------------------------------- statements


def _index_table(schema: SchemaModel | None, names: Any) -> str:
    """The table an index (given as a name list or a qualified name) belongs to, when known."""
    name = names if isinstance(names, str) else list_name(names)
    if schema is not None:
        index = schema.index(name)
        if index is not None:
            return index.table
    return name


def _is_not_null_check(expr: Any, column: str) -> bool:
    return bool(
        isinstance(expr, ast.NullTest)
        and expr.nulltesttype == NullTestType.IS_NOT_NULL
        and isinstance(expr.arg, ast.ColumnRef)
        and str(getattr((expr.arg.fields or ("",))[-1], "sval", "")) == column
    )


def has_not_null_check(schema: SchemaModel | None, table: str, column: str) -> bool:
    """A validated `CHECK (column IS NOT NULL)` exists, so SET NOT NULL can skip its scan (12+)."""
    if schema is None:
        return False
    t = schema.table(table)
    if t is None:
        return False
    for con in t.constraints.values():
        if con.kind == "check" and con.validated and con.expression is not None:
            text = re.sub(r"[()\s\"]", "", str(con.expression).lower())
            if text == f"{column.lower()}isnotnull":
                return True
    return False


def alter_table_locks(
    node: ast.AlterTableStmt,
    schema: SchemaModel | None = None,
    pg_version: tuple[int, ...] = (15,),
    *,
    utc: bool = False,
) -> list[TableLock]:
    table = relation_name(node.relation)
    out: list[TableLock] = []
    for cmd in node.cmds or ():
        if not isinstance(cmd, ast.AlterTableCmd):
            continue
        mode = alter_table_lock(cmd)
        name = subcommand_name(cmd)
        work = BRIEF
        sub = cmd.subtype
        if sub == AT.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            if add_column_rewrites(cmd.def_, pg_version):
                work = REWRITE
            elif any(
                c.contype in (CT.CONSTR_CHECK, CT.CONSTR_FOREIGN)
                for c in cmd.def_.constraints or ()
            ):
                work = SCAN
            elif any(
                c.contype in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE)
                for c in cmd.def_.constraints or ()
            ):
                work = BUILD
        elif sub == AT.AT_AlterColumnType:
            old = column_type(schema, table, str(cmd.name))
            new = new_type_name(cmd)
            using = has_using(cmd)
            if (
                using
                or old is None
                or new is None
                or type_change_rewrites(old, new, utc=utc, pg_version=pg_version)
            ):
                work = REWRITE
        elif sub == AT.AT_SetNotNull:
            if not (
                tuple(pg_version) >= (12,) and has_not_null_check(schema, table, str(cmd.name))
            ):
                work = SCAN
        elif sub == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            con = cmd.def_
            if con.contype in (CT.CONSTR_CHECK, CT.CONSTR_FOREIGN):
                work = BRIEF if con.skip_validation else SCAN
                name = "ADD FOREIGN KEY" if con.contype == CT.CONSTR_FOREIGN else "ADD CHECK"
            elif con.contype in (CT.CONSTR_PRIMARY, CT.CONSTR_UNIQUE):
                work = BRIEF if con.indexname else BUILD
                name = "ADD PRIMARY KEY" if con.contype == CT.CONSTR_PRIMARY else "ADD UNIQUE"
            elif con.contype == CT.CONSTR_EXCLUSION:
                work, name = BUILD, "ADD EXCLUDE"
            if con.contype == CT.CONSTR_FOREIGN and con.pktable is not None:
                ref = relation_name(con.pktable)
                out.append(TableLock(ref, L.SHARE_ROW_EXCLUSIVE, "FOREIGN KEY", work, con, True))
        elif sub == AT.AT_ValidateConstraint:
            work = SCAN
        elif sub in (
            AT.AT_SetLogged,
            AT.AT_SetUnLogged,
            AT.AT_SetTableSpace,
            AT.AT_SetAccessMethod,
        ):
            work = REWRITE
        elif sub == AT.AT_AttachPartition and isinstance(cmd.def_, ast.PartitionCmd):
            part = relation_name(cmd.def_.name)
            out.append(
                TableLock(part, L.ACCESS_EXCLUSIVE, "ATTACH PARTITION (partition)", SCAN, cmd)
            )
        elif sub == AT.AT_DetachPartition and isinstance(cmd.def_, ast.PartitionCmd):
            part = relation_name(cmd.def_.name)
            out.append(TableLock(part, mode, "DETACH PARTITION (partition)", BRIEF, cmd))
        out.append(TableLock(table, mode, name, work, cmd))
    return out


# RENAME of these (or of their columns and constraints) takes ACCESS EXCLUSIVE on the relation
_RENAMED_RELATIONS = (
    OT.OBJECT_TABLE,
    OT.OBJECT_VIEW,
    OT.OBJECT_MATVIEW,
    OT.OBJECT_FOREIGN_TABLE,
    OT.OBJECT_TABCONSTRAINT,
)


def statement_locks(
    node: Any,
    schema: SchemaModel | None = None,
    pg_version: tuple[int, ...] = (15,),
    *,
    utc: bool = False,
) -> list[TableLock]:
    """Every table lock `node` takes, in the order PostgreSQL takes them (as far as it matters)."""
    if isinstance(node, ast.AlterTableStmt) and node.objtype in (
        OT.OBJECT_TABLE,
        OT.OBJECT_MATVIEW,
    ):
        return alter_table_locks(node, schema, pg_version, utc=utc)
    if isinstance(node, ast.IndexStmt):
        mode = L.SHARE_UPDATE_EXCLUSIVE if node.concurrent else L.SHARE
        action = "CREATE INDEX CONCURRENTLY" if node.concurrent else "CREATE INDEX"
        return [TableLock(relation_name(node.relation), mode, action, BUILD, node)]
    if isinstance(node, ast.DropStmt) and node.removeType == OT.OBJECT_INDEX:
        mode = L.SHARE_UPDATE_EXCLUSIVE if node.concurrent else L.ACCESS_EXCLUSIVE
        action = "DROP INDEX CONCURRENTLY" if node.concurrent else "DROP INDEX"
        return [
            TableLock(_index_table(schema, names), mode, action, BRIEF, node)
            for names in node.objects or ()
        ]
    if isinstance(node, ast.DropStmt) and node.removeType in (OT.OBJECT_TABLE, OT.OBJECT_MATVIEW):
        return [
            TableLock(list_name(names), L.ACCESS_EXCLUSIVE, "DROP TABLE", BRIEF, node)
            for names in node.objects or ()
        ]
    if isinstance(node, ast.ReindexStmt) and node.relation is not None:
        concurrent = any(getattr(p, "defname", "") == "concurrently" for p in node.params or ())
        if node.kind == RT.REINDEX_OBJECT_INDEX:
            table = _index_table(schema, relation_name(node.relation))
        else:
            table = relation_name(node.relation)
        mode = L.SHARE_UPDATE_EXCLUSIVE if concurrent else L.SHARE
        return [
            TableLock(table, mode, "REINDEX CONCURRENTLY" if concurrent else "REINDEX", BUILD, node)
        ]
    if isinstance(node, ast.VacuumStmt):
        full = any(getattr(o, "defname", "") == "full" for o in node.options or ())
        mode = L.ACCESS_EXCLUSIVE if full else L.SHARE_UPDATE_EXCLUSIVE
        action = "VACUUM FULL" if full else ("VACUUM" if node.is_vacuumcmd else "ANALYZE")
        return [
            TableLock(relation_name(r.relation), mode, action, REWRITE if full else SCAN, node)
            for r in node.rels or ()
            if r.relation is not None
        ]
    if isinstance(node, ast.ClusterStmt) and node.relation is not None:
        return [
            TableLock(relation_name(node.relation), L.ACCESS_EXCLUSIVE, "CLUSTER", REWRITE, node)
        ]
    if isinstance(node, ast.RefreshMatViewStmt):
        mode = L.EXCLUSIVE if node.concurrent else L.ACCESS_EXCLUSIVE
        action = "REFRESH MATERIALIZED VIEW" + (" CONCURRENTLY" if node.concurrent else "")
        return [TableLock(relation_name(node.relation), mode, action, REWRITE, node)]
    if isinstance(node, ast.CreateTrigStmt):
        return [
            TableLock(
                relation_name(node.relation), L.SHARE_ROW_EXCLUSIVE, "CREATE TRIGGER", BRIEF, node
            )
        ]
    if isinstance(node, ast.CreateStmt):
        out = []
        for con in _create_constraints(node):
            if con.contype == CT.CONSTR_FOREIGN and con.pktable is not None:
                out.append(
                    TableLock(
                        relation_name(con.pktable),
                        L.SHARE_ROW_EXCLUSIVE,
                        "FOREIGN KEY",
                        BRIEF,
                        con,
                        True,
                    )
                )
        if node.partbound is not None:
            for parent in node.inhRelations or ():
                out.append(
                    TableLock(
                        relation_name(parent),
                        L.ACCESS_EXCLUSIVE,
                        "CREATE TABLE PARTITION OF",
                        BRIEF,
                        node,
                    )
                )
        return out
    if isinstance(node, ast.TruncateStmt):
        return [
            TableLock(relation_name(r), L.ACCESS_EXCLUSIVE, "TRUNCATE", BRIEF, node)
            for r in node.relations or ()
        ]
    if isinstance(node, ast.RenameStmt) and node.relation is not None:
        if node.renameType == OT.OBJECT_INDEX:  # locks the index only, not its table (12+)
            return [
                TableLock(
                    relation_name(node.relation),
                    L.SHARE_UPDATE_EXCLUSIVE,
                    "ALTER INDEX RENAME",
                    BRIEF,
                    node,
                )
            ]
        if node.renameType in _RENAMED_RELATIONS or node.relationType in _RENAMED_RELATIONS:
            return [
                TableLock(relation_name(node.relation), L.ACCESS_EXCLUSIVE, "RENAME", BRIEF, node)
            ]
        return []  # sequences, triggers, policies: not a lock on table traffic
    if isinstance(node, ast.LockStmt):
        return [
            TableLock(
                relation_name(r), Lock(node.mode or L.ACCESS_EXCLUSIVE), "LOCK TABLE", BRIEF, node
            )
            for r in node.relations or ()
        ]
    if isinstance(node, ast.AlterDomainStmt):
        return domain_locks(node, schema, pg_version)
    if (
        isinstance(node, (ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt))
        and node.relation is not None
    ):
        action = type(node).__name__[:-4].upper()
        return [TableLock(relation_name(node.relation), L.ROW_EXCLUSIVE, action, SCAN, node)]
    return []


def domain_tables(schema: SchemaModel | None, domain: str) -> list[str]:
    """Tables with a column of the domain `domain` (qualified), as far as the model knows."""
    if schema is None:
        return []
    names = {domain, domain.split(".", 1)[1]} if domain.startswith("public.") else {domain}
    return sorted(
        t.qualified_name
        for t in schema.tables.values()
        if any(c.type.removesuffix("[]") in names for c in t.columns.values())
    )


def domain_locks(
    node: ast.AlterDomainStmt,
    schema: SchemaModel | None = None,
    pg_version: tuple[int, ...] = (15,),
) -> list[TableLock]:
    """ALTER DOMAIN ADD CONSTRAINT (validated), SET NOT NULL and VALIDATE CONSTRAINT check every
    column of the domain under SHARE on its table (VALIDATE: up to PostgreSQL 18; commit 16a0039d
    lowers it to SHARE UPDATE EXCLUSIVE for 19)."""
    sub = node.subtype
    if sub == "C" and isinstance(node.def_, ast.Constraint) and not node.def_.skip_validation:
        action = "ALTER DOMAIN ADD CONSTRAINT"
    elif sub == "O":
        action = "ALTER DOMAIN SET NOT NULL"
    elif sub == "V" and tuple(pg_version) < (19,):
        action = "ALTER DOMAIN VALIDATE CONSTRAINT"
    else:
        return []
    domain = list_name(node.typeName)
    return [TableLock(t, L.SHARE, action, SCAN, node) for t in domain_tables(schema, domain)]


def _create_constraints(node: ast.CreateStmt) -> list[ast.Constraint]:
    out: list[ast.Constraint] = []
    for elt in node.tableElts or ():
        if isinstance(elt, ast.Constraint):
            out.append(elt)
        elif isinstance(elt, ast.ColumnDef):
            out.extend(c for c in elt.constraints or () if isinstance(c, ast.Constraint))
    return out


def statement_action(node: Any, locks: list[TableLock]) -> str:
    """What the statement does, for messages: `CREATE TABLE sessions`, `ADD COLUMN`."""
    if isinstance(node, ast.CreateStmt):
        from pgpreflight.linter.names import short

        return f"CREATE TABLE {short(relation_name(node.relation))}"
    own = [lk for lk in locks if not lk.referenced]
    return (own or locks)[0].action if locks else type(node).__name__.removesuffix("Stmt")


def describe(locks: list[TableLock]) -> str:
    """`SHARE ROW EXCLUSIVE on orders and users, blocking writes to both`: what messages say."""
    from pgpreflight.linter.names import short

    if not locks:
        return ""
    mode = max(lk.mode for lk in locks)
    tables = sorted({short(lk.table) for lk in locks if lk.mode == mode})
    names = (
        " and ".join(f"'{t}'" for t in tables)
        if len(tables) <= 2
        else ", ".join(f"'{t}'" for t in tables)
    )
    what = blocked(mode)
    tail = " to both" if len(tables) == 2 and what != "only exclusive locks" else ""
    return f"{mode.label} on {names}, blocking {what}{tail}"


def strongest(locks: list[TableLock], table: str) -> TableLock | None:
    """The strongest lock the statement takes on `table` (the one that matters for traffic)."""
    mine = [lk for lk in locks if lk.table == table]
    return max(mine, key=lambda lk: (lk.mode, lk.long), default=None)
