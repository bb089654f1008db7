"""Presets: `guide` (the team guide's conventions and safety, the default) and `safety`
(production safety only); every rule names the presets it belongs to, `select`/`ignore` apply on
top, and `init` picks one by looking at the history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pgpreflight.linter.cli import main
from pgpreflight.linter.config import load_config
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.errors import ConfigError
from pgpreflight.linter.init import choose_preset
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.registry import PRESET_NAMES, all_rules

from tests.helpers import ids, lint_findings, make_config, write_history

SQL = (
    "-- file: 202401010000__base.sql\n"
    "-- UP\nCREATE TABLE users (id bigint PRIMARY KEY, name text);\n"
    "-- DOWN\nDROP TABLE users;\n"
    "-- file: 202401020000__change.sql\n"
    "CREATE INDEX idx_users_name ON users (name);\n"
)


def test_every_rule_names_its_presets() -> None:
    for rule in all_rules().values():
        assert rule.presets and set(rule.presets) <= set(PRESET_NAMES), rule.id
        assert isinstance(rule.module.PRESETS, tuple), rule.id


def test_guide_is_the_default_and_holds_every_rule() -> None:
    assert all("guide" in r.presets for r in all_rules().values())
    assert make_config(Path()).get("preset") == "guide"


def test_equivalents_are_lists() -> None:
    for rule in all_rules().values():
        for linter, names in rule.module.EQUIVALENTS.items():
            assert isinstance(names, list) and all(" " not in n for n in names), (rule.id, linter)
        assert json.loads(json.dumps(rule.to_dict()))["equivalents"] == rule.module.EQUIVALENTS


def test_safety_preset_drops_the_house_conventions(tmp_path: Path) -> None:
    guide = set(ids(lint_findings(SQL, None, tmp_path / "g")))
    safety = set(ids(lint_findings(SQL, None, tmp_path / "s", preset="safety")))
    assert {"missing-down-section", "missing-audit-columns", "nullable-column"} <= guide
    assert "require-concurrent-index" in safety and "require-lock-timeout" in safety
    assert not safety & {"missing-down-section", "missing-audit-columns", "nullable-column"}


def test_select_and_ignore_apply_on_top_of_the_preset(tmp_path: Path) -> None:
    found = ids(
        lint_findings(
            SQL,
            None,
            tmp_path / "a",
            preset="safety",
            extend_select=["missing-down-section"],
            ignore=["require-lock-timeout"],
        )
    )
    assert "missing-down-section" in found and "require-lock-timeout" not in found
    only = ids(lint_findings(SQL, None, tmp_path / "b", preset="safety", select=["ALL"]))
    assert "nullable-column" not in only and "require-concurrent-index" in only


def test_unknown_preset_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="preset"):
        make_config(tmp_path, preset="strict")


def _history(tmp_path: Path, sql: str) -> list[Migration]:
    write_history(sql, tmp_path)
    return discover([tmp_path])


def test_init_picks_safety_for_a_history_without_downs(tmp_path: Path) -> None:
    migrations = _history(
        tmp_path,
        "-- file: 202401010000__a.sql\nCREATE TABLE a (id bigint PRIMARY KEY);\n"
        "-- file: 202401020000__b.sql\nCREATE TABLE b (id bigint PRIMARY KEY);\n",
    )
    preset, why = choose_preset(migrations)
    assert preset == "safety" and "0 of 2 migrations have a DOWN section" in why


def test_init_picks_safety_for_a_history_without_audit_columns(tmp_path: Path) -> None:
    migrations = _history(
        tmp_path,
        "-- file: 202401010000__a.sql\n-- UP\nCREATE TABLE a (id bigint PRIMARY KEY);\n"
        "-- DOWN\nDROP TABLE a;\n",
    )
    preset, why = choose_preset(migrations)
    assert preset == "safety" and "audit columns" in why


def test_init_picks_guide_for_a_history_that_follows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_history(
        "-- file: db/202401010000__a.sql\n-- UP\nCREATE TABLE a (id bigint PRIMARY KEY, "
        "created_at timestamptz, updated_at timestamptz, created_by uuid, updated_by uuid);\n"
        "-- DOWN\nDROP TABLE a;\n",
        tmp_path,
    )
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert "preset guide: 1 of 1 migrations have a DOWN section" in out
    assert load_config(tmp_path / "pgpreflight.toml").get("preset") == "guide"
