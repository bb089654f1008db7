"""`pgpreflight new` and `pgpreflight init` in temporary git repositories."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from pgpreflight.linter.cli import main
from pgpreflight.linter.config import load_config
from pgpreflight.linter.scaffold import plan, slugify


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_slugify_folds_accents() -> None:
    assert slugify("Adicionar tabela Oficinas") == "adicionar_tabela_oficinas"
    assert slugify("migração: índice  em `inscrições`!") == "migracao_indice_em_inscricoes"


def test_new_creates_a_migration_that_passes_lint(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mig = repo / "apps/backend/src/database/migrations"
    mig.mkdir(parents=True)
    (mig / "202401010000__criar_tabela_users.sql").write_text(
        "-- UP\nCREATE TABLE users (id uuid PRIMARY KEY DEFAULT gen_random_uuid());\n-- DOWN\nDROP TABLE users;\n"
    )
    (repo / "pgpreflight.toml").write_text(
        'migrations = ["apps/backend/src/database/migrations"]\n'
    )
    code, out, _ = run(capsys, "new", "adicionar tabela oficinas")
    assert code == 0
    [created] = [p for p in mig.iterdir() if "oficinas" in p.name]
    assert out.startswith("created ") and created.name in out
    import re

    assert re.fullmatch(r"\d{12}__adicionar_tabela_oficinas\.sql", created.name)
    text = created.read_text()
    assert "-- UP" in text and "-- DOWN" in text and "DROP TABLE IF EXISTS oficinas" in text
    for column in ("created_at", "updated_at", "created_by", "updated_by"):
        assert column in text
    # what the template makes passes the guide's structural rules
    code, out, _ = run(
        capsys,
        "lint",
        str(created.relative_to(repo)),
        "--select",
        "missing-down-section,empty-down-section,syntax-error,invalid-migration-filename",
    )
    assert code == 0, out


def test_new_cli_refuses_existing_file(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pgpreflight.linter.scaffold as scaffold

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return datetime(2024, 5, 1, 12, 30)

    monkeypatch.setattr(scaffold, "datetime", Frozen)
    (repo / "m").mkdir()
    (repo / "m" / "202405011230__x.sql").write_text("keep me")
    code, _, err = run(capsys, "new", "x", "--dir", "m")
    assert code == 2 and "already exists" in err
    assert (repo / "m" / "202405011230__x.sql").read_text() == "keep me"


@pytest.mark.parametrize(
    ("convention", "existing", "expected"),
    [
        (
            "golang-migrate",
            ["000001_a.up.sql", "000001_a.down.sql"],
            ["000002_add_tags.up.sql", "000002_add_tags.down.sql"],
        ),
        (
            "dir-pair",
            [],
            ["2024-05-01-123000_add_tags/up.sql", "2024-05-01-123000_add_tags/down.sql"],
        ),
        ("flyway", ["V3__a.sql"], ["V4__add_tags.sql", "U4__add_tags.sql"]),
        ("goose", [], ["20240501123000_add_tags.sql"]),
        ("dbmate", [], ["20240501123000_add_tags.sql"]),
    ],
)
def test_new_in_each_convention(
    tmp_path: Path, convention: str, existing: list[str], expected: list[str]
) -> None:
    for name in existing:
        (tmp_path / name).write_text("SELECT 1;\n")
    files = plan("add tags", tmp_path, convention, datetime(2024, 5, 1, 12, 30))
    assert sorted(p.relative_to(tmp_path).as_posix() for p in files) == sorted(expected)
    from pgpreflight.linter.discovery import discover

    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    new = [m for m in discover([tmp_path]) if "tags" in m.name]
    assert len(new) == 1 and new[0].convention == convention and new[0].down is not None


def test_init_detects_folder_and_convention(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mig = repo / "db" / "migrations"
    mig.mkdir(parents=True)
    for i in range(3):
        (mig / f"2024010{i + 1}1200_step{i}.sql").write_text(
            f"-- migrate:up\nCREATE TABLE t{i} (id int);\n-- migrate:down\nDROP TABLE t{i};\n"
        )
    (repo / "queries").mkdir()
    (repo / "queries" / "q.sql").write_text("SELECT 1;\n")
    code, out, _ = run(capsys, "init")
    assert code == 0 and "found 3 migration(s) in db/migrations (dbmate)" in out
    config = load_config(repo / "pgpreflight.toml")
    assert config.get("migrations") == ["db/migrations"] and config.get("convention") == "dbmate"
    text = (repo / "pgpreflight.toml").read_text()
    assert "# lock-timeout" in text and "# fail-on" in text
    # and lint now runs with no arguments, on the folder init found
    code, out, _ = run(capsys, "lint", "--select", "missing-down-section,syntax-error")
    assert code == 0 and "3 migrations (3 files)" in out, out
    # refuses to overwrite
    code, _, err = run(capsys, "init")
    assert code == 2 and "already exists" in err


def test_init_writes_into_existing_pyproject(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "pyproject.toml").write_text('[project]\nname = "app"\n')
    (repo / "migrations").mkdir()
    (repo / "migrations" / "000001_init.up.sql").write_text("CREATE TABLE a (id int);\n")
    (repo / "migrations" / "000001_init.down.sql").write_text("DROP TABLE a;\n")
    code, out, _ = run(capsys, "init")
    assert code == 0 and "golang-migrate" in out
    config = load_config(repo / "pyproject.toml")
    assert config.get("convention") == "golang-migrate"
    text = (repo / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "app"\n')


def test_init_lists_only_valid_options(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Uncommenting every option init lists gives a configuration pgpreflight accepts."""
    import re

    code, out, _ = run(capsys, "init", "--stdout")
    assert code == 0
    uncommented = re.sub(r"^# (?=\[|[a-z][a-z0-9-]*\s*=|\"[^\"]+\"\s*=)", "", out, flags=re.M)
    (repo / "pgpreflight.toml").write_text(uncommented)
    config = load_config(repo / "pgpreflight.toml")
    assert config.get("lock-timeout") == "2s" and config.get("rules")
