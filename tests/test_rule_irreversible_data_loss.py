"""irreversible-data-loss: what UP destroys for good, on tables that existed before it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pgpreflight.rules.irreversible_data_loss import narrowing

from tests.helpers import lint_findings

RULE = "irreversible-data-loss"
BASE = """-- file: 202401010000__base.sql
-- UP
CREATE SCHEMA arquivo;
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE users (id bigint PRIMARY KEY, phone text, price numeric(10,4), seen_at timestamptz,
    nome varchar(120), feeling mood);
CREATE TABLE arquivo.old_users (id bigint);
-- DOWN
DROP SCHEMA IF EXISTS arquivo CASCADE;
DROP TABLE IF EXISTS users;
DROP TYPE IF EXISTS mood;
-- file: 202401020000__change.sql
"""


def found(sql: str, tmp_path: Path) -> list[tuple[int, str]]:
    return [
        (f.line, f.message)
        for f in lint_findings(BASE + sql, RULE, tmp_path)
        if f.path.endswith("202401020000__change.sql")
    ]


def test_drops_of_existing_objects_name_what_is_lost(tmp_path: Path) -> None:
    sql = """-- UP
ALTER TABLE users DROP COLUMN phone;
DROP TYPE mood CASCADE;
TRUNCATE users;
DROP SCHEMA arquivo CASCADE;
DROP TABLE public.users;
-- DOWN
SELECT 1;
"""
    assert found(sql, tmp_path) == [
        (
            2,
            "dropping column users.phone deletes its values; DOWN can add the column back but "
            "empty",
        ),
        (3, "dropping type mood with CASCADE drops column(s) users.feeling and their data"),
        (4, "TRUNCATE users deletes every row; DOWN cannot bring them back"),
        (
            5,
            "dropping schema arquivo with CASCADE deletes table(s) arquivo.old_users and their "
            "rows",
        ),
        (6, "dropping table users deletes its rows; DOWN can recreate the table but not the data"),
    ]


def test_narrowing_type_changes(tmp_path: Path) -> None:
    sql = """-- UP
ALTER TABLE users ALTER COLUMN price TYPE numeric(10,2), ALTER COLUMN seen_at TYPE date;
ALTER TABLE users ALTER COLUMN nome TYPE varchar(50);
ALTER TABLE users ALTER COLUMN nome TYPE text;
-- DOWN
SELECT 1;
"""
    messages = found(sql, tmp_path)
    assert [line for line, _ in messages] == [2, 2, 3]
    line_2 = " | ".join(m for line, m in messages if line == 2)
    assert "from numeric(10,4) to numeric(10,2) rounds to 2 decimal place(s)" in line_2
    assert "from timestamp with time zone to date drops the time of day" in line_2
    assert (
        "users.nome from character varying(120) to character varying(50) limits it to 50"
        in messages[2][1]
    )


def test_objects_created_in_the_same_migration_hold_no_data(tmp_path: Path) -> None:
    sql = """-- UP
CREATE TABLE tmp (id int, note text);
ALTER TABLE tmp DROP COLUMN note;
DROP TABLE tmp;
ALTER TABLE users ADD COLUMN extra text;
ALTER TABLE users DROP COLUMN extra;
-- DOWN
SELECT 1;
"""
    assert found(sql, tmp_path) == []


@pytest.mark.parametrize(
    ("old", "new", "lossy"),
    [
        ("bigint", "integer", True),
        ("integer", "bigint", False),
        ("double precision", "real", True),
        ("numeric", "integer", True),
        ("numeric", "numeric(12,2)", True),
        ("numeric(12,2)", "numeric(14,2)", False),
        ("numeric(12,2)", "numeric(12,4)", True),
        ("text", "character varying(10)", True),
        ("character varying(10)", "text", False),
        ("character varying(10)", "character varying(20)", False),
        ("timestamp(6) without time zone", "timestamp(0) without time zone", True),
        ("timestamp without time zone", "timestamp with time zone", False),
        ("text", "jsonb", False),
        ("integer[]", "bigint[]", False),
    ],
)
def test_narrowing_table(old: str, new: str, lossy: bool) -> None:
    assert (narrowing(old, new) is not None) == lossy
