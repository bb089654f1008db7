"""Generated DOWN sections, and the migration a constraint split adds, proven on PostgreSQL: after
`lint --fix`, every migration applies and round-trips UP -> DOWN -> UP on the scratch server."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from pgpreflight.linter import fixer
from pgpreflight.linter.check.result import CheckResult
from pgpreflight.linter.check.runner import CheckOptions, check_on_server, select_pending
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.engine import lint
from pgpreflight.linter.pgserver import ScratchServer

from tests.helpers import make_config

_runs = itertools.count(1)

HISTORY = {
    "202401010000__users.sql": """-- UP
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
-- DOWN
DROP TABLE IF EXISTS users;
""",
    # no DOWN: every kind of object whose inverse is certain
    "202401020000__tags.sql": """-- UP
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE SCHEMA catalog;
CREATE TYPE catalog.mood AS ENUM ('ok', 'meh');
CREATE SEQUENCE catalog.tag_numbers START 5;
CREATE TABLE catalog.tags (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE,
    mood catalog.mood
);
CREATE INDEX idx_tags_name_trgm ON catalog.tags USING gin (name gin_trgm_ops);
COMMENT ON TABLE catalog.tags IS 'labels';
CREATE VIEW catalog.tag_names AS SELECT name FROM catalog.tags;
""",
    "202401030000__profile.sql": """-- UP
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN nickname text, ADD CONSTRAINT users_email_present CHECK (email <> '');
CREATE INDEX idx_users_nickname ON users (nickname);
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
""",
    # an empty DOWN, and a foreign key the unsafe fix splits into a new migration
    "202401040000__orders.sql": """-- UP
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL);
ALTER TABLE users ADD COLUMN bio text;
-- DOWN
-- todo
""",
    # a DOWN that drops the table: the trigger's new function is dropped after it
    "202401045000__notes.sql": """-- UP
CREATE TABLE notes (id bigint PRIMARY KEY, body text, updated_at timestamptz NOT NULL DEFAULT now());
-- DOWN
DROP TABLE IF EXISTS notes;
""",
    "202401050000__orders_fk.sql": """-- UP
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id);
-- DOWN
SET lock_timeout = '2s';
ALTER TABLE orders DROP CONSTRAINT IF EXISTS fk_orders_user;
""",
}
RULES = [
    "missing-down-section",
    "empty-down-section",
    "constraint-without-not-valid",
    "updated-at-without-trigger",
]


def test_generated_downs_round_trip_on_postgresql(
    pg_server: ScratchServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name, text in HISTORY.items():
        (folder / name).write_text(text)
    config = make_config(tmp_path, select=RULES)
    outcome = fixer.run_passes(
        lambda overlay: lint([folder], config, overlay=overlay),
        unsafe=True,
        may_change=lambda result: {s.path.resolve() for m in result.migrations for s in m.sources},
    )
    assert outcome.result is not None and not outcome.result.findings
    fixer.write(outcome.changes.values())
    tags = (folder / "202401020000__tags.sql").read_text()
    assert tags.split("-- DOWN\n", 1)[1].splitlines()[2:] == [
        "DROP VIEW IF EXISTS catalog.tag_names;",
        "DROP TABLE IF EXISTS catalog.tags;",  # its index and comment go with it
        "DROP SEQUENCE IF EXISTS catalog.tag_numbers;",
        "DROP TYPE IF EXISTS catalog.mood;",
        "DROP SCHEMA IF EXISTS catalog;",
        "DROP EXTENSION IF EXISTS pg_trgm;",  # unsafe: UP created it only if missing
    ]
    assert (folder / "202401050001__validate_fk_orders_user.sql").is_file()

    migrations = discover([folder])
    assert len(migrations) == 8  # and 202401030001__validate_users_email_present.sql
    notes = (folder / "202401045000__notes.sql").read_text()
    assert notes.index("CREATE FUNCTION set_updated_at()") < notes.index("CREATE TABLE notes")
    assert notes.rstrip().endswith("DROP FUNCTION IF EXISTS set_updated_at();")
    options = CheckOptions(db_prefix=f"fx{next(_runs)}")
    result = CheckResult(mode="scratch", server=None)
    result = check_on_server(
        pg_server, migrations, select_pending(migrations, options), options, result
    )
    for check in result.migrations:
        assert check.status == "passed", (check.id, check.round_trip)
        assert check.round_trip.verdict == "pass"
