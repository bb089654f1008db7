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
    code, out, _ = run(capsys, "new", "x", "--dir", "m")
    assert code == 0 and "202405011231__x.sql" in out
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


def _frozen(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    import pgpreflight.linter.scaffold as scaffold

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return moment

    monkeypatch.setattr(scaffold, "datetime", Frozen)


@pytest.mark.parametrize(
    ("convention", "names"),
    [
        (
            "updown",
            ["202405011230__add_a.sql", "202405011231__add_b.sql", "202405011232__add_c.sql"],
        ),
        (
            "goose",
            ["20240501123059_add_a.sql", "20240501123100_add_b.sql", "20240501123101_add_c.sql"],
        ),
        (
            "golang-migrate",
            [
                "20240501123059_add_a.down.sql",
                "20240501123059_add_a.up.sql",
                "20240501123100_add_b.down.sql",
                "20240501123100_add_b.up.sql",
                "20240501123101_add_c.down.sql",
                "20240501123101_add_c.up.sql",
            ],
        ),
    ],
)
def test_new_three_times_in_one_minute_never_repeats_a_version(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    convention: str,
    names: list[str],
) -> None:
    """Issue 16: two `new` in the same minute made one version twice, and lint failed."""
    _frozen(monkeypatch, datetime(2024, 5, 1, 12, 30, 59))
    (repo / "pgpreflight.toml").write_text(
        f'migrations = ["migrations"]\nconvention = "{convention}"\n'
    )
    for word in ("a", "b", "c"):
        code, out, err = run(capsys, "new", f"add {word}")
        assert code == 0, err
    assert sorted(p.name for p in (repo / "migrations").iterdir()) == names
    code, out, _ = run(capsys, "lint", "--no-cache", "--select", "duplicate-version")
    assert code == 0 and "no findings" in out, out


@pytest.mark.parametrize("description", ["add orders", "create table orders"])
@pytest.mark.parametrize("convention", ["updown", "goose", "dbmate", "golang-migrate", "dir-pair"])
def test_fresh_init_and_new_lint_with_no_finding(
    repo: Path, capsys: pytest.CaptureFixture[str], description: str, convention: str
) -> None:
    """The file `new` writes passes every default rule in a project that has nothing else, not
    even a users table: no nullable author column, DOWN sets lock_timeout too."""
    code, _, err = run(capsys, "init")
    assert code == 0, err
    code, out, err = run(capsys, "new", description, "--convention", convention)
    assert code == 0, err
    text = "".join(p.read_text() for p in (repo / "migrations").rglob("*.sql"))
    assert "users" not in text and "colunas" not in text  # English comments by default
    code, out, err = run(capsys, "lint", "--no-cache")
    assert (code, err) == (0, ""), out
    assert "no findings" in out


def test_new_follows_the_configured_users_table_and_language(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mig = repo / "migrations"
    mig.mkdir()
    (mig / "202401010000__criar_tabela_users.sql").write_text(
        "-- UP\nSET lock_timeout = '2s';\n"
        "CREATE TABLE users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),\n"
        "  created_at timestamptz NOT NULL DEFAULT now(),\n"
        "  updated_at timestamptz NOT NULL DEFAULT now(),\n"
        "  created_by uuid NOT NULL, updated_by uuid NOT NULL);\n"
        "-- DOWN\nSET lock_timeout = '2s';\nDROP TABLE IF EXISTS users;\n"
    )
    (repo / "pgpreflight.toml").write_text(
        'migrations = ["migrations"]\ntemplate-language = "pt"\n'
        '[rules.audit-column-type]\nusers-table = "users"\n'
    )
    code, _, err = run(capsys, "new", "criar tabela oficinas")
    assert code == 0, err
    [created] = [p for p in mig.iterdir() if "oficinas" in p.name]
    text = created.read_text()
    assert "REFERENCES users (id)" in text and "-- colunas:" in text
    code, out, _ = run(capsys, "lint", "--no-cache", str(created.relative_to(repo)))
    assert code == 0 and "no findings" in out, out


def test_new_with_a_long_description_cuts_the_file_name(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 300-character description was an internal error: file name too long."""
    (repo / "pgpreflight.toml").write_text('migrations = ["migrations"]\n')
    description = " ".join(["adicionar coluna de observacoes"] * 10)[:300]
    assert len(description) == 300
    code, out, err = run(capsys, "new", description)
    assert code == 0, err
    [created] = (repo / "migrations").iterdir()
    slug = created.name.split("__", 1)[1][: -len(".sql")]
    assert len(slug) <= 60 and not slug.endswith("_") and slug.startswith("adicionar_coluna")
    code, out, _ = run(capsys, "lint", "--no-cache", "--select", "invalid-migration-filename")
    assert code == 0, out
    assert len(slugify("x" * 300)) == 60


def test_template_language_is_validated(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pgpreflight.toml").write_text('migrations = ["m"]\ntemplate-language = "fr"\n')
    code, _, err = run(capsys, "new", "x")
    assert code == 2 and "'template-language' must be one of en, pt" in err


def test_convention_names_match_discovery() -> None:
    from pgpreflight.linter.conventions import CONVENTIONS
    from pgpreflight.linter.discovery import MARKER_CONVENTIONS

    assert set(CONVENTIONS) >= MARKER_CONVENTIONS
    assert CONVENTIONS[0] == "auto" and len(set(CONVENTIONS)) == len(CONVENTIONS)


def test_new_keeps_a_multi_line_description_in_one_comment(tmp_path: Path) -> None:
    [(path, text)] = plan(
        "add x\nDROP TABLE users;", tmp_path, "updown", datetime(2024, 5, 1)
    ).items()
    assert "-- add x DROP TABLE users;\n" in text and "\nDROP TABLE users" not in text
    assert path.name == "202405010000__add_x_drop_table_users.sql"
