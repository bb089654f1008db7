"""The one kind of session pgpreflight opens on a target database, and the guards it carries.

The target is somebody's staging copy with real data, and what we send there is built from
things we do not control: values read back from the target itself (most-common values, sampled
rows) and text from the project's files (application queries, their comments). So every
statement on a target session is held to three rules, enforced here rather than trusted to each
caller:

- one statement per call: the text is split with PostgreSQL's own scanner (pglast) and refused
  before sending when it holds more than one statement; and it is always sent over the extended
  query protocol, where the server itself refuses a second statement, so a bug in our quoting
  (or a server whose `standard_conforming_strings` disagrees with our scanner) cannot smuggle in
  a `COMMIT; DROP TABLE ...`. COPY goes through the same path;
- values are parameters bound by the server, never literals quoted by us;
- a call never outlives `statement_timeout` plus a margin: a watchdog cancels it and, when the
  cancel request gets no answer (a frozen server), shuts the socket down so the blocked call
  wakes with an error instead of hanging the run.

Every statement carries a leading `/* pgpreflight */` comment, so pgpreflight's own queries can
be told apart in `pg_stat_statements` and are never read back as the application's workload.

After connecting, `verify()` reads the session's settings back: a connection pooler that drops
the startup `options` parameter (PgBouncer's `ignore_startup_parameters`) would otherwise leave a
read-write session with no timeouts while the report says "read-only".
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from pgpreflight.linter.errors import TargetSessionError
from psycopg import RawCursor
from psycopg._queries import PostgresQuery

TAG = "/* pgpreflight */ "
"""Leading comment of every statement pgpreflight sends to a target (see workload.py)."""

TAG_BYTES = TAG.encode()

WATCHDOG_MARGIN_S = 5.0
"""How long past statement_timeout a call may run before the watchdog steps in."""

CANCEL_WAIT_S = 2.0
"""How long the watchdog waits for a cancel request to be answered, then for the call to end."""


class MultipleStatements(psycopg.ProgrammingError):
    """Text that holds more than one statement, refused before it was sent. A psycopg error, so
    every caller already handles it like a statement the server rejected."""


def statement_count(text: str) -> int:
    """How many statements PostgreSQL's scanner finds in `text` (comments and strings aware)."""
    from pglast import parser

    try:
        return len(list(parser.split(text, with_parser=False)))
    except Exception:  # the scanner rejects unterminated strings and comments: not one statement
        return 2


@dataclass(frozen=True)
class Limits:
    """What a target session must have, read back by `verify()`; milliseconds."""

    statement_timeout_ms: int
    lock_timeout_ms: int
    idle_timeout_ms: int
    read_only: bool
    margin_s: float = WATCHDOG_MARGIN_S

    @property
    def watchdog_s(self) -> float:
        return self.statement_timeout_ms / 1000 + self.margin_s


class _Guard:
    """The guards shared by both cursor kinds (psycopg placeholders and `$n` placeholders)."""

    def _execute_send(
        self, query: PostgresQuery, *, force_extended: bool = False, binary: bool | None = None
    ) -> None:
        text = query.query.decode(errors="replace")
        if statement_count(text) > 1:
            raise MultipleStatements(
                "refused to send more than one statement in one call to the target: "
                + " ".join(text.split())[:80]
            )
        if not query.query.startswith(TAG_BYTES):
            query.query = TAG_BYTES + query.query
        super()._execute_send(query, force_extended=True, binary=binary)  # type: ignore[misc]


class GuardedCursor(_Guard, psycopg.Cursor[Any]):
    """`%s` placeholders; one statement, extended protocol, watchdog (see the module docstring)."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> GuardedCursor:
        with watch(self.connection):
            super().execute(query, params, **kwargs)
        return self

    @contextlib.contextmanager
    def copy(self, statement: Any, params: Any = None, **kwargs: Any) -> Iterator[Any]:
        with watch(self.connection), super().copy(statement, params, **kwargs) as copy:
            yield copy


class GuardedRawCursor(_Guard, RawCursor[Any]):
    """`$n` placeholders (the text may hold `%`, as ILIKE patterns do); same guards."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> GuardedRawCursor:
        with watch(self.connection):
            super().execute(query, params, **kwargs)
        return self


class GuardedConnection(psycopg.Connection[Any]):
    """A target connection: its cursors are guarded and it knows its watchdog limit."""

    limits: Limits | None = None

    def raw_cursor(self) -> GuardedRawCursor:
        return GuardedRawCursor(self)


def raw_cursor(conn: Any) -> Any:
    """A `$n`-placeholder cursor on `conn`: guarded on a target connection, plain elsewhere."""
    if isinstance(conn, GuardedConnection):
        return conn.raw_cursor()
    return RawCursor(conn)


@contextlib.contextmanager
def watch(conn: Any) -> Iterator[None]:
    """Run the body under the watchdog of `conn` (a no-op on connections without limits).

    When the call outlives the limit: cancel it (the server answers with an error), and if the
    call is still blocked after that, shut the socket down so libpq's read fails. Either way the
    caller gets one TargetSessionError naming the limit."""
    limits = getattr(conn, "limits", None)
    if limits is None:
        yield
        return
    done = threading.Event()
    fired = threading.Event()

    def bark() -> None:
        if done.wait(limits.watchdog_s):
            return
        fired.set()
        with contextlib.suppress(Exception):
            conn.cancel_safe(timeout=CANCEL_WAIT_S)
        if done.wait(CANCEL_WAIT_S):
            return
        with contextlib.suppress(Exception):
            dup = socket.socket(fileno=os.dup(conn.pgconn.socket))
            try:
                dup.shutdown(socket.SHUT_RDWR)
            finally:
                dup.close()

    dog = threading.Thread(target=bark, name="pgpreflight-watchdog", daemon=True)
    dog.start()
    try:
        yield
    except Exception as exc:
        if fired.is_set():
            raise unresponsive(limits) from exc
        raise
    finally:
        done.set()
        dog.join(CANCEL_WAIT_S * 2 + 1)
    if fired.is_set():  # the cancel arrived just as the call finished: still too slow
        raise unresponsive(limits)


def unresponsive(limits: Limits) -> TargetSessionError:
    return TargetSessionError(
        f"the target did not answer within {limits.watchdog_s:g} s (statement_timeout "
        f"{limits.statement_timeout_ms / 1000:g} s + {limits.margin_s:g} s margin); the call "
        "was cancelled"
    )


SETTINGS = (
    "transaction_read_only",
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "standard_conforming_strings",
)

POOLER_HINT = (
    "a connection pooler such as PgBouncer may drop the startup 'options' parameter "
    "(ignore_startup_parameters); connect to PostgreSQL directly"
)


def verify(conn: Any, limits: Limits, where: str) -> None:
    """Read the session's settings back and refuse a session that is not what we asked for."""
    rows = conn.execute(
        "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", (list(SETTINGS),)
    ).fetchall()
    got = {str(name): str(value) for name, value in rows}
    wrong: list[str] = []
    if limits.read_only and got.get("transaction_read_only") != "on":
        wrong.append("not read-only")
    for name, want in (
        ("statement_timeout", limits.statement_timeout_ms),
        ("lock_timeout", limits.lock_timeout_ms),
        ("idle_in_transaction_session_timeout", limits.idle_timeout_ms),
    ):
        if got.get(name) != str(want):
            wrong.append(f"{name} is {got.get(name, 'unknown')}ms, not {want}ms")
    if got.get("standard_conforming_strings") != "on":
        wrong.append("standard_conforming_strings is off")
    if wrong:
        raise TargetSessionError(
            f"the target session ({where}) is {'; '.join(wrong)}, although pgpreflight set "
            f"these when connecting: {POOLER_HINT}"
        )
