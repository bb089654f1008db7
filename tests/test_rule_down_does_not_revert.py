"""down-does-not-revert: each kind of difference is reported precisely, at the right statement."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import lint_findings

RULE = "down-does-not-revert"
BASE = """-- file: 202401010000__base.sql
-- UP
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE oficinas (id bigint PRIMARY KEY, nome text NOT NULL, estado text NOT NULL,
    CONSTRAINT ck_oficinas_nome CHECK (nome <> ''));
CREATE INDEX idx_x ON oficinas (estado);
CREATE TABLE t (id int PRIMARY KEY);
-- DOWN
DROP TABLE IF EXISTS t;
DROP TABLE IF EXISTS oficinas;
DROP TYPE IF EXISTS mood;
-- file: 202401020000__change.sql
"""


def messages(sql: str, tmp_path: Path) -> list[tuple[int, str | None, str]]:
    return [
        (f.line, f.section, f.message)
        for f in lint_findings(BASE + sql, RULE, tmp_path)
        if f.path.endswith("202401020000__change.sql")
    ]


def test_column_added_but_not_dropped_points_at_the_up_statement(tmp_path: Path) -> None:
    sql = "-- UP\nSELECT 1;\nALTER TABLE oficinas ADD COLUMN cidade text;\n-- DOWN\nSELECT 1;\n"
    assert messages(sql, tmp_path) == [
        (3, "up", "DOWN leaves column oficinas.cidade that UP added")
    ]


def test_index_dropped_and_not_recreated(tmp_path: Path) -> None:
    sql = "-- UP\nDROP INDEX idx_x;\n-- DOWN\nSELECT 1;\n"
    assert messages(sql, tmp_path) == [
        (2, "up", "DOWN does not recreate index idx_x that UP dropped")
    ]


def test_constraint_renamed(tmp_path: Path) -> None:
    sql = (
        "-- UP\nALTER TABLE oficinas RENAME CONSTRAINT ck_oficinas_nome TO ck_nome;\n"
        "-- DOWN\nALTER TABLE oficinas RENAME CONSTRAINT ck_nome TO ck_nome_old;\n"
    )
    assert messages(sql, tmp_path) == [
        (4, "down", "DOWN leaves constraint ck_oficinas_nome renamed to ck_nome_old"),
    ]


def test_table_dropped_in_down_that_existed_before(tmp_path: Path) -> None:
    sql = (
        "-- UP\nCREATE TABLE tags (id int PRIMARY KEY);\n"
        "-- DOWN\nDROP TABLE IF EXISTS tags;\nDROP TABLE IF EXISTS t;\n"
    )
    assert messages(sql, tmp_path) == [(5, "down", "DOWN drops table t that existed before UP")]


def test_enum_value_added_explains_that_postgresql_cannot_remove_it(tmp_path: Path) -> None:
    sql = "-- UP\nALTER TYPE mood ADD VALUE 'ok' BEFORE 'happy';\n-- DOWN\nSELECT 1;\n"
    findings = [f for f in lint_findings(BASE + sql, RULE, tmp_path) if "change" in f.path]
    assert [(f.line, f.message) for f in findings] == [
        (
            2,
            "DOWN leaves value 'ok' in enum mood that UP added: PostgreSQL cannot remove a value "
            "from an enum",
        ),
    ]
    assert findings[0].hint and "recreate the type" in findings[0].hint
    quiet = lint_findings(BASE + sql, RULE, tmp_path / "opt", rules={RULE: {"enum-values": False}})
    assert [f for f in quiet if "change" in f.path] == []


def test_changed_column_not_restored(tmp_path: Path) -> None:
    sql = (
        "-- UP\nALTER TABLE oficinas ALTER COLUMN estado TYPE varchar(2);\n"
        "ALTER TABLE oficinas ALTER COLUMN nome DROP NOT NULL;\n"
        "-- DOWN\nALTER TABLE oficinas ALTER COLUMN estado TYPE text;\n"
    )
    assert messages(sql, tmp_path) == [
        (
            3,
            "up",
            "DOWN leaves column oficinas.nome changed: nome text (before UP: nome text NOT NULL)",
        ),
    ]


def test_down_that_would_fail_is_reported_at_its_statement(tmp_path: Path) -> None:
    sql = (
        "-- UP\nCREATE TABLE tags (id int PRIMARY KEY);\n"
        "-- DOWN\nDROP TABLE tag;\nDROP TABLE tags;\n"
    )
    assert messages(sql, tmp_path) == [
        (4, "down", "DOWN would fail: table public.tag does not exist"),
    ]


def test_down_in_the_wrong_order_would_fail(tmp_path: Path) -> None:
    sql = (
        "-- UP\nCREATE TABLE tags (id int PRIMARY KEY);\n"
        "CREATE TABLE oficina_tags (tag_id int REFERENCES tags);\n"
        "CREATE VIEW tag_names AS SELECT id FROM tags;\n"
        "-- DOWN\nDROP TABLE IF EXISTS tags;\nDROP TABLE IF EXISTS oficina_tags;\n"
        "DROP VIEW IF EXISTS tag_names;\n"
    )
    assert sorted(messages(sql, tmp_path)) == [
        (
            6,
            "down",
            "DOWN would fail: cannot drop public.tags: view public.tag_names depends on "
            "it (CASCADE would drop the view)",
        ),
        (
            6,
            "down",
            "DOWN would fail: cannot drop table public.tags: constraint "
            "oficina_tags_tag_id_fkey on public.oficina_tags depends on it (CASCADE would drop the "
            "constraint)",
        ),
    ]


def test_exact_revert_is_quiet_including_cascades_and_renames(tmp_path: Path) -> None:
    sql = """-- UP
ALTER TABLE oficinas ADD COLUMN cidade text NOT NULL DEFAULT '';
CREATE INDEX idx_oficinas_cidade ON oficinas (cidade);
ALTER TABLE oficinas RENAME COLUMN nome TO titulo;
ALTER INDEX idx_x RENAME TO idx_oficinas_estado;
DROP INDEX idx_oficinas_estado;
CREATE TABLE tags (id serial PRIMARY KEY, oficina_id bigint REFERENCES oficinas);
-- DOWN
DROP TABLE IF EXISTS tags;
CREATE INDEX idx_x ON oficinas (estado);
ALTER TABLE oficinas RENAME COLUMN titulo TO nome;
ALTER TABLE oficinas DROP COLUMN IF EXISTS cidade;
"""
    assert messages(sql, tmp_path) == []


def test_validating_a_constraint_needs_no_revert(tmp_path: Path) -> None:
    sql = (
        "-- UP\nALTER TABLE oficinas ADD CONSTRAINT ck_estado CHECK (estado <> '') NOT VALID;\n"
        "ALTER TABLE oficinas VALIDATE CONSTRAINT ck_estado;\n"
        "-- DOWN\nALTER TABLE oficinas DROP CONSTRAINT IF EXISTS ck_estado;\n"
        "-- file: 202401030000__validate.sql\n"
        "-- UP\nALTER TABLE oficinas ADD CONSTRAINT ck_nome2 CHECK (nome <> '') NOT VALID;\n"
        "-- DOWN\nALTER TABLE oficinas DROP CONSTRAINT IF EXISTS ck_nome2;\n"
        "-- file: 202401040000__validate.sql\n"
        "-- UP\nALTER TABLE oficinas VALIDATE CONSTRAINT ck_nome2;\n"
        "-- DOWN\nSELECT 1;\n"
    )
    assert [f for f in lint_findings(BASE + sql, RULE, tmp_path) if "base" not in f.path] == []


def test_do_block_in_down_is_not_judged(tmp_path: Path) -> None:
    sql = (
        "-- UP\nALTER TABLE oficinas ADD COLUMN cidade text;\n-- DOWN\n"
        "DO $$ BEGIN EXECUTE 'ALTER TABLE oficinas DROP COLUMN cidade'; END $$;\n"
    )
    assert messages(sql, tmp_path) == []


def test_missing_or_empty_down_is_left_to_other_rules(tmp_path: Path) -> None:
    assert messages("-- UP\nALTER TABLE oficinas ADD COLUMN cidade text;\n", tmp_path) == []


def test_a_one_way_migration_is_one_finding_listing_the_differences(tmp_path: Path) -> None:
    columns = "".join(f"ALTER TABLE oficinas ADD COLUMN c{i} text;\n" for i in range(7))
    sql = f"-- UP\nSELECT 1;\n{columns}DROP INDEX idx_x;\n-- DOWN\nSELECT 1;\n"
    found = messages(sql, tmp_path)
    assert len(found) == 1
    line, section, message = found[0]
    assert (line, section) == (3, "up")
    assert message.startswith("DOWN does not revert 8 changes of UP: it leaves column oficinas.c0")
    assert message.endswith("; and 3 more")


def test_extension_created_if_missing_may_stay_but_not_be_dropped(tmp_path: Path) -> None:
    up = "-- UP\nCREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
    assert messages(up + "-- DOWN\nSELECT 1;\n", tmp_path / "kept") == []
    dropped = messages(up + "-- DOWN\nDROP EXTENSION IF EXISTS pg_trgm;\n", tmp_path / "dropped")
    assert dropped == [
        (
            4,
            "down",
            "DOWN drops extension pg_trgm that UP only created if missing: it may have been "
            "there before, and other objects may use it",
        )
    ]
    plain = messages("-- UP\nCREATE EXTENSION pg_trgm;\n-- DOWN\nSELECT 1;\n", tmp_path / "p")
    assert plain == [(2, "up", "DOWN leaves extension pg_trgm that UP added")]


SPLIT = """-- file: 20200101000000000000_base.postgres.up.sql
CREATE TABLE a (id int);
CREATE TABLE m (id int);
-- file: 20210311102338000000_refactor.postgres.up.sql
DROP TABLE m;
-- file: 20210311102338000001_refactor.postgres.up.sql
ALTER TABLE a ADD COLUMN ui jsonb;
-- file: 20210311102338000000_refactor.postgres.down.sql
ALTER TABLE a DROP COLUMN ui;
-- file: 20210311102338000001_refactor.postgres.down.sql
"""


def test_a_migration_split_into_files_reverts_as_a_whole(tmp_path: Path) -> None:
    # kratos: one migration per statement, DOWN files numbered in the original DOWN's order
    # (000000's DOWN undoes 000001's UP); rolling back runs them all, highest version first.
    whole = lint_findings(SPLIT + "CREATE TABLE m (id int);\n", RULE, tmp_path / "whole")
    assert whole == []
    broken = lint_findings(SPLIT + "SELECT 1;\n", RULE, tmp_path / "broken")
    assert [(Path(f.path).name, f.message) for f in broken] == [
        (
            "20210311102338000000_refactor.postgres.up.sql",
            "DOWN does not recreate table m that UP dropped",
        )
    ]


def test_a_down_file_undoing_another_files_up_of_its_group_reverts_it(tmp_path: Path) -> None:
    # kratos settings: 000001's DOWN drops the column 000000's UP added
    sql = """-- file: 20200101000000000000_base.postgres.up.sql
CREATE TABLE s (id int, ok bool NOT NULL);
-- file: 20200607165100000000_settings.postgres.up.sql
ALTER TABLE s ADD COLUMN state text NOT NULL DEFAULT 'x';
-- file: 20200607165100000001_settings.postgres.up.sql
ALTER TABLE s DROP COLUMN ok;
-- file: 20200607165100000000_settings.postgres.down.sql
ALTER TABLE s ADD COLUMN ok bool NOT NULL DEFAULT false;
-- file: 20200607165100000001_settings.postgres.down.sql
ALTER TABLE s DROP COLUMN state;
"""
    found = lint_findings(sql, ["drop-column", "require-lock-timeout"], tmp_path)
    assert [(Path(f.path).name, f.rule) for f in found if f.section == "down"] == []


def test_an_empty_down_file_of_a_split_migration_is_fine_when_another_reverts(
    tmp_path: Path,
) -> None:
    sql = SPLIT + "CREATE TABLE m (id int);\n"
    assert lint_findings(sql, "empty-down-section", tmp_path / "a") == []
    # every DOWN file of the migration empty: each is reported
    empty = SPLIT.replace("ALTER TABLE a DROP COLUMN ui;", "-- nothing")
    assert len(lint_findings(empty, "empty-down-section", tmp_path / "b")) == 2


def test_a_down_file_renaming_back_what_another_file_of_its_group_renamed(tmp_path: Path) -> None:
    # kratos flow_fields_rename: 000000's DOWN renames back the column 000001's UP renamed
    sql = """-- file: 20200101000000000000_base.postgres.up.sql
CREATE TABLE a (request_id int, other int);
-- file: 20200810162450000000_rename.postgres.up.sql
ALTER TABLE a RENAME COLUMN other TO other2;
-- file: 20200810162450000001_rename.postgres.up.sql
ALTER TABLE a RENAME COLUMN request_id TO flow_id;
-- file: 20200810162450000000_rename.postgres.down.sql
ALTER TABLE a RENAME COLUMN flow_id TO request_id;
-- file: 20200810162450000001_rename.postgres.down.sql
ALTER TABLE a RENAME COLUMN other2 TO other;
"""
    found = lint_findings(sql, "rename-column", tmp_path)
    assert [Path(f.path).name for f in found] == [
        "20200810162450000000_rename.postgres.up.sql",
        "20200810162450000001_rename.postgres.up.sql",
    ]


def test_a_down_is_not_judged_on_a_table_the_history_never_made(tmp_path: Path) -> None:
    """One file linted alone: its UP alters a table the model never saw, so the DOWN that
    undoes it 'fails' only on the model; a DOWN failing where UP did not still counts."""
    alone = (
        "-- file: 202401010000__alone.sql\n-- UP\nALTER TABLE orders ADD COLUMN note text;\n"
        "-- DOWN\nALTER TABLE orders DROP COLUMN note;\n"
    )
    assert lint_findings(alone, RULE, tmp_path / "alone") == []
    broken = "-- UP\nALTER TABLE oficinas ADD COLUMN cidade text;\n-- DOWN\nALTER TABLE t DROP COLUMN cidade;\n"
    assert [m for m in messages(broken, tmp_path) if "would fail" in m[2]]


def test_down_dropping_views_together_that_depend_on_each_other(tmp_path: Path) -> None:
    sql = (
        "-- UP\nCREATE MATERIALIZED VIEW a AS SELECT estado, count(*) AS n FROM oficinas "
        "GROUP BY estado;\n"
        "CREATE MATERIALIZED VIEW c AS SELECT o.id FROM oficinas o JOIN a ON a.estado = o.estado;\n"
        "-- DOWN\nDROP MATERIALIZED VIEW a, c;\n"
    )
    assert messages(sql, tmp_path) == []


def test_down_recreating_a_trigger_whose_function_an_earlier_migration_renamed(
    tmp_path: Path,
) -> None:
    history = (
        "-- file: 202401010000__init.sql\n-- UP\nCREATE TABLE person (id int PRIMARY KEY);\n"
        "CREATE FUNCTION f_old() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;\n"
        "CREATE TRIGGER t_old AFTER DELETE ON person FOR EACH ROW EXECUTE FUNCTION f_old();\n"
        "-- file: 202401020000__rename.sql\n-- UP\nALTER FUNCTION f_old() RENAME TO f_new;\n"
        "-- DOWN\nALTER FUNCTION f_new() RENAME TO f_old;\n"
        "-- file: 202401030000__drop.sql\n-- UP\nDROP FUNCTION f_new CASCADE;\n"
        "-- DOWN\nCREATE FUNCTION f_new() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN NULL; END $$;\n"
        "CREATE TRIGGER t_old AFTER DELETE ON person FOR EACH ROW EXECUTE FUNCTION f_new();\n"
    )
    assert lint_findings(history, RULE, tmp_path) == []


def test_composite_type_created_and_dropped(tmp_path: Path) -> None:
    sql = (
        "-- UP\nCREATE TYPE semver_triple AS (major int4, minor int4, teeny int4);\n"
        "-- DOWN\nDROP TYPE semver_triple;\n"
    )
    assert messages(sql, tmp_path) == []
    kept = "-- UP\nCREATE TYPE pair AS (a int, b int);\n-- DOWN\nSELECT 1;\n"
    assert messages(kept, tmp_path / "kept") == [(2, "up", "DOWN leaves type pair that UP added")]


def test_index_of_a_materialized_view(tmp_path: Path) -> None:
    view = (
        "CREATE MATERIALIZED VIEW recent AS SELECT estado, count(*) AS n FROM oficinas "
        "GROUP BY estado;\nCREATE UNIQUE INDEX recent_estado ON recent (estado);\n"
    )
    sql = "-- UP\n" + view + "-- DOWN\nDROP INDEX recent_estado;\nDROP MATERIALIZED VIEW recent;\n"
    assert messages(sql, tmp_path) == []
    forgotten = (
        "-- UP\n" + view + "-- DOWN\nDROP MATERIALIZED VIEW recent;\n"
        "-- file: 202401030000__index.sql\n-- UP\nCREATE INDEX recent_n ON recent (n);\n"
        "-- DOWN\nSELECT 1;\n"
    )
    found = lint_findings(BASE + forgotten, RULE, tmp_path / "forgotten")
    assert [(f.path.rsplit("/", 1)[-1], f.line, f.message) for f in found] == [
        ("202401030000__index.sql", 2, "DOWN leaves index recent_n that UP added")
    ]
