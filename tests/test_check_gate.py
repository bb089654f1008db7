"""What fails `pgpreflight check`: a migration that does not apply or round-trip (or a failing
--test-command), and lint findings only with --lint-fail-on. An empty file is "empty", a DOWN
that does not parse does not keep the valid UP from being traced, and a CONCURRENTLY statement
in a DOWN the runner wraps in a transaction fails the round trip."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

from pgpreflight.linter.check.result import CheckResult
from pgpreflight.linter.check.runner import CheckOptions, check_on_server
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.pgserver import ScratchServer

from tests.check_support import migration

REPO = Path(__file__).resolve().parents[1]
_runs = itertools.count(1)


def _check(server: ScratchServer, history: list[Migration], first: int = 0) -> CheckResult:
    opts = CheckOptions(db_prefix=f"gate{next(_runs)}")
    return check_on_server(server, history, first, opts, CheckResult("scratch", None))


def _cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({"TMPDIR": str(tmp_path), "PYTHONPATH": str(REPO)})
    return subprocess.run(
        [sys.executable, "-m", "pgpreflight.linter", "check", "--quiet", "--no-explain", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_lint_findings_gate_check_only_with_lint_fail_on(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "202401010000__t.sql").write_text(
        "-- UP\nCREATE TABLE t (id int PRIMARY KEY, code text NOT NULL);\n-- DOWN\nDROP TABLE t;\n"
    )
    (folder / "202401020000__idx.sql").write_text(
        "-- UP\nCREATE INDEX t_code ON t (code);\n-- DOWN\nDROP INDEX t_code;\n"
    )
    plain = _cli([str(folder), "--since", "202401020000"], tmp_path)
    assert "require-concurrent-index" in plain.stdout
    assert "all passed" in plain.stdout
    assert plain.returncode == 0, plain.stdout + plain.stderr
    gated = _cli([str(folder), "--since", "202401020000", "--lint-fail-on", "error"], tmp_path)
    assert gated.returncode == 1, gated.stdout + gated.stderr


def test_check_help_documents_the_gate() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pgpreflight.linter", "check", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"},
        timeout=60,
    )
    assert "--lint-fail-on" in proc.stdout
    assert "fails to apply or round-trip" in proc.stdout


def test_an_empty_file_is_empty_not_failed(pg_server: ScratchServer, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "202401010000__noop.sql").write_text("-- UP\n-- nothing yet\n-- DOWN\n")
    (folder / "202401020000__t.sql").write_text(
        "-- UP\nCREATE TABLE t (id int);\n-- DOWN\nDROP TABLE t;\n"
    )
    (folder / "202401030000__blank.up.sql").write_text("\n")
    (folder / "202401030000__blank.down.sql").write_text("\n")
    result = _check(pg_server, discover([folder]))
    assert [m.status for m in result.migrations] == ["empty", "passed", "empty"]
    assert not result.failed
    assert not [n for n in result.migrations[0].notes if "schema before" in n]


def test_a_down_syntax_error_does_not_skip_the_valid_up(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    bad_down = migration(
        tmp_path, "CREATE TABLE t (id int);", "DROPP TABLE t;", name="202401010000__t"
    )
    after = migration(
        tmp_path,
        "ALTER TABLE t ADD COLUMN c int;",
        "ALTER TABLE t DROP COLUMN c;",
        name="202401020000__c",
    )
    result = _check(pg_server, [bad_down, after])
    first, second = result.migrations
    assert first.up.status == "ok"
    assert first.status == "round-trip failed"
    assert first.round_trip.verdict == "fail"
    assert "syntax error" in (first.round_trip.reason or "")
    # the next migration runs on the schema after the traced UP
    assert second.status == "passed", [s.error for s in second.up.statements]


def test_concurrently_in_a_down_the_runner_wraps_fails_the_round_trip(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    base = migration(tmp_path, "CREATE TABLE t (id int, c int);", name="202401010000__t")
    m = migration(
        tmp_path,
        "DROP INDEX IF EXISTS t_c;",
        "CREATE INDEX CONCURRENTLY t_c ON t (c);\nDROP INDEX t_c;",
        name="202401020000__idx",
    )
    result = _check(pg_server, [base, m], first=1)
    check = result.migrations[0]
    assert check.status == "round-trip failed", check.round_trip
    assert "25001" in (check.round_trip.reason or "")
    assert result.failed


def test_concurrently_in_an_up_the_runner_wraps_fails_the_migration(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    base = migration(tmp_path, "CREATE TABLE t (id int, c int);", name="202401010000__t")
    m = migration(
        tmp_path,
        "CREATE INDEX CONCURRENTLY t_c ON t (c);",
        "DROP INDEX IF EXISTS t_c;",
        name="202401020000__idx",
    )
    result = _check(pg_server, [base, m], first=1)
    check = result.migrations[0]
    assert check.status == "failed"
    assert "25001" in check.notes[0]


def test_the_output_states_the_server_version_next_to_the_requested_one(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "202401010000__t.sql").write_text(
        "-- UP\nCREATE TABLE t (id int PRIMARY KEY);\n-- DOWN\nDROP TABLE t;\n"
    )
    proc = _cli([str(folder), "--pg-version", "18"], tmp_path)
    head = next(line for line in proc.stdout.splitlines() if line.startswith("pgpreflight check:"))
    assert "PostgreSQL 18." in head and "pg-version 18 requested" in head, proc.stdout
    missing = _cli([str(folder), "--pg-version", "9.6"], tmp_path)
    assert missing.returncode == 2 and "--allow-version-mismatch" in missing.stderr
    allowed = _cli([str(folder), "--pg-version", "9.6", "--allow-version-mismatch"], tmp_path)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "pg-version 9.6 requested, but the scratch server is PostgreSQL" in allowed.stdout
