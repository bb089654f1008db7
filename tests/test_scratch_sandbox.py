"""The scratch server is a sandbox for migrations, which are untrusted code (issue 11).

Each reproduced attack is a test on real servers: a migration reaching the OS (COPY ... PROGRAM,
server files, /proc/self/environ), another cluster (dblink to a second server), the server's
environment, and `--test-command` inheriting the target's credentials. Then the ways back:
allow-listed extensions, trusted extensions, `--scratch-superuser`.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pgpreflight.linter.check.result import CheckResult, MigrationCheck
from pgpreflight.linter.check.runner import CheckOptions, check_on_server
from pgpreflight.linter.check.sandbox import SUPERUSER_WARNING, Sandbox
from pgpreflight.linter.config import validate
from pgpreflight.linter.errors import ConfigError
from pgpreflight.linter.pgserver import FALLBACK_USER, MIGRATOR, ScratchServer
from pgpreflight.linter.report.check_text import render_check

from tests.check_support import migration

REPO = Path(__file__).resolve().parents[1]
_runs = itertools.count(1)

# Values the caller's environment holds; none may reach the server or the test command.
SECRETS = {
    "PGPASSWORD": "pgpassword-marker-7f3a",
    "PGPREFLIGHT_DATABASE_URL": "postgresql://postgres:url-marker-91c2@/victimdb",
    "DATABASE_URL": "postgresql://postgres:dburl-marker-5d0e@/victimdb",
    "API_TOKEN": "token-marker-c4b8",
}


@pytest.fixture(scope="module")
def other_server() -> Iterator[ScratchServer]:
    """A second server, standing for another cluster on the machine (or the target), started
    while the caller's environment holds credentials; `victimdb.victim` has three rows."""
    with pytest.MonkeyPatch.context() as env:
        for key, value in SECRETS.items():
            env.setenv(key, value)
        env.setenv("PGHOST", "/nonexistent-marker")
        server = ScratchServer().start()
    try:
        server.create_database("victimdb", template="template0", owner="postgres")
        with psycopg.connect(server.conninfo("victimdb"), autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE victim (id int PRIMARY KEY, v text);"
                "INSERT INTO victim VALUES (1, 'a'), (2, 'b'), (3, 'c')"
            )
        yield server
    finally:
        server.stop()


@pytest.fixture
def drop_dir() -> Iterator[Path]:
    """A directory the server's OS user could write to, so a COPY ... TO PROGRAM that is not
    stopped by the sandbox would leave its file there (see the --scratch-superuser test)."""
    path = Path(tempfile.mkdtemp(prefix="sandbox-drop-", dir="/tmp"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _victims(server: ScratchServer) -> list[tuple[Any, ...]]:
    with psycopg.connect(server.conninfo("victimdb")) as conn:
        rows = conn.execute("SELECT * FROM victim ORDER BY id").fetchall()
        tables = conn.execute("SELECT count(*) FROM pg_class WHERE relname = 'pwned'").fetchone()
    assert tables == (0,), "a table was created on the other server"
    return rows


def _check(
    server: ScratchServer, tmp_path: Path, up: str, down: str | None = None, **sandbox: Any
) -> CheckResult:
    m = migration(tmp_path, up, down)
    opts = CheckOptions(db_prefix=f"sb{next(_runs)}", sandbox=Sandbox(**sandbox))
    result = CheckResult(mode="scratch", server=None)
    return check_on_server(server, [m], 0, opts, result)


def _denied(check: MigrationCheck, extension: bool = False) -> None:
    """Failed on a statement PostgreSQL refused (42501), with the needs-superuser note on the
    statement and first among the migration's notes; the extension allow-list is offered only
    for an extension."""
    assert check.status == "failed"
    failed = [st for st in check.up.statements if st.status == "error"]
    assert failed and failed[0].error is not None
    assert failed[0].error.sqlstate == "42501", failed[0].error.message
    assert any(n.startswith("needs superuser:") for n in failed[0].notes)
    assert check.notes[0].startswith("up line ")
    assert "--scratch-superuser" in check.notes[0]
    assert ("scratch-extensions" in check.notes[0]) == extension, check.notes[0]


def test_copy_to_program_is_refused(
    pg_server: ScratchServer, tmp_path: Path, drop_dir: Path
) -> None:
    marker = drop_dir / "x"
    check = _check(pg_server, tmp_path, f"COPY (SELECT 1) TO PROGRAM 'touch {marker}';")
    _denied(check.migrations[0])
    assert not marker.exists()


@pytest.mark.parametrize(
    "up",
    [
        "CREATE TABLE t (x text); COPY t FROM '/proc/self/environ';",
        "SELECT pg_read_file('/proc/self/environ');",
        "SELECT lo_import('/proc/self/environ');",
        "ALTER SYSTEM SET work_mem = '1MB';",
        "GRANT pg_execute_server_program TO CURRENT_USER;",
        "GRANT pg_read_server_files TO CURRENT_USER;",
        "CREATE EXTENSION file_fdw;",
    ],
)
def test_server_files_and_superuser_powers_are_refused(
    pg_server: ScratchServer, tmp_path: Path, up: str
) -> None:
    _denied(_check(pg_server, tmp_path, up).migrations[0], extension="EXTENSION" in up)


def test_disable_trigger_all_on_a_table_with_foreign_keys_says_why_it_needs_a_superuser(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    # lemmy: DISABLE TRIGGER ALL reaches the foreign keys' system triggers; its runner migrates
    # as a superuser
    up = (
        "CREATE TABLE p (id int PRIMARY KEY);\n"
        "CREATE TABLE c (p_id int REFERENCES p);\n"
        "ALTER TABLE c DISABLE TRIGGER ALL;"
    )
    check = _check(pg_server, tmp_path, up).migrations[0]
    _denied(check)
    assert "system triggers" in check.notes[0] and "DISABLE TRIGGER USER" in check.notes[0]
    assert _check(pg_server, tmp_path, up, superuser=True).migrations[0].status == "passed"


def test_dblink_cannot_reach_another_cluster(
    pg_server: ScratchServer, other_server: ScratchServer, tmp_path: Path
) -> None:
    before = _victims(other_server)
    conn = f"host={other_server.socket_dir} port=5432 user=postgres dbname=victimdb"
    up = f"""
        CREATE EXTENSION dblink;
        SELECT dblink_exec('{conn}', 'DELETE FROM victim; CREATE TABLE pwned (x int)');
    """
    _denied(_check(pg_server, tmp_path, up).migrations[0], extension=True)
    assert _victims(other_server) == before

    # Allow-listed, the superuser creates dblink for the migration; the migration role still
    # cannot connect anywhere without a password of its own (dblink's rule for non-superusers).
    check = _check(pg_server, tmp_path, up, extensions=("dblink",)).migrations[0]
    created, called = check.up.statements
    assert created.status == "ok", created.error
    assert "allow-listed in scratch-extensions" in created.notes[0]
    assert called.status == "error" and called.error is not None
    assert "password" in called.error.message
    assert _victims(other_server) == before


def test_server_runs_as_its_own_user_with_a_clean_environment(
    other_server: ScratchServer,
) -> None:
    pid = other_server.pid
    assert pid is not None
    status = Path(f"/proc/{pid}/status").read_text()
    uid = int(status.split("Uid:")[1].split()[0])
    if os.geteuid() == 0:
        assert pwd.getpwuid(uid).pw_name == FALLBACK_USER != "postgres"
    else:
        assert uid == os.geteuid()
    environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0")
    names = {line.split("=", 1)[0] for line in environ if line}
    assert not {n for n in names if n.startswith("PG") or "DATABASE_URL" in n}, names
    assert "API_TOKEN" not in names
    text = "\0".join(environ)
    for value in [*SECRETS.values(), "/nonexistent-marker"]:
        assert value not in text
    with psycopg.connect(other_server.dsn) as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = %s",
            (MIGRATOR,),
        ).fetchone()
    assert row is not None and row[0] is False and row[1] is False
    assert row[2] is (other_server.major_version >= 16)


def test_test_command_gets_no_credentials_and_cannot_reach_the_target(
    other_server: ScratchServer, tmp_path: Path
) -> None:
    """A real check through the command line, with the caller's environment pointing at the
    other server (so target mode reads it); the test command sees only the scratch database."""
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "202401011200__note.sql").write_text(
        "-- UP\nALTER TABLE victim ADD COLUMN note text;\n"
        "-- DOWN\nALTER TABLE victim DROP COLUMN note;\n"
    )
    dump, who = tmp_path / "env.txt", tmp_path / "who.txt"
    psql = other_server.program("psql")
    command = (
        f"env > {dump}; {psql} -Atc 'SELECT current_user, inet_server_port() IS NULL' > {who};"
        f" {psql} -c 'DELETE FROM victim'"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    url = f"postgresql://postgres:url-marker-91c2@/victimdb?host={other_server.socket_dir}"
    env.update(SECRETS, PGPREFLIGHT_DATABASE_URL=url, DATABASE_URL=url, PYTHONPATH=str(REPO))
    env.update(PGHOST=str(other_server.socket_dir), PGPORT="5432", PGUSER="postgres")
    env.update(PGDATABASE="victimdb")
    before = _victims(other_server)
    argv = [sys.executable, "-m", "pgpreflight.linter", "check", str(tmp_path / "migrations")]
    proc = subprocess.run(
        [*argv, "--no-explain", "--quiet", "--test-command", command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "target (read-only)" in proc.stdout, proc.stderr
    assert "202401011200__note" in proc.stdout and "FAILED" not in proc.stdout, proc.stdout
    seen = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    for key in ("PGPASSWORD", "PGPREFLIGHT_DATABASE_URL", "DATABASE_URL"):
        assert SECRETS[key] not in dump.read_text()
    assert (
        "url-marker" not in dump.read_text()
        and str(other_server.socket_dir) not in dump.read_text()
    )
    assert "PGPASSWORD" not in seen and "PGPREFLIGHT_DATABASE_URL" not in seen
    assert seen["PGUSER"] == MIGRATOR and seen["DATABASE_URL"].startswith(
        f"postgresql://{MIGRATOR}@/"
    )
    assert seen["PGHOST"] != str(other_server.socket_dir)
    assert who.read_text().strip() == f"{MIGRATOR}|t"
    assert _victims(other_server) == before


def test_scratch_superuser_opts_out_with_a_warning(
    pg_server: ScratchServer, tmp_path: Path, drop_dir: Path
) -> None:
    marker = drop_dir / "x"
    check = _check(
        pg_server, tmp_path, f"COPY (SELECT 1) TO PROGRAM 'touch {marker}';", superuser=True
    )
    errors = [st.error for st in check.migrations[0].up.statements]
    assert check.migrations[0].status == "passed", errors
    assert marker.exists()
    assert SUPERUSER_WARNING in check.notes
    assert SUPERUSER_WARNING in render_check(check.to_dict())


def test_trusted_extension_works_as_the_migration_role(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    up = """
        CREATE EXTENSION IF NOT EXISTS pgcrypto;
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE TABLE t (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), h bytea, name text);
        CREATE INDEX t_name_trgm ON t USING gin (name gin_trgm_ops);
        DO $$ BEGIN IF current_user <> 'pgpf_migrator' THEN RAISE 'not the migration role';
        END IF; END $$;
    """
    down = "DROP TABLE t; DROP EXTENSION pg_trgm; DROP EXTENSION pgcrypto;"
    check = _check(pg_server, tmp_path, up, down).migrations[0]
    assert check.status == "passed", (check.notes, [s.error for s in check.up.statements])
    assert check.round_trip is not None and check.round_trip.verdict == "pass"


def test_config_keys_are_validated() -> None:
    assert validate({"scratch-extensions": ["postgis"], "scratch-superuser": True}, "t")
    with pytest.raises(ConfigError, match="scratch-superuser"):
        validate({"scratch-superuser": "yes"}, "t")
    with pytest.raises(ConfigError, match="scratch-extensions"):
        validate({"scratch-extensions": ["postgis; DROP"]}, "t")


def test_scratch_superuser_flag_through_the_cli(tmp_path: Path, drop_dir: Path) -> None:
    marker = drop_dir / "cli"
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "202401011200__copy.sql").write_text(
        f"-- UP\nCOPY (SELECT 1) TO PROGRAM 'touch {marker}';\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PYTHONPATH=str(REPO))
    argv = [sys.executable, "-m", "pgpreflight.linter", "check", str(tmp_path / "migrations")]
    plain = subprocess.run(
        [*argv, "--no-explain", "--quiet", "--scratch"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert plain.returncode == 1 and "needs superuser" in plain.stdout, plain.stdout
    assert not marker.exists()
    opted = subprocess.run(
        [*argv, "--no-explain", "--quiet", "--scratch", "--scratch-superuser"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert SUPERUSER_WARNING in opted.stdout, opted.stdout + opted.stderr
    assert marker.exists()


def test_objects_restored_from_a_target_belong_to_the_migration_role(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path
) -> None:
    """pg_restore --no-owner ran as the superuser; the migrations still alter what they find,
    as the production migration user that owns them would."""
    from pgpreflight.linter.check.target import TargetOptions, run_target

    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute(
            "CREATE SCHEMA app; CREATE TYPE app.mood AS ENUM ('ok');"
            "CREATE DOMAIN app.positive AS int CHECK (VALUE > 0);"
            "CREATE TABLE app.t (id serial PRIMARY KEY, n app.positive, m app.mood);"
            "CREATE SEQUENCE app.free_seq; CREATE VIEW app.v AS SELECT id FROM app.t;"
            "CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 1';"
            "CREATE MATERIALIZED VIEW app.mv AS SELECT 1 AS one"
        )
    up = """
        ALTER TABLE app.t ADD COLUMN note text;
        ALTER TYPE app.mood RENAME VALUE 'ok' TO 'fine';
        ALTER DOMAIN app.positive SET DEFAULT 1;
        ALTER SEQUENCE app.free_seq RESTART WITH 10;
        ALTER SEQUENCE app.t_id_seq RESTART WITH 10;
        CREATE OR REPLACE VIEW app.v AS SELECT id, note FROM app.t;
        CREATE OR REPLACE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 2';
        COMMENT ON MATERIALIZED VIEW app.mv IS 'owned by the migration role';
        CREATE TABLE app.new (id int);
    """
    m = migration(tmp_path, up)
    result = run_target(
        [m],
        CheckOptions(db_prefix=f"sb{next(_runs)}"),
        TargetOptions(dsn=pg_db, sample_rows=10),
        server=pg_server,
    )
    check = result.migrations[0]
    assert check.status == "passed", [(s.sql, s.error) for s in check.up.statements if s.error]
    assert not [n for n in result.notes if "not handed" in n], result.notes
