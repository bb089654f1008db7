"""The models provenance reads before each statement: the history's replay keeps those of every
reported UP (`Replay.sections`) instead of provenance replaying the section a second time, so
they must be the very states provenance's own replay (`section_replay`) goes through; and diffs
of models that share storage must say what diffs of models built apart say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pglast import parse_sql
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.provenance import SectionReplay
from pgpreflight.linter.replay import replay
from pgpreflight.linter.schema import SchemaModel, diff
from pgpreflight.linter.schema.render import model_to_dict

UPS = [
    "CREATE TABLE account (id bigint PRIMARY KEY, email text NOT NULL, nick text);\n"
    "CREATE INDEX account_nick ON account (nick);\n"
    "CREATE TYPE mood AS ENUM ('ok', 'sad');",
    "ALTER TABLE account ADD COLUMN mood mood;\n"
    "ALTER TABLE account RENAME COLUMN nick TO handle;\n"
    "INSERT INTO account (id, email) VALUES (1, 'a@b');\n"
    "ALTER TABLE account DROP COLUMN handle;\n"
    "DROP TABLE nosuch;\n"  # a problem: recorded in the model before the next statement
    "CREATE VIEW emails AS SELECT id, email FROM account;\n"
    "DROP VIEW emails;",
    # a DO block: provenance replays its statements once more after it, the replay does not
    "DO $$ BEGIN\n  CREATE TABLE made (id bigint);\nEND $$;\nDROP TABLE made;",
]


def _history(tmp_path: Path) -> list[Migration]:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for i, up in enumerate(UPS, start=1):
        (folder / f"20240101{i:06d}__m{i}.sql").write_text(f"-- UP\n{up}\n-- DOWN\nSELECT 1;\n")
    return discover([folder])


def _state(model: SchemaModel) -> Any:
    """All the model holds, printed out: equal whatever storage two models share."""
    return (
        model_to_dict(model),
        [p.message for p in model.problems],
        [(u.kind, u.reason) for u in model.unmodelled],
    )


def test_the_replay_keeps_each_up_as_provenance_would_replay_it(tmp_path: Path) -> None:
    migrations = _history(tmp_path)
    history = replay(migrations, {})
    for i, migration in enumerate(migrations[:2]):
        base = history.snapshots[i]
        assert base is not None
        kept = history.sections[SectionReplay.key_of(base, migration.up)]
        assert kept.base is base and kept.after is history.snapshots[i + 1]
        # provenance's own replay of the section, on a copy of the same base
        model = base.copy()
        for statement in migration.up.all_statements():
            assert _state(kept.before[id(statement)]) == _state(model)
            model.apply(statement.node, location=statement)
        assert _state(kept.after) == _state(model)
    assert kept.before  # the checks above did run over statements


def test_sections_the_replay_walks_otherwise_are_left_to_provenance(tmp_path: Path) -> None:
    migrations = _history(tmp_path)
    migrations[0].reported = False  # not checked by any rule: nothing kept for it
    history = replay(migrations, {})
    kept = {key[1] for key in history.sections}
    assert kept == {id(migrations[1].up)}  # not the DO block's migration either


def _model(sql: str, model: SchemaModel | None = None) -> SchemaModel:
    model = model if model is not None else SchemaModel()
    for raw in parse_sql(sql):
        model.apply(raw.stmt)
    return model


def test_a_diff_of_models_sharing_storage_is_the_diff_of_models_built_apart() -> None:
    # diff compares only the entries two models do not share: a copy changed and changed
    # back, a rename there and back, must read as a diff between independent models does
    history = (
        "".join(
            f"CREATE TABLE t{i} (id bigint PRIMARY KEY, v text NOT NULL, w int DEFAULT {i});"
            f"CREATE INDEX t{i}_v ON t{i} (v);"
            for i in range(40)
        )
        + "CREATE TYPE mood AS ENUM ('ok'); CREATE VIEW v AS SELECT id FROM t1;"
    )
    changes = (
        "ALTER TABLE t3 RENAME COLUMN v TO v2; ALTER TABLE t3 RENAME COLUMN v2 TO v;"
        "ALTER TABLE t5 ADD COLUMN x int; ALTER TABLE t7 DROP COLUMN w;"
        "DROP INDEX t9_v; CREATE INDEX t9_v_again ON t9 (v);"
        "ALTER TYPE mood ADD VALUE 'sad'; CREATE OR REPLACE VIEW v AS SELECT id, v FROM t1;"
        "DROP TABLE t11; CREATE TABLE t11 (id bigint PRIMARY KEY, v text NOT NULL, w int DEFAULT 11);"
        "CREATE INDEX t11_v ON t11 (v); ALTER TABLE t13 RENAME TO t13_old;"
    )
    before = _model(history)
    shared = _model(changes, before.copy())
    apart_before, apart_after = _model(history), _model(history + changes)
    assert diff(before, shared)  # something changed
    assert diff(before, shared) == diff(apart_before, apart_after)
    assert diff(shared, before) == diff(apart_after, apart_before)
    assert diff(before, before.copy()) == [] == diff(apart_before, _model(history))


def test_the_analysis_hands_the_kept_sections_to_provenance(tmp_path: Path) -> None:
    # what the replay kept is where provenance looks first: it must not replay the UP again
    from pgpreflight.linter.analysis import Analysis

    migrations = _history(tmp_path)
    history = replay(migrations, {})
    analysis = Analysis(migrations, history)
    assert history.sections
    for key, kept in history.sections.items():
        assert analysis.statement_models[key] is kept
