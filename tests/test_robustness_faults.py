"""Faults with the real thing: a killed pgpreflight, a killed server, a stale scratch directory.
The first error wins, and nothing is left behind (no process, no directory)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pgpreflight.linter.pgserver import OWNER_FILE, ScratchServer, processes_using, reap_stale

REPO = Path(__file__).resolve().parents[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_dead(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return not _alive(pid)


@pytest.fixture
def parent_dir() -> Iterator[Path]:
    """A directory the unprivileged server user can traverse (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="pgpf-faults-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def _dead_token() -> str:
    """An owner token of a process that has exited."""
    finished = subprocess.Popen(["true"])
    finished.wait()
    return f"{finished.pid} 0"


def test_stale_server_of_a_dead_owner_is_stopped_and_removed(parent_dir: Path) -> None:
    old = ScratchServer(base_dir=parent_dir).start()
    try:
        pid, base = old.pid, old.base_dir
        assert pid is not None and base is not None and _alive(pid)
        owner = base / OWNER_FILE
        lines = owner.read_text().splitlines()
        owner.write_text("\n".join([_dead_token(), *lines[1:]]) + "\n")
        with ScratchServer(base_dir=parent_dir) as new:
            assert _wait_dead(pid, 15), "the stale postmaster still runs"
            assert not base.exists()
            assert processes_using(base / "data") == []
            with psycopg.connect(new.dsn) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        old.stop()
    assert list(parent_dir.iterdir()) == []


def test_a_running_owner_and_foreign_folders_are_left_alone(parent_dir: Path) -> None:
    foreign = parent_dir / "pgpreflight-not-ours"
    foreign.mkdir()
    (foreign / "keep").write_text("no owner file: not ours to remove")
    with ScratchServer(base_dir=parent_dir) as live:
        assert reap_stale(parent_dir) == []
        assert live.base_dir is not None and live.base_dir.exists()
    assert (foreign / "keep").exists()


OWNER = textwrap.dedent(
    """
    import sys, time
    from pgpreflight.linter.pgserver import ScratchServer
    server = ScratchServer(base_dir=sys.argv[1]).start()
    print(server.pid, server.base_dir, flush=True)
    time.sleep(300)
    """
)


def test_sigkill_of_pgpreflight_takes_the_server_down_and_the_next_run_cleans_up(
    parent_dir: Path,
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(parent_dir)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().split()
        assert line, child.stderr.read() if child.stderr else ""
        pid, base = int(line[0]), Path(line[1])
        assert _alive(pid)
        child.kill()  # SIGKILL: no handler, no atexit, no finally
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # The kernel sends the postmaster SIGQUIT when its parent dies (PR_SET_PDEATHSIG).
    assert _wait_dead(pid, 20), "the postmaster outlived the pgpreflight that started it"
    assert base.exists()  # nobody could remove it...
    with ScratchServer(base_dir=parent_dir):
        assert not base.exists()  # ...until the next run found its owner dead
    assert list(parent_dir.iterdir()) == []


def _history(folder: Path) -> Path:
    migrations = folder / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "202401010000__t.sql").write_text(
        "-- UP\nCREATE TABLE t (id bigint PRIMARY KEY);\n-- DOWN\nDROP TABLE t;\n"
    )
    (migrations / "202401020000__slow.sql").write_text(
        "-- UP\nSELECT pg_sleep(60);\n-- DOWN\nSELECT 1;\n"
    )
    return migrations


def _kill_when_sleeping(parent: Path, stop: threading.Event, backend: bool) -> None:
    """Find the scratch server under `parent`, wait until a statement sleeps in it, then SIGKILL
    the postmaster, or (`backend`) that statement's backend, after which the postmaster
    restarts."""
    while not stop.is_set():
        for pidfile in parent.glob("pgpreflight-*/data/postmaster.pid"):
            try:
                lines = pidfile.read_text().splitlines()
                postmaster, socket_dir = int(lines[0]), lines[4]
                with psycopg.connect(
                    host=socket_dir, dbname="postgres", user="postgres", connect_timeout=2
                ) as conn:
                    row = conn.execute(
                        "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' "
                        "AND pid <> pg_backend_pid()"
                    ).fetchone()
                if row:
                    os.kill(int(row[0]) if backend else postmaster, signal.SIGKILL)
                    return
            except (OSError, ValueError, IndexError, psycopg.Error):
                pass
        time.sleep(0.2)


def _check(tmpdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`pgpreflight check ARGS` with scratch servers under `tmpdir` and no PG* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["TMPDIR"] = str(tmpdir)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pgpreflight.linter",
            "check",
            "--quiet",
            "--no-explain",
            "--select",
            "syntax-error",
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _check_while_killing(
    parent: Path, args: list[str], *, backend: bool
) -> subprocess.CompletedProcess[str]:
    """`pgpreflight check ARGS` with TMPDIR=`parent`, while `_kill_when_sleeping` strikes."""
    stop = threading.Event()
    killer = threading.Thread(target=_kill_when_sleeping, args=(parent, stop, backend))
    killer.start()
    try:
        return _check(parent, *args)
    finally:
        stop.set()
        killer.join(timeout=30)


def test_server_killed_mid_migration_is_reported_as_such(parent_dir: Path, tmp_path: Path) -> None:
    proc = _check_while_killing(parent_dir, [str(_history(tmp_path))], backend=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "scratch server terminated unexpectedly (killed by signal 9)" in proc.stderr
    assert "while tracing migration 202401020000__slow" in proc.stderr
    assert "cannot drop database" not in proc.stderr.splitlines()[-1]
    assert "Traceback" not in proc.stderr
    assert list(parent_dir.glob("pgpreflight-*")) == []


def test_names_with_dots_and_quotes_round_trip(parent_dir: Path, tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "202401010000__dot.sql").write_text(
        '-- UP\nCREATE TABLE "my.table" (id bigint PRIMARY KEY, "a.b" text);\n'
        'CREATE INDEX "my.idx" ON "my.table" ("a.b");\n-- DOWN\nDROP TABLE "my.table";\n'
    )
    (migrations / "202401020000__dot2.sql").write_text(
        '-- UP\nALTER TABLE "my.table" ADD COLUMN "x""y" int;\n'
        '-- DOWN\nALTER TABLE "my.table" DROP COLUMN "x""y";\n'
    )
    proc = _check(parent_dir, str(migrations))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "202401010000__dot  PASSED" in proc.stdout
    assert 'destroys column "my.table"."x""y"' in proc.stdout


def test_catalog_names_split_as_postgresql_quotes_them() -> None:
    from pgpreflight.linter.check.catalog import join_name, qualify, split_name, sql_name

    assert qualify("public", "users") == "users"
    assert qualify("public", "my.table") == '"my.table"'
    assert qualify("My", "t") == '"My".t'
    key = f"{qualify('public', 'my.table')}.{join_name(['x' + chr(34) + 'y'])}"
    assert key == '"my.table"."x""y"'
    assert split_name(key) == ["my.table", 'x"y']
    assert join_name(split_name(key)) == key
    assert sql_name("users") == '"users"' and sql_name('"My".t') == '"My"."t"'


@pytest.fixture
def small_disk(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A real size-limited tmpfs (mounting needs root, which CI and these sessions are)."""
    size = request.param
    path = Path(tempfile.mkdtemp(prefix="pgpf-disk-", dir="/tmp"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        path.rmdir()
        pytest.fail(f"cannot mount a small tmpfs for the full-disk test: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)
        path.rmdir()


@pytest.mark.parametrize("small_disk", ["3m"], indirect=True)
def test_initdb_on_a_full_disk_says_so(small_disk: Path, tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "202401010000__t.sql").write_text(
        "-- UP\nCREATE TABLE t (id bigint PRIMARY KEY);\n-- DOWN\nDROP TABLE t;\n"
    )
    proc = _check(small_disk, str(migrations))
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert (
        last.startswith("pgpreflight: error: initdb failed:") and "No space left on device" in last
    )
    assert list(small_disk.iterdir()) == []


@pytest.mark.parametrize("small_disk", ["80m"], indirect=True)
def test_disk_filling_up_mid_migration_is_the_reported_error(
    small_disk: Path, tmp_path: Path
) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "202401010000__t.sql").write_text(
        "-- UP\nCREATE TABLE t (id bigint PRIMARY KEY);\n-- DOWN\nDROP TABLE t;\n"
    )
    (migrations / "202401020000__fill.sql").write_text(
        "-- UP\nINSERT INTO t SELECT generate_series(1, 5000000);\n-- DOWN\nDELETE FROM t;\n"
    )
    proc = _check(small_disk, str(migrations))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "scratch server ran out of disk space" in last and "No space left on device" in last
    assert "while tracing migration 202401020000__fill" in last
    assert "Traceback" not in proc.stderr
    assert list(small_disk.iterdir()) == []


def test_backend_killed_while_loading_data_names_the_cause(
    parent_dir: Path, tmp_path: Path
) -> None:
    migrations = _history(tmp_path)
    data = tmp_path / "seed.sql"
    data.write_text("INSERT INTO t VALUES (1);\nSELECT pg_sleep(60);\n")
    proc = _check_while_killing(
        parent_dir,
        ["--since", "202401020000", "--data", str(data), str(migrations)],
        backend=True,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "scratch server crashed and restarted" in last
    assert "terminated by signal 9" in last and "loading the baseline" in last
    assert list(parent_dir.glob("pgpreflight-*")) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_initdb_leaves_nothing(parent_dir: Path, signum: int) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(parent_dir)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # initdb has started writing, the server not yet
            started = [d for d in parent_dir.glob("pgpreflight-*/data") if any(d.iterdir())]
            if started and not (started[0] / "postmaster.pid").exists():
                break
            time.sleep(0.005)
        child.send_signal(signum)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    time.sleep(0.5)  # anything initdb could still write would show up by now
    assert list(parent_dir.iterdir()) == []
    assert subprocess.run(["pgrep", "-f", str(parent_dir)], capture_output=True).stdout == b""
