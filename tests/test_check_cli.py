"""`pgpreflight check` end to end through the command line: the example project on a fresh
scratch server (nothing left behind), target mode through --database, and usage errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.pgserver import ScratchServer, processes_using

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "examples" / "assist-move-assist"
EXAMPLE = PROJECT / "apps" / "backend" / "src" / "database" / "migrations"


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pgpf-cli-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def _run(
    args: list[str], tmpdir: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    clean.update({"TMPDIR": str(tmpdir), "PYTHONPATH": str(REPO)}, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "pgpreflight.linter", "check", *args],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_example_project_on_a_fresh_scratch_server(private_tmp: Path, tmp_path: Path) -> None:
    saved = tmp_path / "result.json"
    # --no-explain: the EXPLAIN step has its own tests; this one is about the trace
    # the project folder, as a user types it: its pgpreflight.toml names the migrations
    proc = _run([str(PROJECT), "--quiet", "--no-explain", "--json", str(saved)], private_tmp)
    assert proc.returncode == 1, proc.stderr  # one migration fails its round trip
    out = proc.stdout
    assert "202404101130__adicionar_campos_oficinas  ROUND-TRIP FAILED" in out
    assert "SHARE oficinas" in out and "writes, DDL (lock_timeout 2s)" in out
    assert "column oficinas.link_inscricao left behind by DOWN" in out
    total = len(discover([EXAMPLE]))
    assert f"baseline: 0 migration(s); pending: {total}; transactions: auto" in out
    check = json.loads(saved.read_text())["check"]
    assert check["version"] == 1 and check["mode"] == "scratch"
    assert check["server"]["major"] >= 15 and check["server"]["start_s"] > 0
    by_id = {m["id"]: m for m in check["migrations"]}
    assert len(by_id) == total
    bad = by_id["202404101130__adicionar_campos_oficinas"]
    assert bad["status"] == "round-trip failed"
    assert "oficinas.link_inscricao" in bad["round_trip"]["reason"]
    assert [d["name"] for d in bad["round_trip"]["down_differences"]] == ["oficinas.link_inscricao"]
    assert "link_inscricao" in bad["round_trip"]["pg_dump_diff"]
    # the plain CREATE INDEX on an existing table blocks writes; the CIC ones do not
    index = next(s for s in bad["up"]["statements"] if s["kind"] == "IndexStmt")
    assert {lk["mode"] for lk in index["locks"] if lk["object"] == "oficinas"} == {"SHARE"}
    assert (
        "INSERT/UPDATE/DELETE"
        in next(lk for lk in index["locks"] if lk["object"] == "oficinas")["blocks"]
    )
    ok = [m for m in check["migrations"] if m["status"] == "passed"]
    assert len(ok) == total - 1 and all(
        m["round_trip"]["verdict"] in ("pass", "no down") for m in ok
    )
    assert {p["kind"] for p in check["postconditions"]} == {"fk-without-index"}
    # nothing left behind: the scratch directory lived in TMPDIR and no process uses it
    assert list(private_tmp.iterdir()) == []
    assert processes_using(private_tmp) == []


def test_target_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from pgpreflight.linter.check_cli import target_dsn

    args = argparse.Namespace(database=None, scratch=False)
    for name in ("PGPREFLIGHT_DATABASE_URL", "PGHOST", "PGDATABASE", "PGSERVICE"):
        monkeypatch.delenv(name, raising=False)
    assert target_dsn(args) is None
    monkeypatch.setenv("PGDATABASE", "shop")
    assert target_dsn(args) == ""  # libpq reads the PG* variables
    monkeypatch.setenv("PGPREFLIGHT_DATABASE_URL", "postgresql:///staging")
    assert target_dsn(args) == "postgresql:///staging"
    assert target_dsn(argparse.Namespace(database="dbname=x", scratch=False)) == "dbname=x"
    assert target_dsn(argparse.Namespace(database=None, scratch=True)) is None


def test_target_mode_through_the_cli_never_prints_the_password(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path, private_tmp: Path
) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "202401010000__t.sql").write_text(
        "-- UP\nCREATE TABLE t (id bigint PRIMARY KEY);\n-- DOWN\nDROP TABLE t;\n"
    )
    (folder / "202401020000__c.sql").write_text(
        "-- UP\nALTER TABLE t ADD COLUMN c text;\n-- DOWN\nALTER TABLE t DROP COLUMN c;\n"
    )
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE t (id bigint PRIMARY KEY); CREATE TABLE schema_migrations (version text)"
        )
        conn.execute("INSERT INTO schema_migrations VALUES ('202401010000')")
    dsn = pg_db + " password=s3cret-pw"
    proc = _run(
        [
            str(folder),
            "--format",
            "json",
            "--no-explain",
            "--database",
            dsn,
            "--pg-bin",
            str(pg_server.binaries.bindir),
        ],
        private_tmp,
    )
    assert "s3cret-pw" not in proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert data["check"]["mode"] == "target (read-only)"
    assert data["check"]["pending"] == ["202401020000__c"]
    assert data["check"]["target"]["unchanged"] is True


def test_setup_and_data_are_for_the_scratch_server_not_a_target(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path, private_tmp: Path
) -> None:
    """Against a target, --setup is not run and --data not loaded, and the result says so; the
    EXPLAIN evidence names the data it really ran on (the target's sample), not the file."""
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "202401010000__t.sql").write_text(
        "-- UP\nCREATE TABLE t (id bigint PRIMARY KEY, c int);\n-- DOWN\nDROP TABLE t;\n"
    )
    (folder / "202401020000__c.sql").write_text(
        "-- UP\nCREATE INDEX t_c ON t (c);\n-- DOWN\nDROP INDEX t_c;\n"
    )
    (tmp_path / "setup.sql").write_text("CREATE ROLE never_made;\n")
    (tmp_path / "seed.sql").write_text("INSERT INTO t VALUES (1, 1);\n")
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE t (id bigint PRIMARY KEY, c int); "
            "CREATE TABLE schema_migrations (version text)"
        )
        conn.execute("INSERT INTO schema_migrations VALUES ('202401010000')")
    saved = tmp_path / "result.json"
    proc = _run(
        [
            str(folder),
            "--quiet",
            "--database",
            pg_db,
            "--pg-bin",
            str(pg_server.binaries.bindir),
            "--setup",
            str(tmp_path / "setup.sql"),
            "--data",
            str(tmp_path / "seed.sql"),
            "--json",
            str(saved),
        ],
        private_tmp,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    check = json.loads(saved.read_text())["check"]
    assert check["setup"] is None and check["data"] == "sample of the target"
    assert any(n.startswith(f"setup {tmp_path / 'setup.sql'} not run") for n in check["notes"])
    assert any(n.startswith(f"--data {tmp_path / 'seed.sql'} not loaded") for n in check["notes"])
    assert check["explain"]["data"]["source"] == "sample of the target"
    with psycopg.connect(pg_server.dsn) as conn:
        assert conn.execute("SELECT FROM pg_roles WHERE rolname = 'never_made'").fetchone() is None


def test_setup_in_the_configuration_is_relative_to_it(tmp_path: Path, private_tmp: Path) -> None:
    project = tmp_path / "project"
    (project / "db" / "migrations").mkdir(parents=True)
    (project / "db" / "migrations" / "202401010000__t.sql").write_text(
        "-- UP\nCREATE TABLE app.t (id int);\n-- DOWN\nDROP TABLE app.t;\n"
    )
    (project / "db" / "setup.sql").write_text("CREATE SCHEMA app;\n")
    (project / "pgpreflight.toml").write_text(
        'migrations = ["db/migrations"]\nsetup = "db/setup.sql"\n'
    )
    proc = _run([str(project), "--quiet", "--no-explain"], private_tmp)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert f"setup: {project / 'db' / 'setup.sql'}" in proc.stdout
    missing = _run([str(project), "--quiet", "--setup", "nope.sql"], private_tmp)
    assert missing.returncode == 2
    assert missing.stderr == "pgpreflight: error: --setup nope.sql: no such file\n"


def test_unreachable_target_is_exit_code_2_with_one_line(tmp_path: Path, private_tmp: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "202401010000__t.sql").write_text(
        "-- UP\nCREATE TABLE t (id int);\n-- DOWN\nDROP TABLE t;\n"
    )
    proc = _run(
        [
            str(folder),
            "--database",
            "postgresql://app:s3cret-pw@127.0.0.1:1/shop?connect_timeout=3",
        ],
        private_tmp,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(
        "pgpreflight: error: cannot connect to the target"
    )
    assert "host=127.0.0.1 dbname=shop" in proc.stderr and "s3cret-pw" not in proc.stderr


def test_execute_on_target_needs_a_target(tmp_path: Path, private_tmp: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "202401010000__t.sql").write_text("-- UP\nCREATE TABLE t (id int);\n")
    proc = _run([str(folder), "--execute-on-target"], private_tmp)
    assert proc.returncode == 2 and "--execute-on-target needs a target" in proc.stderr


def test_ctrl_c_during_a_check_leaves_nothing_behind(private_tmp: Path) -> None:
    import signal
    import time

    clean = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    clean.update({"TMPDIR": str(private_tmp), "PYTHONPATH": str(REPO)})
    import pty

    # stderr is a terminal, as for a person at the keyboard: progress names each trace step
    master, slave = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "pgpreflight.linter", "check", "--no-explain", str(EXAMPLE)],
        cwd=REPO,
        env=clean,
        stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    try:
        seen = b""
        while b"trace 202401151000" not in seen:  # interrupt in the middle of the traces
            chunk = os.read(master, 4096)
            assert chunk, "the check ended before reaching the traces"
            seen += chunk
        assert any(private_tmp.iterdir())  # the scratch server is running
        child.send_signal(signal.SIGINT)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(master)
    assert child.returncode == 130
    time.sleep(0.2)
    assert list(private_tmp.iterdir()) == []
    assert processes_using(private_tmp) == []
