"""The lock level and rewrite the PostgreSQL manual documents for common migration statements.

The trace compares what it observed with these expectations, statement by statement: a
contradiction is a bug in a rule, in this table or in the trace, and the output says so.

Sources (PostgreSQL 15 manual): "ALTER TABLE" (lock level per subcommand, "Notes" on table
rewrites: adding a column with a volatile DEFAULT or changing a column's type rewrites the table
unless the types are binary coercible; SET NOT NULL and adding CHECK/FOREIGN KEY constraints
scan the table), "CREATE INDEX" (SHARE; CONCURRENTLY takes SHARE UPDATE EXCLUSIVE), "DROP
INDEX", "CREATE TRIGGER" (SHARE ROW EXCLUSIVE), "TRUNCATE", "Explicit Locking".
"""

from __future__ import annotations

from dataclasses import dataclass

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType, ObjectType

from linter.check.locks import strength
from linter.names import relation_name, short

ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
SHARE = "SHARE"

_SUBCOMMAND_LOCK: dict[AT, str] = {
    AT.AT_SetStatistics: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_SetOptions: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ResetOptions: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ValidateConstraint: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_ClusterOn: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_DropCluster: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_AttachPartition: SHARE_UPDATE_EXCLUSIVE,
    AT.AT_EnableTrig: SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableAlwaysTrig: SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableReplicaTrig: SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrig: SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableTrigAll: SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrigAll: SHARE_ROW_EXCLUSIVE,
    AT.AT_EnableTrigUser: SHARE_ROW_EXCLUSIVE,
    AT.AT_DisableTrigUser: SHARE_ROW_EXCLUSIVE,
}
# Storage parameters the manual lists as needing only SHARE UPDATE EXCLUSIVE.
_LIGHT_RELOPTIONS = (
    "fillfactor",
    "autovacuum_",
    "toast.autovacuum_",
    "parallel_workers",
    "toast_tuple_target",
    "vacuum_",
    "toast.vacuum_",
    "log_autovacuum",
)
_VOLATILE_FUNCTIONS = {
    "random",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "nextval",
    "txid_current",
    "random_normal",
}
_STABLE_OR_IMMUTABLE_FUNCTIONS = {
    "now",
    "transaction_timestamp",
    "statement_timestamp",
    "current_date",
    "lower",
    "upper",
    "btrim",
    "coalesce",
    "to_jsonb",
    "jsonb_build_object",
    "array",
    "make_interval",
}
_BINARY_COERCIBLE_TARGETS = {"text", "varchar", "bpchar", "numeric", "citext"}


@dataclass(frozen=True)
class Expectation:
    table: str | None  # the pre-existing table it works on; None: the index's table
    lock: str | None  # documented strongest lock on it
    rewrite: bool | None  # None: depends on the data types, the manual cannot say statically
    note: str | None = None


def _default_volatility(expr: object) -> bool | None:
    """True: volatile (PostgreSQL rewrites the table to store a value per row), False: a
    constant or stable expression evaluated once, None: unknown function."""
    if expr is None or isinstance(expr, (ast.A_Const, ast.SQLValueFunction)):
        return False
    if isinstance(expr, ast.TypeCast):
        return _default_volatility(expr.arg)
    if isinstance(expr, ast.FuncCall) and expr.funcname:
        name = expr.funcname[-1].sval
        if name in _VOLATILE_FUNCTIONS:
            return True
        if name in _STABLE_OR_IMMUTABLE_FUNCTIONS:
            args = [_default_volatility(a) for a in expr.args or ()]
            return True if True in args else (None if None in args else False)
        return None
    return None


def _add_column(cmd: ast.AlterTableCmd) -> tuple[bool | None, str | None]:
    col = cmd.def_
    if not isinstance(col, ast.ColumnDef):
        return None, None
    type_name = col.typeName.names[-1].sval if col.typeName and col.typeName.names else ""
    if type_name in ("serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"):
        return True, "a serial column gets nextval() per row: the table is rewritten"
    for con in col.constraints or ():
        if con.contype == ConstrType.CONSTR_GENERATED:
            return True, "a stored generated column is computed for every row"
        if con.contype == ConstrType.CONSTR_IDENTITY:
            return True, "an identity column gets a value per row"
        if con.contype == ConstrType.CONSTR_DEFAULT:
            volatile = _default_volatility(con.raw_expr)
            if volatile:
                return True, "volatile DEFAULT: every row gets its own value"
            if volatile is None:
                return None, "DEFAULT calls a function whose volatility is not known statically"
            return (
                False,
                "non-volatile DEFAULT: evaluated once, stored in the catalog (PostgreSQL 11+)",
            )
    return False, None


def _alter_column_type(cmd: ast.AlterTableCmd) -> tuple[bool | None, str | None]:
    col = cmd.def_
    names = col.typeName.names if isinstance(col, ast.ColumnDef) and col.typeName else ()
    target = names[-1].sval if names else ""
    if target in _BINARY_COERCIBLE_TARGETS:
        return None, f"no rewrite if the old type is binary coercible to {target}"
    return True, "changing a column's type rewrites the table unless the types are binary coercible"


def _cmd_expectation(cmd: ast.AlterTableCmd) -> tuple[str | None, bool | None, str | None]:
    sub = cmd.subtype
    if sub == AT.AT_AddColumn:
        rewrite, note = _add_column(cmd)
        return ACCESS_EXCLUSIVE, rewrite, note
    if sub == AT.AT_AlterColumnType:
        rewrite, note = _alter_column_type(cmd)
        return ACCESS_EXCLUSIVE, rewrite, note
    if sub == AT.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        if cmd.def_.contype == ConstrType.CONSTR_FOREIGN:
            return SHARE_ROW_EXCLUSIVE, False, "on both the table and the referenced table"
        return ACCESS_EXCLUSIVE, False, None
    if sub in (AT.AT_SetRelOptions, AT.AT_ResetRelOptions):
        names = [d.defname for d in cmd.def_ or () if isinstance(d, ast.DefElem)]
        light = bool(names) and all((n or "").startswith(_LIGHT_RELOPTIONS) for n in names)
        return (SHARE_UPDATE_EXCLUSIVE if light else ACCESS_EXCLUSIVE), False, None
    if sub in (AT.AT_SetTableSpace, AT.AT_SetLogged, AT.AT_SetUnLogged, AT.AT_SetAccessMethod):
        return ACCESS_EXCLUSIVE, True, None
    if sub == AT.AT_DetachPartition:
        return None, False, None  # CONCURRENTLY changes the level; not predicted
    return (_SUBCOMMAND_LOCK.get(sub, ACCESS_EXCLUSIVE) if sub is not None else None), False, None


def expectation(node: ast.Node) -> Expectation | None:
    """The documented strongest lock on the statement's pre-existing table, or None when the
    statement is not one this table describes."""
    if isinstance(node, ast.AlterTableStmt) and node.objtype in (ObjectType.OBJECT_TABLE,):
        table = short(relation_name(node.relation))
        modes: list[str] = []
        rewrites: list[bool | None] = []
        notes: list[str] = []
        for cmd in node.cmds or ():
            if not isinstance(cmd, ast.AlterTableCmd):
                continue
            mode, rewrite, note = _cmd_expectation(cmd)
            if mode is None:
                return None
            modes.append(mode)
            rewrites.append(rewrite)
            if note:
                notes.append(note)
        if not modes:
            return None
        rewrite_all = True if True in rewrites else (None if None in rewrites else False)
        return Expectation(table, max(modes, key=strength), rewrite_all, "; ".join(notes) or None)
    if isinstance(node, ast.IndexStmt):
        table = short(relation_name(node.relation))
        if node.concurrent:
            return Expectation(
                table, SHARE_UPDATE_EXCLUSIVE, False, "built without blocking writes"
            )
        return Expectation(table, SHARE, False, "blocks writes while the index builds")
    if isinstance(node, ast.RenameStmt) and node.relation is not None:
        table = short(relation_name(node.relation))
        if node.renameType == ObjectType.OBJECT_INDEX:
            return Expectation(table, SHARE_UPDATE_EXCLUSIVE, False, "ALTER INDEX RENAME (12+)")
        if node.renameType in (
            ObjectType.OBJECT_TABLE,
            ObjectType.OBJECT_COLUMN,
            ObjectType.OBJECT_TABCONSTRAINT,
        ):
            return Expectation(table, ACCESS_EXCLUSIVE, False, None)
        return None
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
        names = [".".join(p.sval for p in obj) for obj in node.objects or ()]
        if len(names) == 1:
            return Expectation(
                short(names[0] if "." in names[0] else f"public.{names[0]}"),
                ACCESS_EXCLUSIVE,
                False,
                None,
            )
        return None
    if isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_INDEX:
        if len(node.objects or ()) != 1:
            return None
        if node.concurrent:
            return Expectation(None, SHARE_UPDATE_EXCLUSIVE, False, "DROP INDEX CONCURRENTLY")
        return Expectation(None, ACCESS_EXCLUSIVE, False, "DROP INDEX locks the index's table")
    if isinstance(node, ast.CreateTrigStmt):
        return Expectation(short(relation_name(node.relation)), SHARE_ROW_EXCLUSIVE, False, None)
    if isinstance(node, ast.TruncateStmt) and node.relations and len(node.relations) == 1:
        return Expectation(
            short(relation_name(node.relations[0])),
            ACCESS_EXCLUSIVE,
            True,
            "TRUNCATE gives the table a new, empty file",
        )
    return None


RULE_CLAIMS: dict[str, tuple[str | None, bool | None]] = {
    "require-concurrent-index": (SHARE, None),
    "require-concurrent-index-deletion": (ACCESS_EXCLUSIVE, None),
    "adding-field-with-default": (ACCESS_EXCLUSIVE, True),
    "volatile-default": (ACCESS_EXCLUSIVE, True),
    "changing-column-type": (ACCESS_EXCLUSIVE, True),
    "constraint-missing-not-valid": (SHARE_ROW_EXCLUSIVE, None),
    "adding-foreign-key-constraint": (SHARE_ROW_EXCLUSIVE, None),
    "setting-not-null": (ACCESS_EXCLUSIVE, None),
    "adding-not-null-without-default": (ACCESS_EXCLUSIVE, None),
    "rename-table": (ACCESS_EXCLUSIVE, None),
    "rename-column": (ACCESS_EXCLUSIVE, None),
    "drop-table": (ACCESS_EXCLUSIVE, None),
    "drop-column": (ACCESS_EXCLUSIVE, None),
    "truncate-table": (ACCESS_EXCLUSIVE, True),
    "disallowed-unique-constraint": (ACCESS_EXCLUSIVE, None),
}
"""What a static rule's finding claims about the statement it flags: at least this lock on a
pre-existing table, and a rewrite (True) or none (False). A rule module can state its own claim
with module constants `LOCK = "SHARE"` and `REWRITE = True`; those win over this table."""


def rule_claims(
    rules: dict[str, object] | None = None,
) -> dict[str, tuple[str | None, bool | None]]:
    """RULE_CLAIMS overlaid with the LOCK/REWRITE constants of the registered rule modules."""
    claims = dict(RULE_CLAIMS)
    for rule_id, rule in (rules or {}).items():
        module = getattr(rule, "module", None)
        lock, rewrite = getattr(module, "LOCK", None), getattr(module, "REWRITE", None)
        if lock is not None or rewrite is not None:
            claims[rule_id] = (lock, rewrite)
    return claims
