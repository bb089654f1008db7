"""Where an object a statement drops or renames comes from: there before the migration, or made
by it.

Destructive-change rules need this: `DROP TABLE tmp` after `CREATE TABLE tmp` in the same UP
loses nothing, and a DOWN that drops what its own UP created is the revert, not a data loss (DOWN
sections are judged by the reversibility rules). An object the model does not know at all is
assumed to exist: the history may be partial.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from linter.migration import Statement

if TYPE_CHECKING:
    from linter.context import Context
    from linter.schema import SchemaModel

Exists = Callable[["SchemaModel"], bool]


def model_before(ctx: Context, stmt: Statement) -> SchemaModel | None:
    """The schema model just before `stmt` runs (its DO block's position for nested ones)."""
    top = stmt.parent or stmt
    migration = ctx.migration
    if migration is None or ctx.schema_before is None:
        return None
    if top.section == "down":
        if ctx.schema_after is None or migration.down is None:
            return None
        model, statements = ctx.schema_after.copy(), migration.down.statements
    else:
        model, statements = ctx.schema_before.copy(), migration.up.statements
    for earlier in statements:
        if earlier is top:
            break
        model.apply(earlier.node)
    return model


def _renamed_to(ctx: Context, name: str) -> bool:
    """Some statement of this migration's UP renames an object to `name` (its last part)."""
    from pglast import ast

    if ctx.migration is None:
        return False
    last = name.rsplit(".", 1)[-1]
    return any(node.newname == last for _, node in ctx.migration.up.of(ast.RenameStmt))


def made_by_migration(ctx: Context, stmt: Statement, exists: Exists, *, name: str | None = None) -> bool:
    """True when the object did not exist before this migration's UP and exists just before
    `stmt`: created earlier in this UP, or (for a DOWN statement) by the UP it reverts.

    With `name`, an object that got that name from a RENAME in the UP is not new: it still
    holds the old object's data (rules about lost data pass it; rules about renames do not,
    since a DOWN renaming it back is the revert).
    """
    if ctx.schema_before is None or exists(ctx.schema_before):
        return False
    model = model_before(ctx, stmt)
    if model is None or not exists(model):
        return False
    return name is None or not _renamed_to(ctx, name)
