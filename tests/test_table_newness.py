"""Which tables are new (empty, exempt from lock rules) is decided per section and per point in the
history: a table the DOWN re-creates is not new in the UP, a table is new only after its CREATE,
and a table renamed in the migration keeps its history."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import lint_findings

BASE = (
    "-- file: 202401010000__base.sql\n"
    "CREATE TABLE orders (id bigint PRIMARY KEY, note text, total int NOT NULL);\n"
    "-- file: 202401020000__change.sql\n"
)
RULES = ["require-concurrent-index", "column-type-rewrite", "drop-not-null"]


def found(sql: str, tmp_path: Path, rules: list[str] = RULES) -> list[tuple[str, str | None, int]]:
    return [
        (f.rule, f.section, f.line)
        for f in lint_findings(BASE + sql, rules, tmp_path)
        if "change" in f.path
    ]


def test_table_down_recreates_is_not_new_in_up(tmp_path: Path) -> None:
    sql = (
        "-- UP\nCREATE INDEX idx_orders_note ON orders (note);\nDROP TABLE orders;\n"
        "-- DOWN\nCREATE TABLE orders (id bigint PRIMARY KEY, note text);\n"
        "CREATE INDEX idx_orders_note ON orders (note);\n"
    )
    assert found(sql, tmp_path) == [("require-concurrent-index", "up", 2)]


def test_table_is_new_only_after_its_create(tmp_path: Path) -> None:
    sql = (
        "-- UP\nCREATE INDEX idx_a ON orders (note);\nDROP TABLE orders;\n"
        "CREATE TABLE orders (id bigint PRIMARY KEY, note text);\n"
        "CREATE INDEX idx_b ON orders (note);\n"
    )
    assert found(sql, tmp_path) == [("require-concurrent-index", "up", 2)]


def test_new_table_renamed_stays_new(tmp_path: Path) -> None:
    sql = (
        "-- UP\nCREATE TABLE orders_new (id bigint PRIMARY KEY, note text);\n"
        "ALTER TABLE orders_new RENAME TO orders_v2;\nCREATE INDEX idx_v2 ON orders_v2 (note);\n"
    )
    assert found(sql, tmp_path) == []


def test_renamed_table_keeps_its_history(tmp_path: Path) -> None:
    sql = (
        "-- UP\nALTER TABLE orders RENAME TO purchases;\n"
        "ALTER TABLE purchases ALTER COLUMN total TYPE bigint;\n"
        "ALTER TABLE purchases ALTER COLUMN total DROP NOT NULL;\n"
        "CREATE INDEX idx_p ON purchases (note);\n"
    )
    findings = lint_findings(BASE + sql, RULES, tmp_path)
    by_rule = {f.rule: f.message for f in findings if "change" in f.path}
    # the history says total was int NOT NULL: a known rewrite, not a guess
    assert "from integer to bigint rewrites" in by_rule["column-type-rewrite"]
    assert "drop-not-null" in by_rule and "require-concurrent-index" in by_rule


def test_down_recreating_a_table_treats_it_as_new_after_its_create(tmp_path: Path) -> None:
    sql = (
        "-- UP\nDROP TABLE orders;\n"
        "-- DOWN\nCREATE TABLE orders (id bigint PRIMARY KEY, note text);\n"
        "CREATE INDEX idx_orders_note ON orders (note);\n"
        "ALTER TABLE orders ALTER COLUMN note TYPE varchar(10);\n"
    )
    assert found(sql, tmp_path) == []


def test_table_created_in_up_is_new_in_down(tmp_path: Path) -> None:
    sql = (
        "-- UP\nCREATE TABLE tags (id bigint PRIMARY KEY, name text);\n"
        "-- DOWN\nCREATE INDEX idx_tags_name ON tags (name);\nDROP TABLE tags;\n"
    )
    assert found(sql, tmp_path) == []


# authelia's V0002/V0003/V0006 move a table aside (DROP, or RENAME to a backup) and re-create it
# with CREATE TABLE IF NOT EXISTS: the name is free again, so the table is new and empty.
LOCK_RULES = [
    "require-concurrent-index",
    "require-statement-timeout",
    "statement-after-access-exclusive",
    "constraint-without-not-valid",
]
RECREATED = "CREATE TABLE IF NOT EXISTS orders (id bigint PRIMARY KEY, note text);\n"
INDEXED = "CREATE INDEX idx_orders_note ON orders (note);\n"


def test_if_not_exists_after_drop_in_the_section_creates_a_new_table(tmp_path: Path) -> None:
    sql = "-- UP\nDROP TABLE IF EXISTS orders;\n" + RECREATED + INDEXED
    assert found(sql, tmp_path, LOCK_RULES) == []


def test_if_not_exists_after_rename_away_creates_a_new_table(tmp_path: Path) -> None:
    sql = "-- UP\nALTER TABLE orders RENAME TO orders_old;\n" + RECREATED + INDEXED
    assert found(sql, tmp_path, LOCK_RULES) == []


def test_if_not_exists_of_a_table_still_there_creates_nothing(tmp_path: Path) -> None:
    sql = "-- UP\n" + RECREATED + INDEXED
    assert found(sql, tmp_path, LOCK_RULES) == [
        ("require-concurrent-index", "up", 3),
        ("require-statement-timeout", "up", 3),
    ]


def test_down_if_not_exists_of_a_table_up_left_alone_creates_nothing(tmp_path: Path) -> None:
    sql = (
        "-- UP\nCREATE TABLE tags (id bigint PRIMARY KEY);\n"
        "-- DOWN\nDROP TABLE tags;\n" + RECREATED + INDEXED
    )
    assert found(sql, tmp_path, LOCK_RULES) == [
        ("require-concurrent-index", "down", 6),
        ("require-statement-timeout", "down", 6),
    ]


def test_lock_held_by_rename_is_named_by_the_new_name(tmp_path: Path) -> None:
    sql = (
        "-- UP\nSET lock_timeout = '2s';\nALTER TABLE orders RENAME TO orders_old;\n"
        "UPDATE orders_old SET note = '';\n"
    )
    findings = lint_findings(BASE + sql, "statement-after-access-exclusive", tmp_path)
    assert [(f.line, f.message.split(" is ")[0]) for f in findings] == [
        (4, "table 'orders_old' (was 'orders')")
    ]


def test_renamed_table_already_locked_is_not_waited_for(tmp_path: Path) -> None:
    # the RENAME holds ACCESS EXCLUSIVE on the table now called orders_old: nothing to wait for
    sql = (
        "-- UP\nALTER TABLE orders RENAME TO orders_old;\n"
        "ALTER TABLE orders_old ADD COLUMN flag boolean;\n"
    )
    assert lint_findings(BASE + sql, "statement-after-access-exclusive", tmp_path) == []
