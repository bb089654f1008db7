"""Issue #14 item 9: what a run leaves on the target, and a history that matches no file.

- `--execute-on-target` rolls its transaction back, but a rolled-back UPDATE still leaves dead
  tuples (and moves the statistics autovacuum reads), and sequences never roll back: the result
  names the dead tuples per table and the migration behind each write and each sequence advance;
- a history table whose versions match no migration file made every migration "pending" and
  replayed the whole history on top of itself (lemmy's 173 bogus failures): the run warns, in the
  result and on the terminal, and diesel's dash-less versions match its dashed folders.

A database of the session's scratch server plays the target; `pgpreflight check` starts its own
scratch server beside it.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pgpreflight.linter.check.runner import CheckOptions
from pgpreflight.linter.check.target import TargetOptions, run_target
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.pgserver import ScratchServer

from tests.check_support import migration

REPO = Path(__file__).resolve().parents[1]
_runs = itertools.count(1)

ITEMS = (
    "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, qty int NOT NULL DEFAULT 0);"
)
TOUCH = "UPDATE items SET qty = qty + 1 WHERE id <= 2100;"
ADD = "INSERT INTO items (name) VALUES ('from the migration'), ('and another');"


def _options() -> CheckOptions:
    return CheckOptions(db_prefix=f"se{next(_runs)}")


def _target(dsn: str, versions: list[str], table: str = "schema_migrations") -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(ITEMS)
        conn.execute("INSERT INTO items (name) SELECT 'item ' || g FROM generate_series(1, 5000) g")
        conn.execute(f"CREATE TABLE {table} (version varchar(50) PRIMARY KEY)")
        for v in versions:
            conn.execute(f"INSERT INTO {table} VALUES (%s)", (v,))
        conn.execute("VACUUM ANALYZE items")


def _history(tmp_path: Path) -> list[Any]:
    return [
        migration(tmp_path, ITEMS, "DROP TABLE items;", name="202401010000__items"),
        migration(tmp_path, TOUCH, "SELECT 1;", name="202401020000__touch"),
        migration(tmp_path, ADD, "DELETE FROM items WHERE id > 5000;", name="202401030000__add"),
    ]


def _dead_tuples(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return int(
            conn.execute(
                "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'items'"
            ).fetchone()[0]
        )


def test_rolled_back_writes_and_sequence_advances_are_reported_per_migration(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path
) -> None:
    _target(pg_db, ["202401010000"])
    assert _dead_tuples(pg_db) == 0
    opts = TargetOptions(dsn=pg_db, execute=True, sample_rows=1000)
    result = run_target(_history(tmp_path), _options(), opts, server=pg_server)
    info = result.target
    assert info is not None and result.pending == ["202401020000__touch", "202401030000__add"]
    # what the rollback left: 2,100 old row versions of the UPDATE, the 2 inserted rows
    (items,) = [w for w in info.rolled_back_writes if w["table"] == "items"]
    assert items["updated"] == 2100 and items["inserted"] == 2
    assert items["dead_tuples"] == 2102 == _dead_tuples(pg_db)
    assert items["migrations"] == ["202401020000__touch", "202401030000__add"]
    # ... per migration, from the transaction's own counters
    touch, add = result.migrations
    assert touch.target_writes == [{"table": "items", "inserted": 0, "updated": 2100, "deleted": 0}]
    assert add.target_writes == [{"table": "items", "inserted": 2, "updated": 0, "deleted": 0}]
    # the sequence moved because of the second migration, not the first
    (advance,) = info.sequence_advances
    assert advance["sequence"] == "items_id_seq"
    assert advance["after"] == advance["before"] + 2
    assert advance["migrations"] == ["202401030000__add"]
    assert touch.sequence_advances == []
    assert [a["sequence"] for a in add.sequence_advances] == ["items_id_seq"]
    assert info.unchanged is False
    assert any("2102 dead tuples" in c for c in info.changes), info.changes
    # reviewers see it: the saved result validates, the checklist (HTML, PR comment) names it
    page, comment = _reports(result)
    for shown in (page, comment):
        assert "items: 2102 dead tuples left by rolled-back writes" in shown
        assert "items_id_seq 5000 -&gt; 5002 by 202401030000__add" in shown.replace("->", "-&gt;")


def test_a_sequence_locked_by_a_migration_is_read_after_the_rollback(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path
) -> None:
    """ALTER SEQUENCE holds a lock until the rollback (OWNED BY does not rewrite the sequence, so
    the INSERT's advance survives the rollback): reading the sequence between migrations would
    wait for that lock. It is skipped, and its advance put on every migration since."""
    _target(pg_db, ["202401010000"])
    history = [
        migration(tmp_path, ITEMS, "DROP TABLE items;", name="202401010000__items"),
        migration(
            tmp_path,
            "ALTER SEQUENCE items_id_seq OWNED BY items.id;",
            None,
            name="202401020000__seq",
        ),
        migration(tmp_path, ADD, None, name="202401030000__add"),
    ]
    opts = TargetOptions(dsn=pg_db, execute=True, sample_rows=100, lock_timeout="5s")
    started = time.monotonic()
    result = run_target(history, _options(), opts, server=pg_server)
    assert time.monotonic() - started < 60
    assert not any("sequence values not read" in n for n in result.notes), result.notes
    assert result.target is not None
    (advance,) = result.target.sequence_advances
    assert advance["migrations"] == ["202401020000__seq", "202401030000__add"]


def test_a_history_that_matches_no_file_is_a_loud_warning(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path
) -> None:
    """Versions written by another tool (or another project) than the files: every migration
    looked pending and the whole history was replayed over itself."""
    _target(pg_db, ["20190101000000", "20190102000000"])
    result = run_target(
        _history(tmp_path), _options(), TargetOptions(dsn=pg_db, sample_rows=100), server=pg_server
    )
    info = result.target
    assert info is not None and info.history_warning is not None
    assert "none of the 2 versions in schema_migrations matches a migration file" in (
        info.history_warning
    )
    assert "20190101000000" in info.history_warning
    assert info.history_unmatched == ["20190101000000", "20190102000000"]
    page, comment = _reports(result)
    for shown in (page, comment):
        assert "target history: none of the 2 versions in schema_migrations matches" in shown
    # a history with some versions no file has (a squashed migration) is only a note
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute("DELETE FROM schema_migrations")
        conn.execute("INSERT INTO schema_migrations VALUES ('202401010000'), ('202312010000')")
    result = run_target(
        _history(tmp_path), _options(), TargetOptions(dsn=pg_db, sample_rows=100), server=pg_server
    )
    assert result.target is not None and result.target.history_warning is None
    assert result.target.history_unmatched == ["202312010000"]
    assert "1 version(s) in schema_migrations match no migration file: 202312010000" in result.notes
    assert result.pending == ["202401020000__touch", "202401030000__add"]


def _reports(result: Any) -> tuple[str, str]:
    """The HTML page and the PR comment of a check result, after a JSON round trip and the
    published schema."""
    import jsonschema
    from pgpreflight.linter.report import html, markdown

    data = json.loads(
        json.dumps({"version": 1, "findings": [], "check": result.to_dict()}, default=str)
    )
    schema = Path(html.__file__).parent / "result-schema.json"
    jsonschema.validate(data, json.loads(schema.read_text()))
    return html.render_dict(data), markdown.render_dict(data)


def test_diesel_dash_less_versions_match_dashed_folders(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path
) -> None:
    root = tmp_path / "migrations"
    for name, up in (
        ("00000000000000_diesel_initial_setup", "SELECT 1;"),
        ("2019-01-01-000000_items", ITEMS),
        ("2019-01-02-000000_touch", TOUCH),
        ("2025-11-19-091444-0000_add", ADD),
    ):
        (root / name).mkdir(parents=True)
        (root / name / "up.sql").write_text(up)
        (root / name / "down.sql").write_text("SELECT 1;")
    migrations = discover([root])
    _target(
        pg_db, ["00000000000000", "20190101000000", "20190102000000"], "__diesel_schema_migrations"
    )
    result = run_target(
        migrations, _options(), TargetOptions(dsn=pg_db, sample_rows=100), server=pg_server
    )
    assert result.target is not None and result.target.history_table == (
        "__diesel_schema_migrations"
    )
    assert result.pending == ["2025-11-19-091444-0000__add"]
    assert result.target.history_warning is None and result.target.history_unmatched == []


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pgpf-se-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def _cli(args: list[str], tmpdir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({"TMPDIR": str(tmpdir), "PYTHONPATH": str(REPO)})
    return subprocess.run(
        [sys.executable, "-m", "pgpreflight.linter", "check", "--quiet", "--no-explain", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_cli_shows_dead_tuples_attribution_and_the_history_warning(
    pg_server: ScratchServer, pg_db: str, tmp_path: Path, private_tmp: Path
) -> None:
    _history(tmp_path)
    _target(pg_db, ["202401010000"])
    saved = tmp_path / "result.json"
    args = [
        str(tmp_path / "migrations"),
        "--database",
        pg_db,
        "--pg-bin",
        str(pg_server.binaries.bindir),
        "--execute-on-target",
        "--json",
        str(saved),
    ]
    proc = _cli(args, private_tmp)
    assert proc.returncode in (0, 1), proc.stderr
    out = proc.stdout
    assert "items: 2102 dead tuples left by rolled-back writes (2 inserted, 2100 updated" in out
    assert "202401020000__touch, 202401030000__add" in out
    assert (
        "sequence items_id_seq advanced 5000 -> 5002 (not rolled back) by 202401030000__add" in out
    )
    target = json.loads(saved.read_text())["check"]["target"]
    assert target["rolled_back_writes"][0]["dead_tuples"] == 2102
    assert target["sequence_advances"][0]["migrations"] == ["202401030000__add"]
    migrations = json.loads(saved.read_text())["check"]["migrations"]
    assert migrations[0]["target_writes"][0]["updated"] == 2100

    # a history of versions no file has: a warning on stderr and in the result
    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute("DELETE FROM schema_migrations")
        conn.execute("INSERT INTO schema_migrations VALUES ('20190101000000')")
    read_only = [a for a in args if a != "--execute-on-target"]
    proc = _cli(read_only, private_tmp)
    assert "pgpreflight: warning: none of the 1 versions in schema_migrations matches" in (
        proc.stderr
    )
    assert "WARNING: none of the 1 versions in schema_migrations matches" in proc.stdout
    target = json.loads(saved.read_text())["check"]["target"]
    assert target["history_unmatched"] == ["20190101000000"]
    assert "every migration is treated as pending" in target["history_warning"]
