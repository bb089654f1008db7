"""Where an object a statement drops or renames comes from: there before the migration, or made
by it.

Destructive-change rules need this: `DROP TABLE tmp` after `CREATE TABLE tmp` in the same UP
loses nothing, and a DOWN that drops what its own UP created is the revert, not a data loss (DOWN
sections are judged by the reversibility rules). An object the model does not know at all is
assumed to exist: the history may be partial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.migration import Section, Statement
from pgpreflight.linter.names import relation_name
from pgpreflight.linter.schema.model import OBJECT_PRESERVING_GAPS

if TYPE_CHECKING:
    from pgpreflight.linter.context import Context
    from pgpreflight.linter.schema import SchemaModel

Exists = Callable[["SchemaModel"], bool]


def model_before(ctx: Context, stmt: Statement) -> SchemaModel | None:
    """The schema model just before `stmt` runs. Statements inside DO blocks are replayed too
    (a table a DO block creates exists for the statements after it), as if every branch ran.
    Do not mutate the result: it is shared (copy it first)."""
    migration = ctx.migration
    if migration is None or ctx.schema_before is None:
        return None
    top = stmt.parent or stmt
    if top.section == "down":
        after = _split_bounds(ctx, stmt)[1] or ctx.schema_after
        if after is None or migration.down is None:
            return None
        base, section = after, migration.down
    else:
        base, section = ctx.schema_before, migration.up
    return section_replay(ctx, base, section).before.get(id(stmt))


@dataclass
class SectionReplay:
    """A section replayed statement by statement on a copy of `base`, DO blocks' statements
    included: the model before each statement, and after the last."""

    base: SchemaModel
    before: dict[int, SchemaModel]
    """id(statement) -> the model just before it."""
    after: SchemaModel

    @staticmethod
    def key_of(base: SchemaModel, section: Section) -> tuple[int, int]:
        """Where the run keeps the replay of `section` on `base` (`Analysis.statement_models`)."""
        return (id(base), id(section))


def section_replay(ctx: Context, base: SchemaModel, section: Section) -> SectionReplay:
    """`section` replayed on `base` once per run (the run's Analysis keeps it): provenance asks
    for the model before many statements of one section, and down-does-not-revert for the model
    after a DOWN. Do not mutate the models: they are shared (copy them first)."""
    known = ctx.statement_models
    key = SectionReplay.key_of(base, section)
    cached = known.get(key)
    if cached is None or cached.base is not base:
        model = base.copy()
        before: dict[int, SchemaModel] = {}
        for earlier in section.all_statements():
            before[id(earlier)] = model.copy()
            model.apply(earlier.node, location=earlier)
        cached = known[key] = SectionReplay(base, before, model)
    return cached


def surely_absent(ctx: Context, stmt: Statement, table: str, kind: str, name: str) -> bool:
    """The table exists just before `stmt` and has no `kind` ("constraint" or "index") `name`,
    and the model missed nothing that could have made one: `DROP ... IF EXISTS` of it does
    nothing (authelia's consistency fixes drop every name an old version may have left; a
    unique index made by CREATE UNIQUE INDEX is no constraint, DROP CONSTRAINT skips it)."""
    model = model_before(ctx, stmt)
    found = model.table(table) if model is not None else None
    if model is None or found is None:
        return False
    if any(not u.reason.startswith(OBJECT_PRESERVING_GAPS) for u in model.unmodelled):
        return False
    return name not in (found.constraints if kind == "constraint" else found.indexes)


def _split_bounds(ctx: Context, stmt: Statement) -> tuple[SchemaModel | None, SchemaModel | None]:
    """For a DOWN statement of a migration split into one file per statement (`split_group`),
    the models before and after the UP of the whole group, which its DOWN files revert together;
    (None, None) otherwise."""
    if ctx.migration is None or (stmt.parent or stmt).section != "down":
        return None, None
    group = ctx.analysis.split_group(ctx.migration)
    if not group:
        return None, None
    return ctx.schema_before_migration(group[0]), ctx.schema_after_migration(group[-1])


def _renamed_to(ctx: Context, name: str) -> bool:
    """Some statement of this migration's UP renames an object to `name` (its last part)."""
    from pglast import ast

    if ctx.migration is None:
        return False
    last = name.rsplit(".", 1)[-1]
    return any(node.newname == last for _, node in ctx.migration.up.of(ast.RenameStmt))


def made_by_migration(
    ctx: Context, stmt: Statement, exists: Exists, *, name: str | None = None
) -> bool:
    """True when the object did not exist before this migration's UP and exists just before
    `stmt`: created earlier in this UP, or (for a DOWN statement) by the UP it reverts.

    With `name`, an object that got that name from a RENAME in the UP is not new: it still
    holds the old object's data (rules about lost data pass it; rules about renames do not,
    since a DOWN renaming it back is the revert).
    """
    before = _split_bounds(ctx, stmt)[0] or ctx.schema_before
    if before is None or exists(before):
        return False
    model = model_before(ctx, stmt)
    if model is None or not exists(model):
        return False
    return name is None or not _renamed_to(ctx, name)


def _creates(node: Any, kind: str, name: str, table: str | None) -> bool:
    """`node` creates the object `name` of `kind` (on `table`: columns, constraints, triggers)."""
    from pglast import ast
    from pglast.enums import AlterTableType

    last = name.rsplit(".", 1)[-1]
    if isinstance(node, ast.CreateStmt):
        created = relation_name(node.relation)
        if kind == "table":
            return created == name
        if kind in ("column", "constraint") and created == table:
            return True
    if isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
        created = relation_name(node.into.rel)
        return (kind in ("table", "view") and created == name) or (
            kind in ("column", "constraint") and created == table
        )
    if (
        isinstance(node, ast.AlterTableStmt)
        and node.relation is not None
        and relation_name(node.relation) == table
    ):
        for cmd in node.cmds or ():
            if not isinstance(cmd, ast.AlterTableCmd):
                continue
            added = (kind == "column" and cmd.subtype == AlterTableType.AT_AddColumn) and (
                getattr(cmd.def_, "colname", None) == last
            )
            constrained = (
                kind == "constraint" and cmd.subtype == AlterTableType.AT_AddConstraint
            ) and (getattr(cmd.def_, "conname", None) == last)
            if added or constrained:
                return True
    if kind == "view" and isinstance(node, ast.ViewStmt):
        return relation_name(node.view) == name
    if kind == "function" and isinstance(node, ast.CreateFunctionStmt):
        return [getattr(p, "sval", "") for p in node.funcname or ()][-1:] == [last]
    if kind == "trigger" and isinstance(node, ast.CreateTrigStmt):
        return node.trigname == last and relation_name(node.relation) == table
    if kind == "type" and isinstance(node, (ast.CreateEnumStmt, ast.CreateDomainStmt)):
        names = node.typeName if isinstance(node, ast.CreateEnumStmt) else node.domainname
        return [getattr(p, "sval", "") for p in names or ()][-1:] == [last]
    if kind == "type" and isinstance(node, ast.CompositeTypeStmt):
        return getattr(node.typevar, "relname", None) == last
    if kind == "sequence" and isinstance(node, ast.CreateSeqStmt):
        return relation_name(node.sequence) == name
    if kind == "schema" and isinstance(node, ast.CreateSchemaStmt):
        return node.schemaname == name
    if kind == "index" and isinstance(node, ast.IndexStmt):
        return node.idxname == last
    if kind == "extension" and isinstance(node, ast.CreateExtensionStmt):
        return node.extname == name
    return False


def reverts_up(
    ctx: Context, stmt: Statement, kind: str, name: str, table: str | None = None
) -> bool:
    """A DOWN statement dropping an object its own UP created (even under a name that existed
    before, e.g. UP renamed the old column away and added a new one): the revert, not a loss.
    For a migration split into one file per statement, the UP of any file of its group."""
    migration = ctx.migration
    if migration is None or (stmt.parent or stmt).section != "down":
        return False
    ups = [m.up for m in ctx.analysis.split_group(migration) or [migration]]
    return any(_creates(s.node, kind, name, table) for up in ups for s in up.all_statements())


def recreated_later(
    ctx: Context, stmt: Statement, kind: str, name: str, table: str | None = None
) -> bool:
    """A later statement of the same section creates the object again (DROP VIEW v; CREATE VIEW v):
    for objects without data, nothing is lost, the definition is replaced."""
    migration = ctx.migration
    if migration is None:
        return False
    top = stmt.parent or stmt
    section = migration.down if top.section == "down" else migration.up
    if section is None:
        return False
    seen = False
    for other in section.all_statements():
        if other is stmt:
            seen = True
            continue
        if seen and _creates(other.node, kind, name, table):
            return True
    return False


def replaced_by_rename(ctx: Context, stmt: Statement, table: str, column: str) -> bool:
    """A later statement of the same section renames another column of `table` to `column`: the
    copy-and-swap pattern (add `x_new`, copy the data, drop `x`, rename `x_new` to `x`) used to
    change a type or the column order; the data lives on under the old name."""
    from pglast import ast
    from pglast.enums import ObjectType

    migration = ctx.migration
    if migration is None:
        return False
    top = stmt.parent or stmt
    section = migration.down if top.section == "down" else migration.up
    seen = False
    for other in section.all_statements() if section is not None else ():
        if other is stmt:
            seen = True
            continue
        node = other.node
        if (
            seen
            and isinstance(node, ast.RenameStmt)
            and node.renameType == ObjectType.OBJECT_COLUMN
            and node.relation is not None
            and relation_name(node.relation) == table
            and node.newname == column
        ):
            return True
    return False


def table_exists(name: str) -> Exists:
    return lambda m: m.table(name) is not None


def column_exists(table: str, column: str) -> Exists:
    def test(m: SchemaModel) -> bool:
        t = m.table(table)
        return t is not None and column in t.columns

    return test


def constraint_exists(table: str, name: str) -> Exists:
    def test(m: SchemaModel) -> bool:
        t = m.table(table)
        return t is not None and name in t.constraints

    return test


def schema_exists(name: str) -> Exists:
    return lambda m: name in m.schemas
