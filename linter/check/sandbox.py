"""Which role migrations run as on the scratch server, and the few things done on their behalf.

Migrations are untrusted code (issue 11). On the scratch server they run as ``pgpf_migrator``
(`linter.pgserver.MIGRATOR`), a non-superuser that owns the scratch databases, like the migration
user of a production database. Whatever only a superuser may do then fails with SQLSTATE 42501
(insufficient_privilege), and the check says why (`denied_note`) instead of leaving the reader
with a bare "permission denied".

Two ways back to more power, both explicit:

- an extension that is not trusted (``pg_available_extension_versions.trusted``) but is named in
  ``scratch-extensions`` is created -- and dropped -- by the superuser on the migration's behalf
  (`on_behalf`, `run_on_behalf`). That statement commits on its own, outside the migration's
  transaction: a later failure of the migration does not roll it back. Its install script runs
  as the superuser in a schema the migration role may write to, so allow-list only extensions
  you would install for this project in production (PostgreSQL's advice for untrusted
  extensions: a hostile migration could plant objects their script then uses).
- ``--scratch-superuser`` runs migrations as the superuser, with no sandbox; the result carries
  `SUPERUSER_WARNING`.

Objects a target's schema brings along are restored by the superuser (``pg_restore
--no-owner``); `hand_over` gives them to the migration role, so migrations can alter them as
they would in production.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pglast import ast
from pglast.enums import ObjectType
from pgpreflight.linter.pgserver import MIGRATOR, SUPERUSER

LOG = logging.getLogger(__name__)

INSUFFICIENT_PRIVILEGE = "42501"

SUPERUSER_WARNING = (
    "--scratch-superuser: migrations ran as the superuser of the scratch server, without the "
    "sandbox: a migration could run programs and read files as the server's OS user and reach "
    "other servers"
)


@dataclass(frozen=True)
class Sandbox:
    """How migrations run on the scratch server: as the migration role unless ``superuser``;
    ``extensions`` are the allow-listed extensions the superuser creates for them."""

    superuser: bool = False
    extensions: tuple[str, ...] = ()

    @property
    def user(self) -> str:
        return SUPERUSER if self.superuser else MIGRATOR


def denied_note(sqlstate: str | None, sandbox: Sandbox | None, node: Any = None) -> str | None:
    """The explanation for a statement (`node`, when known) PostgreSQL refused for lack of
    privilege, when the sandbox is why (None otherwise)."""
    if sandbox is None or sandbox.superuser or sqlstate != INSUFFICIENT_PRIVILEGE:
        return None
    note = (
        f"needs superuser: the scratch server runs migrations as a non-superuser role "
        f"({MIGRATOR}) that owns the database, like a production migration user; "
    )
    if _extension_names(node):
        return note + "allow-list the extension in scratch-extensions or use --scratch-superuser"
    if _disables_all_triggers(node):
        note += (
            "DISABLE TRIGGER ALL also disables the system triggers of foreign keys, which only "
            "a superuser may do (DISABLE TRIGGER USER leaves them); "
        )
    return note + "if the project's runner migrates as a superuser, use --scratch-superuser"


def _disables_all_triggers(node: Any) -> bool:
    from pglast.enums import AlterTableType

    match node:
        case ast.AlterTableStmt(cmds=cmds):
            return any(
                isinstance(c, ast.AlterTableCmd) and c.subtype == AlterTableType.AT_DisableTrigAll
                for c in cmds or ()
            )
    return False


def _extension_names(node: Any) -> list[str]:
    match node:
        case ast.CreateExtensionStmt(extname=name):
            return [str(name)]
        case ast.DropStmt(removeType=ObjectType.OBJECT_EXTENSION, objects=objects):
            return [str(o.sval) for o in objects or () if isinstance(o, ast.String)]
    return []


def _trusted(conn: Any, name: str) -> bool | None:
    """Whether the extension's default version is trusted; None when it is not available."""
    row = conn.execute(
        "SELECT v.trusted FROM pg_catalog.pg_available_extensions e "
        "JOIN pg_catalog.pg_available_extension_versions v "
        "ON v.name = e.name AND v.version = e.default_version WHERE e.name = %s",
        (name,),
    ).fetchone()
    return None if row is None else bool(row[0])


def _requires(conn: Any, name: str) -> list[str]:
    row = conn.execute(
        "SELECT v.requires FROM pg_catalog.pg_available_extensions e "
        "JOIN pg_catalog.pg_available_extension_versions v "
        "ON v.name = e.name AND v.version = e.default_version WHERE e.name = %s",
        (name,),
    ).fetchone()
    return [str(r) for r in (row[0] if row and row[0] else [])]


def on_behalf(conn: Any, node: Any, sandbox: Sandbox | None) -> str | None:
    """The allow-listed, untrusted extension a CREATE/DROP EXTENSION statement names, which the
    superuser then runs for the migration; None for every other statement. An extension it
    requires must itself be trusted or allow-listed (CASCADE would create it too)."""
    if sandbox is None or sandbox.superuser or not sandbox.extensions:
        return None
    names = _extension_names(node)
    if not names or not all(n in sandbox.extensions for n in names):
        return None
    if all(_trusted(conn, n) is not False for n in names):
        return None  # trusted (the migration role may do it) or unknown (let PostgreSQL say)
    if isinstance(node, ast.CreateExtensionStmt):
        for required in _requires(conn, names[0]):
            if required not in sandbox.extensions and not _trusted(conn, required):
                return None
    return ", ".join(names)


def behalf_note(names: str) -> str:
    return (
        f"run by the superuser on the migration's behalf: {names} is not a trusted extension "
        "and is allow-listed in scratch-extensions (committed on its own, outside the "
        "migration's transaction)"
    )


def run_on_behalf(admin_conninfo: str, text: str, migration_conn: Any) -> None:
    """Run one allow-listed CREATE/DROP EXTENSION as the superuser in its own session, with the
    migration session's search_path (the schema the extension lands in when it names none). It
    waits at most 5 s for a lock, since the migration's open transaction may hold one it needs."""
    import psycopg

    row = migration_conn.execute("SELECT pg_catalog.current_setting('search_path')").fetchone()
    with psycopg.connect(admin_conninfo, autocommit=True, application_name="pgpreflight") as conn:
        conn.execute("SET lock_timeout = '5s'")
        conn.execute("SELECT pg_catalog.set_config('search_path', %s, false)", (row[0],))
        conn.execute(text)


_OWNED = """
SELECT format('ALTER %%s %%s OWNER TO %%I', kind, name, %(role)s::text) FROM (
    SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                          WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE'
                          WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END AS kind,
           CASE c.relkind WHEN 'c' THEN c.reltype::regtype::text ELSE c.oid::regclass::text END,
           c.relowner AS owner, 'pg_class'::regclass AS classid, c.oid, c.relnamespace AS nsp, 2
    FROM pg_class c
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
      AND NOT (c.relkind = 'S' AND EXISTS (
          SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
    UNION ALL
    SELECT CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END, p.oid::regprocedure::text, p.proowner, 'pg_proc'::regclass, p.oid,
           p.pronamespace, 3
    FROM pg_proc p
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype::text,
           t.typowner, 'pg_type'::regclass, t.oid, t.typnamespace, 1
    FROM pg_type t WHERE t.typtype IN ('d', 'e', 'r')
    UNION ALL
    SELECT 'SCHEMA', quote_ident(n.nspname), n.nspowner, 'pg_namespace'::regclass, n.oid,
           n.oid, 0
    FROM pg_namespace n
) AS o (kind, name, owner, classid, oid, nsp, rank)
JOIN pg_namespace ns ON ns.oid = o.nsp
WHERE o.owner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
  AND ns.nspname NOT LIKE 'pg\\_%%' AND ns.nspname <> 'information_schema'
  AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = o.classid AND e.objid = o.oid
                  AND e.deptype = 'e')
ORDER BY o.rank, o.name
"""


def hand_over(conn: Any, role: str = MIGRATOR) -> list[str]:
    """Give the migration role what the superuser restored (``conn`` is the superuser's
    session, search_path pinned): schemas, tables, views, sequences not owned by a column,
    routines and types outside the system schemas and outside extensions. Returns the
    statements that failed (each is a note; the check goes on)."""
    import psycopg

    failed: list[str] = []
    for (statement,) in conn.execute(_OWNED, {"role": role}).fetchall():
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            LOG.debug("hand over: %s failed: %s", statement, exc)
            failed.append(f"{statement}: {(exc.diag.message_primary or str(exc)).strip()}")
    return failed
