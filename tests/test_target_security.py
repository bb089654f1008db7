"""Issue 11, "untrusted migrations, a sacred target": attacks on the target session that were
reproduced for real, each one a test on two real servers (the session's scratch server, and a
second ScratchServer acting as the target, with pg_stat_statements preloaded).

- values read from the target (most-common values, samples) and comments of application query
  files, on a target whose database sets `standard_conforming_strings = off`;
- a connection pooler that drops the startup `options` (read-write, no timeouts);
- a frozen target (postmaster or backend stopped with SIGSTOP);
- pgpreflight's own queries read back from pg_stat_statements as workload;
- rows deleted on the target during the run while "target unchanged" said yes;
- two statements in one call, refused by us and, were our check bypassed, by the server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import shlex
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pgpreflight.linter.check import session as session_module
from pgpreflight.linter.check.runner import CheckOptions
from pgpreflight.linter.check.session import TAG, MultipleStatements
from pgpreflight.linter.check.target import TargetOptions, connect, run_target
from pgpreflight.linter.errors import PgPreflightError, TargetSessionError
from pgpreflight.linter.explain.workload import is_application_query, top_statements
from pgpreflight.linter.pgserver import ScratchServer
from psycopg.conninfo import conninfo_to_dict

from tests.check_support import migration

REPO = Path(__file__).resolve().parents[1]
HOSTILE = "\\'; COMMIT; BEGIN READ WRITE; DROP TABLE victim; COMMIT; --"
"""Breaks out of a client-quoted literal ('...''...') when standard_conforming_strings is off."""

_names = itertools.count(1)

BASELINE = """-- UP
CREATE TABLE victim (id serial PRIMARY KEY, kind text NOT NULL, note text NOT NULL);
-- DOWN
DROP TABLE victim;
"""
PENDING = """-- UP
CREATE INDEX victim_kind ON victim (kind);
-- DOWN
DROP INDEX victim_kind;
"""
QUERIES = f"""-- name: by_kind
-- {HOSTILE}
SELECT id, note FROM victim WHERE kind = $1 /* {HOSTILE} */;
"""


@pytest.fixture(scope="module")
def target_server() -> Iterator[ScratchServer]:
    """A second server, the target: pg_stat_statements must be preloaded to be installed."""
    settings = {"shared_preload_libraries": "'pg_stat_statements'"}
    with ScratchServer(
        os.environ.get("PGPREFLIGHT_TEST_PG_BIN") or None, settings=settings
    ) as server:
        yield server


def _new_db(server: ScratchServer) -> str:
    return server.create_database(f"target{os.getpid()}_{next(_names)}", template="template0")


def _has_hypopg(dsn: str) -> bool:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'")
        return row.fetchone() is not None


def _make_victim(dsn: str, rows: int = 200) -> None:
    """The victim table: the hostile text is its most common `kind` and in every `note`."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(BASELINE.split("-- DOWN")[0].removeprefix("-- UP"))
        conn.execute(
            "INSERT INTO victim (kind, note) SELECT CASE WHEN g %% 4 = 0 THEN 'k' || g ELSE %s "
            "END, %s || g FROM generate_series(1, %s) g",
            (HOSTILE, HOSTILE, rows),
        )
        conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY)")
        conn.execute("INSERT INTO schema_migrations VALUES ('202401010000')")
        conn.execute("ANALYZE")


def _dump(server: ScratchServer, dsn: str) -> str:
    """pg_dump of schema AND data (rows, sequence values) of the target."""
    proc = subprocess.run(
        [
            str(server.program("pg_dump")),
            "--no-owner",
            "--restrict-key=pgpreflighttest",
            "--dbname",
            dsn,
        ],
        capture_output=True,
        text=True,
        env=server.client_env(),
        timeout=120,
        check=True,
    )
    return proc.stdout


def _project(root: Path) -> None:
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "202401010000__victim.sql").write_text(BASELINE)
    (root / "migrations" / "202401020000__victim_kind.sql").write_text(PENDING)
    (root / "queries.sql").write_text(QUERIES)
    (root / "pgpreflight.toml").write_text(
        'migrations = ["migrations"]\nqueries = ["queries.sql"]\nexplain-runs = 1\n'
        "sample-rows = 1000\n"
    )


def _check(root: Path, dsn: str, result: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PYTHONPATH"] = str(REPO)
    args = [sys.executable, "-m", "linter", "check", "migrations", "--database", dsn]
    return subprocess.run(
        [*args, "--quiet", "--json", result],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def hostile_runs(target_server: ScratchServer, tmp_path_factory: Any) -> dict[str, Any]:
    """`pgpreflight check --database TARGET` run twice on a target whose database has
    standard_conforming_strings = off, HypoPG and pg_stat_statements, and hostile values."""
    dsn = _new_db(target_server)
    if not _has_hypopg(dsn):
        pytest.skip("HypoPG is not installed for this PostgreSQL")
    _make_victim(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION hypopg")
        conn.execute("CREATE EXTENSION pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset()")  # forget the set-up above
        for i in range(20):  # the application's workload
            conn.execute("SELECT id FROM victim WHERE kind = %s", (f"k{i * 4}",))
        dbname = conn.info.dbname
        conn.execute(f'ALTER DATABASE "{dbname}" SET standard_conforming_strings = off')
    root = tmp_path_factory.mktemp("hostile")
    _project(root)
    before = _dump(target_server, dsn)
    first = _check(root, dsn, "first.json")
    second = _check(root, dsn, "second.json")
    return {
        "dsn": dsn,
        "before": before,
        "after": _dump(target_server, dsn),
        "runs": [first, second],
        "results": [json.loads((root / n).read_text()) for n in ("first.json", "second.json")],
    }


def test_hostile_values_and_comments_leave_the_target_byte_identical(
    hostile_runs: dict[str, Any],
) -> None:
    for run in hostile_runs["runs"]:
        assert run.returncode in (0, 1), run.stderr[-2000:]
    assert hostile_runs["after"] == hostile_runs["before"]  # schema, rows, sequence values
    assert "CREATE TABLE public.victim" in hostile_runs["after"]
    check = hostile_runs["results"][0]["check"]
    # the hostile values did travel: HypoPG EXPLAINed the probes and the query on the target
    hypothetical = check["explain"]["hypothetical"]
    assert {h["index"] for h in hypothetical} == {"victim_kind"}
    assert any("most common value" in h["query"] for h in hypothetical)
    assert any("by_kind" in h["query"] for h in hypothetical)
    assert check["target"]["unchanged"] is True
    assert check["target"]["changes"] == []
    assert any("checksum" in c for c in check["target"]["covers"])
    import jsonschema
    from pgpreflight.linter.report.checklist import migrations_apply

    schema = json.loads((REPO / "linter" / "report" / "result-schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(hostile_runs["results"][0])
    item = migrations_apply(hostile_runs["results"][0])
    assert any(
        ln["text"].startswith("target unchanged after the run (compared: schema")
        for ln in item["evidence"]
    )
    assert hostile_runs["after"].count("\tk") == 50  # every row is still there (200 = 4 x 50)


def test_own_queries_are_never_read_back_as_workload(hostile_runs: dict[str, Any]) -> None:
    with psycopg.connect(hostile_runs["dsn"]) as conn:
        recorded = [
            str(r[0])
            for r in conn.execute(
                "SELECT query FROM pg_stat_statements WHERE dbid = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        ]
        statements, note = top_statements(conn, ["public.victim"], limit=50)
    # pg_stat_statements did record our tagged COPY and EXPLAINs...
    assert any(q.startswith(TAG.strip()) and "COPY" in q for q in recorded)
    assert any(q.startswith(TAG.strip()) and "EXPLAIN" in q for q in recorded)
    # ...and the workload is the application's queries only
    assert note is None
    texts = [" ".join(s.query.split()) for s in statements]
    assert texts == ["SELECT id FROM victim WHERE kind = $1"]
    listed = hostile_runs["results"][1]["check"]["target"]["stat_statements"]
    assert [" ".join(s["query"].split()) for s in listed] == [
        "SELECT id FROM victim WHERE kind = $1"
    ]
    second = hostile_runs["results"][1]["check"]["explain"]["queries"]
    workload = [q for q in second if q["origin"] == "workload"]
    assert [q["label"].split(" (")[0] for q in workload] == [
        "pg_stat_statements: SELECT id FROM victim WHERE kind = $1"
    ]


def test_is_application_query() -> None:
    assert is_application_query("/* app=web */ SELECT 1")
    assert is_application_query("WITH x AS (SELECT 1) SELECT * FROM x")
    assert not is_application_query(f"{TAG}SELECT count(*) FROM victim")
    assert not is_application_query("COPY (SELECT 1) TO STDOUT")
    assert not is_application_query("LOCK TABLE public.victim IN ACCESS SHARE MODE")


# -- a pooler that drops the startup options ------------------------------------------------


class OptionsDroppingProxy:
    """127.0.0.1:port -> the server's Unix socket, like PgBouncer with
    ignore_startup_parameters=options: answers 'N' to SSL/GSS requests and removes `options`
    from the StartupMessage."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.stripped: list[str] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    @staticmethod
    def _read(sock: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _serve(self, client: socket.socket) -> None:
        try:
            while True:
                (length,) = struct.unpack("!I", self._read(client, 4))
                body = self._read(client, length - 4)
                (code,) = struct.unpack("!I", body[:4])
                if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest
                    client.sendall(b"N")
                    continue
                break
            fields = body[4:].split(b"\0")
            pairs = dict(zip(fields[0::2], fields[1::2], strict=False))
            pairs.pop(b"", None)
            if b"options" in pairs:
                self.stripped.append(pairs.pop(b"options").decode())
            payload = body[:4] + b"".join(k + b"\0" + v + b"\0" for k, v in pairs.items()) + b"\0"
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.connect(self.socket_path)
            server.sendall(struct.pack("!I", len(payload) + 4) + payload)
        except (OSError, ConnectionError):
            client.close()
            return
        self._pump(client, server)

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        def copy(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)

        threading.Thread(target=copy, args=(b, a), daemon=True).start()
        copy(a, b)


def test_a_pooler_dropping_options_is_refused(target_server: ScratchServer, tmp_path: Path) -> None:
    dsn = _new_db(target_server)
    _make_victim(dsn, rows=10)
    before = _dump(target_server, dsn)
    assert target_server.socket_dir is not None
    proxy = OptionsDroppingProxy(str(target_server.socket_dir / ".s.PGSQL.5432"))
    try:
        dbname = conninfo_to_dict(dsn)["dbname"]
        proxied = f"host=127.0.0.1 port={proxy.port} dbname={dbname} user=postgres sslmode=disable"
        with pytest.raises(TargetSessionError) as err:
            connect(proxied, TargetOptions(dsn=proxied))
        message = str(err.value)
        assert "not read-only" in message and "statement_timeout" in message
        assert "PgBouncer" in message and "ignore_startup_parameters" in message
        assert "\n" not in message and err.value.exit_code == 2
        assert any("default_transaction_read_only=on" in s for s in proxy.stripped)
        # --execute-on-target sessions are not read-only, but their timeouts are checked alike
        with pytest.raises(TargetSessionError) as err:
            connect(proxied, TargetOptions(dsn=proxied, execute=True), read_only=False)
        assert "not read-only" not in str(err.value)
        assert "lock_timeout is 0ms, not 2000ms" in str(err.value)
        # the whole check stops there: exit 2, one line, no further session on the target
        _project(tmp_path)
        seen = proxy.connections
        run = _check(tmp_path, proxied, "result.json")
        assert run.returncode == 2, run.stdout + run.stderr
        assert "connection pooler such as PgBouncer" in run.stderr
        assert "Traceback" not in run.stderr
        assert proxy.connections == seen + 1
    finally:
        proxy.close()
    assert _dump(target_server, dsn) == before


# -- a frozen target -------------------------------------------------------------------------


def test_a_frozen_postmaster_is_a_clear_error_in_bounded_time(
    target_server: ScratchServer,
) -> None:
    dsn = _new_db(target_server) + " connect_timeout=2"
    pid = target_server.pid
    assert pid is not None
    started = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(PgPreflightError) as err:
            connect(dsn, TargetOptions(dsn=dsn))
    finally:
        os.kill(pid, signal.SIGCONT)
    assert time.monotonic() - started < 15
    assert err.value.exit_code == 2
    assert str(err.value).startswith("cannot connect to the target (host=")


def test_the_watchdog_wakes_a_call_to_a_frozen_backend(target_server: ScratchServer) -> None:
    dsn = _new_db(target_server)
    conn = connect(dsn, TargetOptions(dsn=dsn, statement_timeout="1s"))
    try:
        assert conn.limits is not None
        conn.limits = dataclasses.replace(conn.limits, margin_s=0.5)
        backend = conn.info.backend_pid
        os.kill(backend, signal.SIGSTOP)
        started = time.monotonic()
        try:
            with pytest.raises(TargetSessionError) as err:
                conn.execute("SELECT 1")
        finally:
            os.kill(backend, signal.SIGCONT)
        elapsed = time.monotonic() - started
        # statement_timeout + margin, then the cancel request's wait, then the socket is shut
        assert 1.4 < elapsed < 1.5 + 2 * session_module.CANCEL_WAIT_S + 2
        assert "did not answer within 1.5 s (statement_timeout 1 s + 0.5 s margin)" in str(
            err.value
        )
        assert err.value.exit_code == 2
    finally:
        conn.close()


# -- rows changed during the run -------------------------------------------------------------


def test_rows_deleted_during_the_run_make_unchanged_false(
    pg_server: ScratchServer, target_server: ScratchServer, tmp_path: Path
) -> None:
    dsn = _new_db(target_server)
    _make_victim(dsn, rows=50)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE bystander (id int PRIMARY KEY, v text)")
        conn.execute("INSERT INTO bystander SELECT g, 'v' || g FROM generate_series(1, 10) g")
    # a --test-command that reaches the target (say, through a leaked environment variable)
    code = (
        "import psycopg; c = psycopg.connect(" + repr(dsn) + ", autocommit=True); "
        "c.execute('DELETE FROM victim WHERE id = 1'); "
        "c.execute(\"UPDATE bystander SET v = 'changed' WHERE id = 3\"); c.close()"
    )
    migrations = [
        migration(
            tmp_path,
            *BASELINE.removeprefix("-- UP\n").split("-- DOWN\n"),
            name="202401010000__victim",
        ),
        migration(
            tmp_path, *PENDING.removeprefix("-- UP\n").split("-- DOWN\n"), name="202401020000__kind"
        ),
    ]
    options = CheckOptions(
        db_prefix=f"sec{next(_names)}",
        test_command=f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}",
    )
    result = run_target(migrations, options, TargetOptions(dsn=dsn), server=pg_server)
    assert result.tests is not None and result.tests["exit_code"] == 0, result.tests
    target = result.target
    assert target is not None and target.unchanged is False
    assert "victim: 50 rows before, 49 after" in target.changes
    assert "bystander: row contents changed (checksum)" in target.changes
    assert any("exact row counts" in c for c in target.covers)
    from pgpreflight.linter.report.check_text import render_check

    text = render_check(result.to_dict())
    assert "target unchanged after the run: NO" in text
    assert "changed: victim: 50 rows before, 49 after" in text
    from pgpreflight.linter.report.checklist import migrations_apply

    item = migrations_apply({"check": result.to_dict(), "migrations": []})
    assert item["status"] == "failed" and "target database changed" in item["summary"]
    (line,) = [ln["text"] for ln in item["evidence"] if "target CHANGED" in ln["text"]]
    assert "victim: 50 rows before, 49 after" in line and "(compared: schema" in line


# -- one statement per call --------------------------------------------------------------------


def test_two_statements_are_refused_before_sending_and_by_the_server(
    target_server: ScratchServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn = _new_db(target_server)
    _make_victim(dsn, rows=5)
    conn = connect(dsn, TargetOptions(dsn=dsn))
    try:
        with pytest.raises(MultipleStatements):
            conn.execute("SELECT 1; DROP TABLE victim")
        with pytest.raises(MultipleStatements):  # the scanner knows strings and comments
            conn.execute("SELECT '/*'; SELECT 2")
        assert conn.execute("SELECT ';' /* ; */ -- ;\n").fetchone() == (";",)
        # were the client check bypassed, the extended protocol makes the server refuse
        monkeypatch.setattr(session_module, "statement_count", lambda text: 1)
        with pytest.raises(psycopg.errors.SyntaxError, match="multiple commands"):
            conn.execute("SELECT 1; DROP TABLE victim")
    finally:
        conn.close()
    with psycopg.connect(dsn) as check:
        assert check.execute("SELECT count(*) FROM victim").fetchone() == (5,)
