"""`pgpreflight lint --fix`, `--unsafe-fixes` and `--diff` as users and editors meet them: what
is written, what is left alone, exit codes, and the fixes in JSON, SARIF and the lint cache."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from pgpreflight.linter.cli import main

ROOT = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = ROOT / "tests" / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"
RESULT_SCHEMA = ROOT / "linter" / "report" / "result-schema.json"

TABLES = """-- UP
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL);
-- DOWN
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS customers;
"""
# A safe fix (CONCURRENTLY with the marker, the file holding nothing else) and an unsafe one
# (NOT VALID + VALIDATE in a new migration).
INDEX = """-- UP
SET lock_timeout = '2s';
CREATE INDEX idx_orders_customer ON orders (customer_id);
-- DOWN
DROP INDEX IF EXISTS idx_orders_customer;
"""
FK = """-- UP
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT fk_orders_customer
    FOREIGN KEY (customer_id) REFERENCES customers (id);
-- DOWN
SET lock_timeout = '2s';
ALTER TABLE orders DROP CONSTRAINT IF EXISTS fk_orders_customer;
"""
SELECT = 'select = ["require-concurrent-index", "constraint-without-not-valid"]\n'


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "202401010000__tables.sql").write_text(TABLES)
    (folder / "202401020000__index.sql").write_text(INDEX)
    (folder / "202401030000__fk.sql").write_text(FK)
    (tmp_path / "pgpreflight.toml").write_text('migrations = ["migrations"]\n' + SELECT)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["lint", "--no-cache", *args])
    out, err = capsys.readouterr()
    return code, out, err


def files(repo: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((repo / "migrations").iterdir())}


def test_fix_applies_safe_fixes_and_reports_what_is_left(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "migrations", "--fix")
    assert code == 1  # the unsafe one is left, an error
    assert err == "pgpreflight: applied 1 fix to 1 file (1 more with --unsafe-fixes)\n"
    text = files(repo)
    assert text["202401020000__index.sql"].startswith("-- NO TRANSACTION\n-- UP\n")
    assert (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_customer"
        in text["202401020000__index.sql"]
    )
    assert text["202401030000__fk.sql"] == FK  # unsafe: untouched
    assert "require-concurrent-index" not in out
    assert "constraint-without-not-valid" in out
    assert out.rstrip().endswith("1 fixable with 'pgpreflight lint --fix --unsafe-fixes'.")


def test_unsafe_fixes_split_the_constraint_into_a_new_migration(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "migrations", "--fix", "--unsafe-fixes")
    assert code == 0, out
    assert err == "pgpreflight: applied 2 fixes to 2 files and 1 new file\n"
    text = files(repo)
    assert "REFERENCES customers (id) NOT VALID;" in text["202401030000__fk.sql"]
    new = text["202401030001__validate_fk_orders_customer.sql"]
    assert "ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_customer;" in new
    assert "-- DOWN" in new and "NOT VALID" in new.split("-- DOWN", 1)[1]
    assert "All checks passed" in out


def test_fix_twice_changes_nothing_the_second_time(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "migrations", "--fix", "--unsafe-fixes")
    first = files(repo)
    code, _, err = run(capsys, "migrations", "--fix", "--unsafe-fixes")
    assert code == 0 and err == "pgpreflight: nothing to fix\n"
    assert files(repo) == first


def test_diff_writes_nothing_and_exits_1_when_there_is_a_change(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = files(repo)
    code, out, err = run(capsys, "migrations", "--diff", "--unsafe-fixes")
    assert code == 1
    assert files(repo) == before
    assert (
        "--- a/migrations/202401020000__index.sql\n+++ b/migrations/202401020000__index.sql\n"
        in out
    )
    assert "+-- NO TRANSACTION\n" in out
    assert "--- /dev/null\n+++ b/migrations/202401030001__validate_fk_orders_customer.sql\n" in out
    assert err == "pgpreflight: would apply 2 fixes to 2 files and 1 new file; nothing written\n"
    run(capsys, "migrations", "--fix", "--unsafe-fixes")
    code, out, err = run(capsys, "migrations", "--diff")
    assert (code, out, err) == (0, "", "pgpreflight: nothing to fix\n")


def test_diff_of_safe_fixes_says_what_unsafe_ones_remain(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "migrations", "--diff")
    assert code == 1 and "NOT VALID" not in out
    assert err.endswith("(1 more with --unsafe-fixes); nothing written\n")


def test_fix_changes_only_the_files_it_was_given(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pre-commit passes the changed files: the rest of the history is read, never written."""
    before = files(repo)
    code, _, err = run(capsys, "migrations/202401030000__fk.sql", "--fix", "--unsafe-fixes")
    assert code == 0, err
    after = files(repo)
    assert after["202401020000__index.sql"] == before["202401020000__index.sql"]
    assert after["202401030000__fk.sql"] != before["202401030000__fk.sql"]


def test_a_fix_that_would_touch_another_file_is_left_out_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty down file of a pair is filled only when it was given too."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "000001_tags.up.sql").write_text("CREATE TABLE tags (id bigint PRIMARY KEY);\n")
    (folder / "000001_tags.down.sql").write_text("-- nothing\n")
    (tmp_path / "pgpreflight.toml").write_text(
        'migrations = ["migrations"]\nselect = ["empty-down-section"]\n'
    )
    code, _, err = run(capsys, "migrations/000001_tags.up.sql", "--fix")
    assert code == 1 and err == "pgpreflight: nothing to fix\n"
    assert (folder / "000001_tags.down.sql").read_text() == "-- nothing\n"
    code, _, err = run(capsys, "migrations", "--fix")
    assert code == 0, err
    assert (folder / "000001_tags.down.sql").read_text().endswith("DROP TABLE IF EXISTS tags;\n")


def test_missing_down_file_of_a_pair_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "000001_tags.up.sql").write_text(
        "CREATE TABLE tags (id bigint PRIMARY KEY);\nCREATE INDEX tags_id ON tags (id);\n"
    )
    code, _, err = run(capsys, "migrations", "--select", "missing-down-section", "--fix")
    assert code == 0 and err == "pgpreflight: applied 1 fix to 1 new file\n"
    down = (folder / "000001_tags.down.sql").read_text()
    assert down.splitlines()[-1] == "DROP TABLE IF EXISTS tags;"  # the index goes with it


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-", "--fix"], "cannot be combined with '-' (standard input)"),
        (["migrations", "--diff", "--write-baseline", "b.json"], "with --write-baseline"),
        (["migrations", "--unsafe-fixes"], "--unsafe-fixes goes with --fix or --diff"),
    ],
)
def test_fix_refuses_what_it_cannot_write(
    repo: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_fixes_in_json_sarif_and_through_the_cache(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "migrations", "--format", "json")
    assert code == 1
    data = json.loads(out)
    jsonschema.validate(data, json.loads(RESULT_SCHEMA.read_text()))
    split = next(f for f in data["findings"] if f["rule"] == "constraint-without-not-valid")
    assert split["fix"]["applicability"] == "unsafe"
    new = [e for e in split["fix"]["edits"] if e["new_file"]]
    assert [e["path"] for e in new] == ["migrations/202401030001__validate_fk_orders_customer.sql"]

    _, out, _ = run(capsys, "migrations", "--format", "sarif")
    sarif = json.loads(out)
    jsonschema.validate(sarif, json.loads(SARIF_SCHEMA.read_text()))
    fixes = [r["fixes"][0] for r in sarif["runs"][0]["results"] if "fixes" in r]
    assert len(fixes) == 2
    uris = {c["artifactLocation"]["uri"] for f in fixes for c in f["artifactChanges"]}
    assert "migrations/202401030001__validate_fk_orders_customer.sql" in uris

    cold = main(["lint", "migrations", "--format", "json"])
    cold_out = capsys.readouterr().out
    warm = main(["lint", "migrations", "--format", "json"])
    warm_out = capsys.readouterr().out
    assert cold == warm == 1
    assert json.loads(cold_out)["findings"] == json.loads(warm_out)["findings"] == data["findings"]


def test_fix_never_writes_through_a_symbolic_link(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = repo.parent / f"{repo.name}-outside.sql"
    outside.write_text(INDEX)
    link = repo / "migrations" / "202401020000__index.sql"
    link.unlink()
    link.symlink_to(outside)
    code, _, err = run(capsys, "migrations", "--fix")
    assert code == 1 and err == "pgpreflight: nothing to fix (1 more with --unsafe-fixes)\n"
    assert outside.read_text() == INDEX
