"""Run one section (UP or DOWN) statement by statement and record what each one did.

Statements run the way a migration runner runs them (`--transaction per-file` by default: one
transaction around the file unless the file has its own BEGIN/COMMIT), and between two
statements we read, in the same session and transaction: `pg_locks` of our own backend, the
relfilenode of every relation (a change is a rewrite) and the normalised schema. A lock taken
inside a transaction is held until COMMIT, so reading it after the statement is exact.

Statements PostgreSQL refuses inside a transaction block (CREATE/DROP INDEX CONCURRENTLY,
REINDEX CONCURRENTLY, VACUUM, ...) run in autocommit on the migration's session -- which is then
idle, never idle *in a transaction* (CREATE INDEX CONCURRENTLY waits for every transaction that
could see the table, ours included) -- while a second session polls `pg_locks` for that backend.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pglast import ast
from pglast.enums import ObjectType, TransactionStmtKind
from pgpreflight.linter.check import catalog
from pgpreflight.linter.check.locks import blocks, mode_name, strength
from pgpreflight.linter.check.result import (
    Agreement,
    CatalogChange,
    InvalidIndex,
    LockFact,
    Rewrite,
    SectionTrace,
    StatementError,
    StatementTrace,
    TableAgreement,
)
from pgpreflight.linter.check.sandbox import (
    Sandbox,
    behalf_note,
    denied_note,
    on_behalf,
    run_on_behalf,
)
from pgpreflight.linter.migration import Migration, Section, Statement
from pgpreflight.linter.names import short

LOG = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.002
"""The second session reads pg_locks this often while a non-transactional statement runs."""


@dataclass
class TraceOptions:
    transaction_mode: str = "per-file"  # per-file | per-statement | none
    watchdog_s: float = 600.0  # cancel a statement running longer (scratch server only)
    server_major: int = 15
    # Static findings by (path, line): rule ids, to say whether the trace agrees with them.
    findings: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    # rule id -> (at least this lock, rewrite); see expected.RULE_CLAIMS
    rule_claims: dict[str, tuple[str | None, bool | None]] = field(default_factory=dict)
    # opens the lock-polling second session; default: a plain connection to the conninfo (a
    # target passes its own guarded, read-only session instead)
    poller_connect: Callable[[], Any] | None = None
    # The scratch server's sandbox (linter.check.sandbox); None on a target.
    sandbox: Sandbox | None = field(default_factory=Sandbox)


def cannot_run_in_transaction(node: ast.Node, major: int) -> bool:
    """Statements PostgreSQL rejects inside a transaction block."""
    if isinstance(node, ast.IndexStmt):
        return bool(node.concurrent)
    if isinstance(node, ast.DropStmt):
        return bool(node.concurrent)
    if isinstance(node, ast.ReindexStmt):
        return any(getattr(p, "defname", None) == "concurrently" for p in node.params or ())
    if isinstance(node, ast.VacuumStmt):
        return bool(node.is_vacuumcmd)
    if isinstance(
        node,
        (
            ast.CreatedbStmt,
            ast.DropdbStmt,
            ast.AlterSystemStmt,
            ast.CreateTableSpaceStmt,
            ast.DropTableSpaceStmt,
        ),
    ):
        return True
    if isinstance(node, ast.AlterEnumStmt) and node.newVal is not None and not node.oldVal:
        return major < 12
    if isinstance(node, ast.AlterTableStmt):
        return any(
            isinstance(c, ast.AlterTableCmd)
            and isinstance(c.def_, ast.PartitionCmd)
            and bool(c.def_.concurrent)
            for c in node.cmds or ()
        )
    return False


def runner_refuses(migration: Migration, section: Section, options: TraceOptions) -> str | None:
    """Why a runner that wraps every file in a transaction (`--transaction per-file`) fails on
    `section`: its first statement PostgreSQL refuses inside a transaction block; None when it
    does not. The trace runs such a section statement by statement (to show its locks), so
    without this it would look as if it passed."""
    if options.transaction_mode != "per-file" or not migration.in_transaction:
        return None
    if any(_txn_kind(s.node) is not None for s in section.statements):
        return None  # inside the file's own BEGIN, PostgreSQL itself refuses it: a traced error
    for stmt in section.statements:
        if cannot_run_in_transaction(stmt.node, options.server_major):
            return (
                f"line {stmt.line}: {type(stmt.node).__name__} cannot run inside a transaction "
                "block: the runner wraps the file in one and fails on it (SQLSTATE 25001); give "
                "the file its runner's no-transaction directive"
            )
    return None


def _txn_kind(node: ast.Node) -> str | None:
    if not isinstance(node, ast.TransactionStmt):
        return None
    if node.kind in (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START):
        return "begin"
    if node.kind in (
        TransactionStmtKind.TRANS_STMT_COMMIT,
        TransactionStmtKind.TRANS_STMT_ROLLBACK,
    ):
        return "end"
    return "other"


def _short_sql(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 300 else flat[:297] + "..."


def skeleton(stmt: Statement, index: int, kind: str, status: str, tx: str) -> StatementTrace:
    """A statement's trace before anything is measured: where it is, what it is, its status."""
    return StatementTrace(
        index=index,
        section=kind,
        path=stmt.source.display,
        line=stmt.line,
        end_line=stmt.end_line,
        sql=_short_sql(stmt.text),
        kind=type(stmt.node).__name__,
        status=status,
        transaction=tx,
    )


@dataclass
class _State:
    """What we know between two statements of one session."""

    rels: dict[int, catalog.Relation]
    schema: catalog.Snapshot
    locks: set[tuple[Any, ...]]
    tx_rels: set[int] | None = None  # relations that existed when the transaction began
    tx_opened: int | None = None  # line of the file's own BEGIN of the open transaction
    owners: catalog.Owners = field(default_factory=dict)  # relation of each object in schema
    tx_facts: list[tuple[float, LockFact]] = field(default_factory=list)


class SectionTracer:
    """Traces sections on one open connection (autocommit; we issue BEGIN/COMMIT ourselves)."""

    def __init__(
        self, conn: Any, conninfo: str, options: TraceOptions, admin_conninfo: str | None = None
    ) -> None:
        self.conn = conn
        self.conninfo = conninfo  # for the lock-polling second session
        self.options = options
        # the superuser's session, for allow-listed extensions (linter.check.sandbox)
        self.admin_conninfo = admin_conninfo
        # linter.schema.SchemaModel of the state before the next statement, for the static
        # predictions; run() advances it statement by statement
        self.model: Any = None
        # what the last section that ran through left: relations and schema, for a section that
        # starts from the same catalog (`run(start=...)`); None after an error
        self.last_state: _State | None = None

    # -- public -------------------------------------------------------------------------

    def run(
        self,
        migration: Migration,
        section: Section,
        kind: str,
        model: Any = None,
        start: _State | None = None,
    ) -> tuple[SectionTrace, list[InvalidIndex]]:
        """Trace `section`; `model` (a SchemaModel of the state before it, or None) is
        advanced statement by statement and serves the static predictions. `start` is the
        `last_state` of a tracer whose section ended on this very catalog (the same database
        since, or a clone of it: OIDs are kept), read again otherwise."""
        import psycopg

        self.model = model
        self.last_state = None

        statements = section.statements
        file_tx = any(_txn_kind(s.node) in ("begin", "end") for s in statements)
        non_tx = [
            s for s in statements if cannot_run_in_transaction(s.node, self.options.server_major)
        ]
        mode = self.options.transaction_mode
        notes: list[str] = []
        outer = mode == "outer"
        if outer:
            # The caller holds one transaction open around several sections (execute-on-target):
            # never BEGIN, COMMIT or ROLLBACK here, and skip what cannot run inside it.
            wrap, label = False, "outer"
        elif file_tx:
            # A runner that wraps the file still sends its BEGIN first and its COMMIT last: a
            # file's own `COMMIT; BEGIN;` in the middle leaves a transaction the runner commits.
            wrap = mode in ("per-file", "auto") and migration.in_transaction and not non_tx
            label = "file"
        elif mode in ("per-file", "auto") and migration.in_transaction and not non_tx:
            wrap, label = True, "per-file"
        else:
            wrap, label = False, "per-statement" if mode != "none" else "none"
            if mode in ("per-file", "auto") and migration.in_transaction and non_tx:
                first = non_tx[0]
                note = (
                    f"line {first.line}: {type(first.node).__name__} cannot run inside a "
                    "transaction block, so this section ran statement by statement (autocommit)"
                )
                if mode == "per-file":
                    note += (
                        "; a runner that wraps every file in a transaction fails on it "
                        "(SQLSTATE 25001): give the file its runner's no-transaction directive"
                    )
                notes.append(note)
        if not outer and not self._in_tx():
            # each section starts like a runner's fresh session: no SET left from the last one
            self.conn.execute("RESET ALL")
        trace = SectionTrace(kind=kind, status="ok", transaction_mode=label, notes=notes)
        invalid: list[InvalidIndex] = []
        started = time.perf_counter()
        state = self._state() if start is None else self._resumed(start)
        if outer:
            state.tx_rels = set(state.rels)
        try:
            if wrap:
                self._begin(state)
            failed = False
            for index, stmt in enumerate(statements):
                if failed:
                    trace.statements.append(skeleton(stmt, index, kind, "not run", label))
                    continue
                if outer and (
                    _txn_kind(stmt.node) is not None
                    or cannot_run_in_transaction(stmt.node, self.options.server_major)
                ):
                    skipped = skeleton(stmt, index, kind, "skipped", label)
                    skipped.notes.append(
                        "not run here: it cannot run inside the enclosing transaction"
                    )
                    trace.statements.append(skipped)
                    continue
                st = self._one(stmt, index, kind, label, state, invalid)
                trace.statements.append(st)
                if st.status == "error":
                    failed = True
                    trace.status = "error"
            open_at = state.tx_opened
            if wrap and not failed and self._in_tx():
                self._end(state, "COMMIT")
                if file_tx and open_at is not None:
                    trace.notes.append(
                        f"line {open_at}: the transaction the file opens here is still open at "
                        "the end of the file; the runner's COMMIT commits it"
                    )
            elif not failed and not outer and self._in_tx() and open_at is not None:
                trace.notes.append(
                    f"line {open_at}: the transaction the file opens here is never committed: "
                    "it is rolled back when the runner's session ends"
                )
        finally:
            rolled_back = False
            if not outer and self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self.conn.execute("ROLLBACK")
                rolled_back = True
            trace.duration_ms = (time.perf_counter() - started) * 1000
        if trace.status == "ok" and not outer and not rolled_back:
            self.last_state = state  # the catalog as the last statement left it, committed
        return trace, invalid

    # -- transaction bookkeeping ----------------------------------------------------------

    def _state(self) -> _State:
        owners: catalog.Owners = {}
        return _State(
            rels=catalog.relations(self.conn),
            schema=catalog.schema_snapshot(self.conn, in_transaction=True, owners=owners),
            locks={lk.key for lk in catalog.own_locks(self.conn)},
            owners=owners,
        )

    def _resumed(self, start: _State) -> _State:
        """A section's first state from where another one ended: its relations and schema, and
        this session's own locks (none held between two sections)."""
        return _State(
            rels=start.rels,
            schema=start.schema,
            locks={lk.key for lk in catalog.own_locks(self.conn)},
            owners=start.owners,
        )

    def _begin(self, state: _State, *, sent: bool = False) -> None:
        """BEGIN (`sent`: already sent, with other queries) and the bookkeeping it opens."""
        if not sent:
            self.conn.execute("BEGIN")
        state.tx_rels = set(state.rels)
        state.tx_facts = []

    def _end(self, state: _State, command: str) -> None:
        self.conn.execute(command)
        self._released(state)

    def _released(self, state: _State) -> None:
        now = time.perf_counter()
        for started, fact in state.tx_facts:
            fact.held_ms = round((now - started) * 1000, 3)
        state.tx_facts = []
        state.tx_rels = None
        state.tx_opened = None
        state.locks = set()

    def _in_tx(self) -> bool:
        import psycopg

        return bool(self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE)

    # -- one statement ---------------------------------------------------------------------

    def _one(
        self,
        stmt: Statement,
        index: int,
        kind: str,
        label: str,
        state: _State,
        invalid: list[InvalidIndex],
    ) -> StatementTrace:
        import psycopg

        txn = _txn_kind(stmt.node)
        non_tx = cannot_run_in_transaction(stmt.node, self.options.server_major)
        if non_tx:
            tx_label = "none (cannot run in a transaction)"
        elif self._in_tx():
            tx_label = {"file": "file", "outer": "target transaction (rolled back)"}.get(
                label, "runner"
            )
        else:
            tx_label = "statement"
        st = skeleton(stmt, index, kind, "ok", tx_label)
        if txn is not None:
            st.lock_timeout, st.statement_timeout = catalog.session_settings(self.conn)
            return self._transaction_statement(stmt, st, txn, state)
        predictions = self._predictions(stmt.node)
        behalf = (
            on_behalf(self.conn, stmt.node, self.options.sandbox)
            if self.admin_conninfo is not None
            else None
        )
        # A non-transactional statement inside the file's own BEGIN is left to PostgreSQL to
        # refuse: that is what the runner would get.
        own_wrap = not non_tx and not self._in_tx()
        poller = (
            _LockPoller(self.conninfo, self.conn.info.backend_pid, self.options.poller_connect)
            if non_tx and not self._in_tx()
            else None
        )
        # What this session writes to the system catalogs, before and after the statement in
        # one transaction: a statement that wrote none changed no schema (see _snapshot_after).
        # Not for a statement run by the superuser's session, nor outside a transaction. One
        # round trip with our BEGIN and the session's timeouts.
        count = behalf is None and poller is None and (own_wrap or self._in_tx())
        settings, writes = catalog.before_statement(self.conn, begin=own_wrap, count=count)
        st.lock_timeout, st.statement_timeout = settings
        if own_wrap:
            self._begin(state, sent=True)
        started = time.perf_counter()
        try:
            if poller is not None:
                poller.start()
            if behalf is not None:
                assert self.admin_conninfo is not None
                run_on_behalf(self.admin_conninfo, stmt.text, self.conn)
                st.notes.append(behalf_note(behalf))
            else:
                with _Watchdog(self.conn, self.options.watchdog_s):
                    cur = self.conn.execute(stmt.text)
                st.rows = cur.rowcount if cur.rowcount is not None and cur.rowcount >= 0 else None
            st.duration_ms = round((time.perf_counter() - started) * 1000, 3)
        except psycopg.Error as exc:
            st.duration_ms = round((time.perf_counter() - started) * 1000, 3)
            st.status = "error"
            st.error = statement_error(exc, stmt)
            denied = denied_note(st.error.sqlstate, self.options.sandbox, stmt.node)
            if denied is not None:
                st.notes.append(denied)
            if poller is not None:
                poller.stop()
            if self.options.transaction_mode == "outer":
                return st  # the caller rolls the enclosing transaction back
            if self._in_tx():
                self.conn.execute("ROLLBACK")
                self._released(state)
            self._after_error(stmt, st, state, invalid)
            return st
        polled = poller.stop() if poller is not None else None
        written: set[str] | None = None
        if polled is None:
            counted, rels_after, held = catalog.after_statement(
                self.conn, count=writes is not None and self._in_tx()
            )
            written = catalog.written_between(writes, counted)
        else:
            rels_after = catalog.relations(self.conn)
        held_before: set[tuple[Any, ...]] = set()
        if polled is not None:
            new_keys = polled
        else:
            new_keys = [lk for lk in held if lk.key not in state.locks]
            held_before = state.locks
            state.locks = {lk.key for lk in held}
        locked = {lk.relation for lk in (polled if polled is not None else held)}
        touched = _touched(state.rels, rels_after, locked)
        schema_after = (
            self._snapshot_after(stmt.node, state, touched, written) if self._in_tx() else None
        )
        descriptions = (
            catalog.describe_objects(self.conn, new_keys) if self._in_tx() or polled else {}
        )
        st.locks = self._lock_facts(
            new_keys, state, rels_after, descriptions, polled is not None, poller
        )
        if own_wrap:
            for fact in st.locks:
                fact.held_until = "end of statement"
        st.rewrites = _rewrites(state.rels, rels_after)
        if self._in_tx():
            state.tx_facts.extend((started, fact) for fact in st.locks)
        if own_wrap:
            self._end(state, "COMMIT")
        if schema_after is None:
            schema_after = self._snapshot_after(stmt.node, state, touched)
        st.catalog_changes = _changes(state.schema, schema_after)
        st.agreement = self._agreement(
            stmt, st, state, held_before, polled is not None, predictions
        )
        self._advance_model(stmt)
        if st.agreement is not None:
            self._judge_rules(st.agreement, st)
        for name, attrs in ((k[1], v) for k, v in schema_after.items() if k[0] == "index"):
            was = state.schema.get(("index", name))
            if not attrs["valid"] and (was is None or was["valid"]):
                invalid.append(_invalid_index(name, attrs, stmt.line))
        state.rels = rels_after
        state.schema = schema_after
        return st

    def _snapshot_after(
        self, node: ast.Node, state: _State, touched: set[int], written: set[str] | None = None
    ) -> catalog.Snapshot:
        """The schema after a statement: the one before when it wrote no system catalog
        (`written`, from `catalog.written_between`, is empty: a SET, a SELECT, most DML); read
        again only for the relations it touched when the statement is one that can change
        nothing else (`_RELATION_SCOPED`), and of the schema-wide objects only those whose
        catalogs it wrote; else in full. The section's first snapshot (`_state`) and those
        after an error are always full."""
        if written is not None and not written:
            return state.schema
        if _relation_scoped(node):
            schema, state.owners = catalog.scoped_snapshot(
                self.conn,
                state.schema,
                state.owners,
                touched,
                in_transaction=True,
                renamed=isinstance(node, ast.RenameStmt),
                written=written,
            )
            return schema
        if written is not None and _names_kept(node):
            schema, state.owners = catalog.rewritten_snapshot(
                self.conn, state.schema, state.owners, written
            )
            return schema
        owners: catalog.Owners = {}
        schema = catalog.schema_snapshot(self.conn, in_transaction=True, owners=owners)
        state.owners = owners
        return schema

    def _transaction_statement(
        self, stmt: Statement, st: StatementTrace, txn: str, state: _State
    ) -> StatementTrace:
        import psycopg

        started = time.perf_counter()
        try:
            if txn == "begin":
                # inside the runner's transaction BEGIN is only a warning: it opens nothing
                already = self._in_tx()
                self.conn.execute(stmt.text)
                state.tx_opened = stmt.line
                if not already:
                    state.tx_rels = set(state.rels)
                    state.tx_facts = []
            elif txn == "end":
                self._end(state, stmt.text)
            else:
                self.conn.execute(stmt.text)
        except psycopg.Error as exc:
            st.status = "error"
            st.error = statement_error(exc, stmt)
            if self._in_tx():
                self.conn.execute("ROLLBACK")
                self._released(state)
        st.duration_ms = round((time.perf_counter() - started) * 1000, 3)
        return st

    def _after_error(
        self, stmt: Statement, st: StatementTrace, state: _State, invalid: list[InvalidIndex]
    ) -> None:
        """After a rollback the catalog is back to the last commit, except for what a failed
        non-transactional statement left behind (CREATE INDEX CONCURRENTLY leaves an INVALID
        index)."""
        state.rels = catalog.relations(self.conn)
        state.owners = {}
        schema = catalog.schema_snapshot(self.conn, in_transaction=True, owners=state.owners)
        for (kind, name), attrs in schema.items():
            if kind == "index" and not attrs["valid"] and ("index", name) not in state.schema:
                invalid.append(_invalid_index(name, attrs, stmt.line))
                st.catalog_changes.append(CatalogChange("added", "index", name, None, attrs))
        state.schema = schema
        state.locks = {lk.key for lk in catalog.own_locks(self.conn)}

    # -- facts -------------------------------------------------------------------------------

    def _lock_facts(
        self,
        held: Iterable[catalog.HeldLock],
        state: _State,
        rels_after: dict[int, catalog.Relation],
        descriptions: dict[tuple[int, int, int], str],
        polled: bool,
        poller: _LockPoller | None,
    ) -> list[LockFact]:
        facts: list[LockFact] = []
        in_tx = self._in_tx()
        for lk in held:
            mode = mode_name(lk.mode)
            if lk.locktype == "relation" and lk.relation is not None:
                rel = state.rels.get(lk.relation) or rels_after.get(lk.relation)
                if rel is None:
                    continue  # a transient relation (the new heap of a rewrite), gone already
                owner = catalog.owner_table(state.rels, lk.relation) or catalog.owner_table(
                    rels_after, lk.relation
                )
                table = owner.name if owner is not None and owner.oid != rel.oid else None
                existed = (
                    lk.relation in state.rels
                    if state.tx_rels is None
                    else lk.relation in state.tx_rels
                )
                fact = LockFact(
                    object=rel.name,
                    kind=rel.kind,
                    mode=mode,
                    locktype="relation",
                    blocks=blocks(mode) if existed else [],
                    new_object=not existed,
                    held_until="end of transaction" if in_tx else "end of statement",
                    table=table,
                    observed="polled" if polled else "own backend",
                )
            else:
                key = (lk.classid or 0, lk.objid or 0, lk.objsubid or 0)
                desc = descriptions.get(key)
                if desc is None:
                    continue  # dropped or transient object; the relation locks tell the story
                fact = LockFact(
                    object=desc,
                    kind="object",
                    mode=mode,
                    locktype="object",
                    blocks=["DDL"] if strength(mode) >= 0 else [],
                    new_object=False,
                    held_until="end of transaction" if in_tx else "end of statement",
                    observed="polled" if polled else "own backend",
                )
            if polled and poller is not None:
                span = poller.span(lk.key)
                fact.held_ms = round(span * 1000, 3) if span is not None else None
            facts.append(fact)
        facts.sort(
            key=lambda f: (f.locktype != "relation", f.new_object, -strength(f.mode), f.object)
        )
        return facts

    def _judge_rules(self, agreement: Agreement, st: StatementTrace) -> None:
        """Confirm or contradict what the static findings on this statement claim."""
        pre_existing = [
            f
            for f in st.locks
            if f.locktype == "relation" and not f.new_object and f.kind.endswith("table")
        ]
        strongest = max(
            (f.mode for f in pre_existing), key=strength, default=agreement.observed_lock
        )
        if agreement.observed_lock and (
            strongest is None or strength(agreement.observed_lock) > strength(strongest)
        ):
            strongest = agreement.observed_lock
        for rule in agreement.rules:
            claim = self.options.rule_claims.get(rule)
            if claim is None or agreement.verdict == "not observed":
                continue
            lock, rewrite = claim
            ok = True
            if lock is not None and (strongest is None or strength(strongest) < strength(lock)):
                ok = False
            if rewrite is not None and rewrite != agreement.observed_rewrite:
                ok = False
            agreement.rule_verdicts[rule] = "confirmed" if ok else "contradicted"

    @staticmethod
    def _already_held(
        table: str | None, mode: str | None, state: _State, held_before: set[tuple[Any, ...]]
    ) -> bool:
        if mode is None or table is None:
            return False
        oids = {oid for oid, rel in state.rels.items() if rel.name == table}
        return any(
            key[0] == "relation" and key[2] in oids and mode_name(str(key[1])) == mode
            for key in held_before
        )

    def _advance_model(self, stmt: Statement) -> None:
        if self.model is None:
            return
        try:
            self.model.apply(stmt.node, location=stmt)
        except Exception:  # the model is an aid for predictions, never a reason to stop
            LOG.debug("schema model could not apply %s", type(stmt.node).__name__, exc_info=True)

    def _predictions(self, node: Any) -> list[Any]:
        """The static core's prediction (linter.locks.statement_locks) on the schema model of
        the state before the statement; [] when it has none or cannot tell."""
        try:
            from pgpreflight.linter.locks import statement_locks

            return list(statement_locks(node, self.model, (self.options.server_major,)))
        except Exception:  # a prediction bug must not stop the trace; the check reports facts
            LOG.debug("no static prediction for %s", type(node).__name__, exc_info=True)
            return []

    def _agreement(
        self,
        stmt: Statement,
        st: StatementTrace,
        state: _State,
        held_before: set[tuple[Any, ...]],
        polled: bool,
        predictions: list[Any],
    ) -> Agreement | None:
        """Compare, table by table, the lock and rewrite the static core predicts with what
        the trace observed on the tables that existed before the transaction."""
        from pgpreflight.linter.locks import REWRITE

        rules = sorted(
            {
                r
                for line in range(st.line, st.end_line + 1)
                for r in self.options.findings.get((st.path, line), [])
            }
        )
        existing = {
            r.name for oid, r in state.rels.items() if state.tx_rels is None or oid in state.tx_rels
        }
        expected: dict[str, tuple[str, bool, str]] = {}
        for p in predictions:
            table = short(p.table) if p.table else ""
            if not table:
                continue
            mode, rewrite, work = p.mode.label, p.work == REWRITE, p.work
            if table in expected:
                old_mode, old_rewrite, old_work = expected[table]
                if strength(old_mode) >= strength(mode):
                    mode, work = old_mode, old_work
                rewrite = rewrite or old_rewrite
            expected[table] = (mode, rewrite, work)
        if not expected and not rules:
            return None
        truncate = isinstance(stmt.node, ast.TruncateStmt)
        rows: list[TableAgreement] = []
        for table, (mode, rewrite, work) in expected.items():
            if table not in existing:
                continue  # created in this transaction: nobody else can see it yet
            on_table = [
                f
                for f in st.locks
                if f.locktype == "relation"
                and not f.new_object
                and f.object == table
                and f.kind.endswith("table")
            ]
            observed = max((f.mode for f in on_table), key=strength, default=None)
            if self._already_held(table, mode, state, held_before) and (
                observed is None or strength(observed) < strength(mode)
            ):
                observed = mode  # pg_locks has one row per mode: an earlier statement took it
            rewritten = any(
                r.object == table and r.kind in ("table", "materialized view") for r in st.rewrites
            )
            rows.append(
                TableAgreement(
                    table, mode, observed, None if truncate else rewrite, rewritten, work
                )
            )
        first = rows[0] if rows else None
        agreement = Agreement(
            table=first.table if first else None,
            expected_lock=first.expected_lock if first else None,
            observed_lock=first.observed_lock if first else None,
            expected_rewrite=first.expected_rewrite if first else None,
            observed_rewrite=first.observed_rewrite if first else bool(st.rewrites),
            verdict="confirmed",
            rules=rules,
            tables=rows,
        )
        if not rows or st.status != "ok":
            agreement.verdict = "no prediction"
            if expected and not rows:
                agreement.note = "the statement works on tables created in this transaction"
            return agreement
        if polled and not st.locks:
            agreement.verdict = "not observed"
            agreement.note = (
                f"the statement took {st.duration_ms} ms and no poll of pg_locks fell inside it"
            )
            return agreement
        problems: list[str] = []
        for row in rows:
            if row.observed_lock is None:
                problems.append(f"{row.table}: expected {row.expected_lock}, no lock seen")
            elif mode_name(row.observed_lock) != row.expected_lock:
                problems.append(
                    f"{row.table}: expected {row.expected_lock}, observed {row.observed_lock}"
                )
            if row.expected_rewrite is not None and row.expected_rewrite != row.observed_rewrite:
                problems.append(
                    f"{row.table}: predicted a rewrite, none happened"
                    if row.expected_rewrite
                    else f"{row.table}: rewritten, not predicted"
                )
        if problems:
            agreement.verdict = "contradicted"
            agreement.note = "; ".join(problems)
        return agreement


def _relation_scoped(node: ast.Node) -> bool:
    """Statements whose catalog changes stay within the relations they lock, create, drop or
    rewrite (and those whose definitions name them): the schema after them is read again for
    those relations only. Anything else (types, schemas, functions, DO blocks, renames of
    types or sequences...) gets a full snapshot."""
    if isinstance(node, _SCOPED_NODES):
        return True
    if isinstance(node, ast.DropStmt):
        return node.removeType in _SCOPED_OBJECTS
    if isinstance(node, ast.RenameStmt):
        return node.renameType in _SCOPED_OBJECTS
    if isinstance(node, ast.CommentStmt):
        return node.objtype in _SCOPED_OBJECTS
    return False


_SCOPED_NODES = (
    ast.CreateStmt,
    ast.AlterTableStmt,
    ast.IndexStmt,
    ast.CreateTrigStmt,
    ast.ViewStmt,
    ast.CreateTableAsStmt,
    ast.InsertStmt,
    ast.UpdateStmt,
    ast.DeleteStmt,
    ast.TruncateStmt,
    ast.ReindexStmt,
    ast.ClusterStmt,
    ast.VacuumStmt,
    ast.RefreshMatViewStmt,
)
_SCOPED_OBJECTS = frozenset(
    {
        ObjectType.OBJECT_TABLE,
        ObjectType.OBJECT_COLUMN,
        ObjectType.OBJECT_TABCONSTRAINT,
        ObjectType.OBJECT_INDEX,
        ObjectType.OBJECT_TRIGGER,
        ObjectType.OBJECT_VIEW,
        ObjectType.OBJECT_MATVIEW,
        ObjectType.OBJECT_FOREIGN_TABLE,
    }
)


def _names_kept(node: ast.Node) -> bool:
    """Statements that are not relation-scoped but rename nothing (`_NAMES_KEPT`): what they
    change is in the catalogs they write (`catalog.rewritten_snapshot`). DO blocks can do
    anything, and ALTER TYPE ... RENAME VALUE changes the text of every default, constraint and
    index that holds the label."""
    if isinstance(node, ast.AlterEnumStmt):
        return node.oldVal is None
    return isinstance(node, _NAMES_KEPT)


_NAMES_KEPT = (
    ast.CreateFunctionStmt,
    ast.AlterFunctionStmt,
    ast.CreateSeqStmt,
    ast.AlterSeqStmt,
    ast.CreateEnumStmt,
    ast.CreateDomainStmt,
    ast.AlterDomainStmt,
    ast.CompositeTypeStmt,
    ast.CreateRangeStmt,
    ast.DefineStmt,
    ast.CreateExtensionStmt,
    ast.CreateSchemaStmt,
    ast.CommentStmt,
    ast.GrantStmt,
    ast.AlterOwnerStmt,
    ast.CreatePolicyStmt,
    ast.AlterPolicyStmt,
    ast.RuleStmt,
)


def _touched(
    before: dict[int, catalog.Relation], after: dict[int, catalog.Relation], locked: set[Any]
) -> set[int]:
    """Relations a statement may have changed: those locked by the session (in a transaction,
    every lock since BEGIN), those created, dropped, renamed or rewritten, and the tables of
    such indexes and TOAST relations (the locks of DROP INDEX CONCURRENTLY may fall between two
    polls: the index is gone, its table is what holds it in the snapshot)."""
    out = {int(oid) for oid in locked if oid is not None}
    for oid in set(before) | set(after):
        if before.get(oid) != after.get(oid):
            out.add(oid)
    for oid in list(out):
        for rels in (before, after):
            owner = catalog.owner_table(rels, oid)
            if owner is not None:
                out.add(owner.oid)
    return out


def _rewrites(
    before: dict[int, catalog.Relation], after: dict[int, catalog.Relation]
) -> list[Rewrite]:
    out: list[Rewrite] = []
    seen_tables: set[str] = set()
    for oid, rel in before.items():
        now = after.get(oid)
        if now is None or rel.filenode == 0 or now.filenode == rel.filenode:
            continue
        owner = catalog.owner_table(before, oid)
        table = owner.name if owner is not None and owner.oid != oid else None
        if rel.kind == "toast table" and table is not None:
            if table in seen_tables:
                continue
            out.append(Rewrite(table, "table", None))
            seen_tables.add(table)
            continue
        if rel.kind == "index" and owner is not None and owner.kind == "toast table":
            continue  # the TOAST index follows its TOAST table
        if rel.kind in ("table", "materialized view"):
            if rel.name in seen_tables:
                continue
            seen_tables.add(rel.name)
        out.append(Rewrite(rel.name, rel.kind, table))
    out.sort(key=lambda r: (r.kind != "table", r.object))
    return out


def _changes(before: catalog.Snapshot, after: catalog.Snapshot) -> list[CatalogChange]:
    action = {"missing": "dropped", "extra": "added", "changed": "changed"}
    return [
        CatalogChange(action[change], kind, name, exp, act)
        for kind, name, change, exp, act in catalog.compare(before, after)
    ]


def _invalid_index(name: str, attrs: dict[str, Any], line: int) -> InvalidIndex:
    return InvalidIndex(
        index=name,
        table=str(attrs.get("table")),
        line=line,
        cleanup=f"DROP INDEX CONCURRENTLY IF EXISTS {name}; then create it again with CONCURRENTLY",
    )


def statement_error(exc: Any, stmt: Statement) -> StatementError:
    """PostgreSQL's message, SQLSTATE, and the file line it points at."""
    diag = exc.diag
    text = str(exc).strip()
    message = diag.message_primary or (text.splitlines()[0] if text else type(exc).__name__)
    line, column = stmt.line, None
    position = diag.statement_position
    if position:
        try:
            offset = int(position) - 1
            before = stmt.text[:offset]
            line = stmt.line + before.count("\n")
            column = (
                offset - (before.rfind("\n") + 1) + 1 if "\n" in before else stmt.column + offset
            )
        except ValueError:
            pass
    return StatementError(
        sqlstate=diag.sqlstate or getattr(exc, "sqlstate", None),
        message=message,
        line=line,
        column=column,
        detail=diag.message_detail,
        hint=diag.message_hint,
    )


class _Watchdog:
    """Cancel the running statement after `seconds` (the scratch server gets no
    statement_timeout from us: the migration's own settings are what the trace reports)."""

    def __init__(self, conn: Any, seconds: float) -> None:
        self._timer = threading.Timer(seconds, self._cancel, args=(conn,))
        self._timer.daemon = True

    @staticmethod
    def _cancel(conn: Any) -> None:
        try:
            conn.cancel()
        except Exception:
            LOG.debug("cancel failed", exc_info=True)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


class _LockPoller:
    """A second session reading pg_locks for one backend every POLL_INTERVAL_S."""

    def __init__(
        self,
        conninfo: str,
        pid: int,
        connect: Callable[[], Any] | None = None,
        interval: float = POLL_INTERVAL_S,
    ) -> None:
        self.conninfo = conninfo
        self.connect = connect
        self.pid = pid
        self.interval = interval
        self.seen: dict[tuple[Any, ...], catalog.HeldLock] = {}
        self.first: dict[tuple[Any, ...], float] = {}
        self.last: dict[tuple[Any, ...], float] = {}
        self.polls = 0
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="pgpreflight-lock-poller", daemon=True
        )
        self._error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._error is not None:
            raise self._error

    def _loop(self) -> None:
        import psycopg

        try:
            session = (
                self.connect()
                if self.connect is not None
                else psycopg.connect(
                    self.conninfo, autocommit=True, application_name="pgpreflight-poller"
                )
            )
            with session as conn:
                self._ready.set()
                while True:
                    now = time.perf_counter()
                    for lk in catalog.locks_of(conn, self.pid):
                        self.seen.setdefault(lk.key, lk)
                        self.first.setdefault(lk.key, now)
                        self.last[lk.key] = now
                    self.polls += 1
                    if self._stop.wait(self.interval):
                        break
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    def stop(self) -> list[catalog.HeldLock]:
        self._stop.set()
        self._thread.join(timeout=30)
        return list(self.seen.values())

    def span(self, key: tuple[Any, ...]) -> float | None:
        if key not in self.first:
            return None
        return max(self.last[key] - self.first[key], self.interval)


def group_findings(findings: Iterable[Any]) -> dict[tuple[str, int], list[str]]:
    """(path, line) -> rule ids, from the lint result's findings."""
    out: dict[tuple[str, int], list[str]] = {}
    for f in findings:
        out.setdefault((str(f.path), int(f.line)), []).append(str(f.rule))
    return out
