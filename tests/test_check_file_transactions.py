"""A file's own COMMIT/BEGIN (sql-migrate style) replayed as the runner runs it: the runner's
BEGIN first, the file's statements as written, the runner's COMMIT last, which commits the
transaction the file's last BEGIN opened -- in the trace and in the baseline replay."""

from __future__ import annotations

import itertools
from pathlib import Path

from pgpreflight.linter.check.result import CheckResult
from pgpreflight.linter.check.runner import CheckOptions, check_on_server
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.pgserver import ScratchServer

_runs = itertools.count(1)

SPLIT = """-- +migrate Up
CREATE TABLE a (id int);
COMMIT;
BEGIN;
CREATE TABLE b (id int);

-- +migrate Down
DROP TABLE b;
DROP TABLE a;
"""

NEXT = """-- +migrate Up
ALTER TABLE b ADD COLUMN x int;

-- +migrate Down
ALTER TABLE b DROP COLUMN x;
"""


def _history(tmp_path: Path) -> list[Migration]:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "1_split.sql").write_text(SPLIT, encoding="utf-8")
    (folder / "2_next.sql").write_text(NEXT, encoding="utf-8")
    return discover([folder])


def _check(server: ScratchServer, history: list[Migration], first: int) -> CheckResult:
    opts = CheckOptions(db_prefix=f"ft{next(_runs)}")
    return check_on_server(server, history, first, opts, CheckResult("scratch", None))


def test_the_transaction_a_file_leaves_open_is_committed_by_the_runner(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    history = _history(tmp_path)
    assert [m.convention for m in history] == ["sql-migrate", "sql-migrate"]
    result = _check(pg_server, history, 0)
    split, after = result.migrations
    assert split.status == "passed", (split.up, split.round_trip)
    assert any("the runner's COMMIT commits it" in n for n in split.up.notes), split.up.notes
    # the next migration runs on a schema that has b
    assert after.status == "passed", [s.error for s in after.up.statements]


def test_the_baseline_replay_commits_it_too(pg_server: ScratchServer, tmp_path: Path) -> None:
    history = _history(tmp_path)
    result = _check(pg_server, history, 1)
    assert [m.status for m in result.migrations] == ["passed"], [
        s.error for m in result.migrations for s in m.up.statements
    ]
