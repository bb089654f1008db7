"""`pgpreflight schema`: text and JSON output, --at, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pgpreflight.linter.cli import main

HISTORY = Path(__file__).parent / "fixtures" / "schema_history"
EXAMPLE = (
    Path(__file__).parent.parent
    / "examples"
    / "assist-move-assist"
    / "apps"
    / "backend"
    / "src"
    / "database"
    / "migrations"
)


def test_text_after_the_last_migration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", str(HISTORY)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "-- schema after 202501010032__drop_index_and_column (32 of 32 migrations)\n"
    )
    assert "table users\n" in out and "  full_name character varying(120) NOT NULL\n" in out
    assert "unmodelled GrantStmt: privileges are not modelled" in out


def test_json_at_a_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", str(HISTORY), "--at", "202501010004", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["at"] == "202501010004__sessions"
    assert [t["name"] for t in data["schema"]["tables"]] == ["public.sessions", "public.users"]
    sessions = data["schema"]["tables"][0]
    assert [c["name"] for c in sessions["constraints"]] == [
        "sessions_check",
        "sessions_pkey",
        "sessions_user_id_fkey",
        "sessions_user_id_token_key",
    ]


def test_example_project(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", str(EXAMPLE), "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)["schema"]
    oficinas = next(t for t in data["tables"] if t["name"] == "public.oficinas")
    assert {"cidade", "estado", "link_inscricao"} <= {c["name"] for c in oficinas["columns"]}
    assert any(i["opclasses"] == ["gin_trgm_ops"] for i in oficinas["indexes"])
    assert data["unmodelled"] == [] and data["problems"] == []


def test_unknown_version_and_missing_path_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["schema", str(HISTORY), "--at", "1999"]) == 2
    assert "--at 1999: no migration with that version" in capsys.readouterr().err
    assert main(["schema", str(tmp_path / "missing")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
    assert main(["schema", str(tmp_path)]) == 2
    assert "no migrations found" in capsys.readouterr().err
