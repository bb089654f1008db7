"""The lint cache (`.pgpreflight_cache/`): a warm run gives exactly what a cold run gives, any
change to an input misses, and a broken or foreign entry is never trusted."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pgpreflight.linter.cli import main

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "assist-move-assist"
FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".pgpreflight_cache"))
    return copy


def lint(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, str]:
    code = main(["lint", str(project), "--no-color", *args])
    return code, capsys.readouterr().out


def entries(project: Path) -> list[Path]:
    return sorted((project / ".pgpreflight_cache" / "lint").glob("*.json"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_warm_run_is_identical_to_cold(
    capsys: pytest.CaptureFixture[str], project: Path, fmt: str
) -> None:
    uncached = lint(capsys, project, "--format", fmt, "--no-cache")
    assert not (project / ".pgpreflight_cache").exists()
    cold = lint(capsys, project, "--format", fmt)
    assert len(entries(project)) == 1
    warm = lint(capsys, project, "--format", fmt)
    assert uncached == cold == warm
    assert uncached[0] == 1 and uncached[1]


def test_cache_folder_is_tagged_and_ignored(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    lint(capsys, project)
    folder = project / ".pgpreflight_cache"
    assert (
        (folder / "CACHEDIR.TAG")
        .read_text()
        .startswith("Signature: 8a477f597d28d172789f06886806bc55")
    )
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"


def test_edited_migration_misses(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    _, before = lint(capsys, project)
    migration = next((project / "apps").rglob("202404021600__criar_tabela_inscricoes.sql"))
    migration.write_text(migration.read_text() + "\nCREATE INDEX idx_late ON oficinas (nome);\n")
    _, after = lint(capsys, project)
    assert "idx_late" in after and "idx_late" not in before
    assert len(entries(project)) == 2
    assert lint(capsys, project, "--no-cache")[1] == after


def test_config_and_options_are_part_of_the_key(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    _, everything = lint(capsys, project)
    _, one_rule = lint(capsys, project, "--select", "missing-down-section")
    assert one_rule != everything
    assert {line.split()[2] for line in one_rule.splitlines() if ": error " in line} == {
        "missing-down-section"
    }
    config = project / "pgpreflight.toml"
    config.write_text(config.read_text() + 'ignore = ["missing-audit-columns"]\n')
    _, ignored = lint(capsys, project)
    assert "missing-audit-columns" in everything and "missing-audit-columns" not in ignored


def test_application_query_files_are_part_of_the_key(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    _, before = lint(capsys, project)
    query = next((project / "queries").glob("*.sql"))
    query.write_text(query.read_text() + "\nSELECT * FROM inscricoes WHERE status = $1;\n")
    _, after = lint(capsys, project)
    assert after == lint(capsys, project, "--no-cache")[1]
    assert len(entries(project)) == 2
    assert before != after or entries(project)  # a new key even when findings agree


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_text(p.read_text()[: len(p.read_text()) // 2]),  # cut half-way
        lambda p: p.write_bytes(b"\xff\xfe not json"),
        lambda p: p.write_text(json.dumps({"format": 999, "key": p.stem, "result": {}})),
        lambda p: p.write_text(json.dumps({"format": 1, "key": "another", "result": {}})),
        lambda p: p.write_text(json.dumps({"format": 1, "key": p.stem, "result": []})),
    ],
    ids=["truncated", "binary", "foreign-format", "wrong-key", "wrong-shape"],
)
def test_broken_entry_is_ignored_and_rewritten(
    capsys: pytest.CaptureFixture[str], project: Path, damage: object
) -> None:
    expected = lint(capsys, project)
    (entry,) = entries(project)
    damage(entry)  # type: ignore[operator]
    assert lint(capsys, project) == expected
    assert json.loads(entry.read_text())["result"]["findings"]


def test_clean_removes_only_a_tagged_cache(
    capsys: pytest.CaptureFixture[str], project: Path, tmp_path: Path
) -> None:
    lint(capsys, project)
    assert main(["clean", str(project)]) == 0
    assert not (project / ".pgpreflight_cache").exists()
    assert "removed" in capsys.readouterr().err
    stranger = tmp_path / "other"
    (stranger / ".pgpreflight_cache").mkdir(parents=True)
    (stranger / ".pgpreflight_cache" / "keep.txt").write_text("not ours")
    assert main(["clean", str(stranger)]) == 0
    assert (stranger / ".pgpreflight_cache" / "keep.txt").exists()


def test_concurrent_runs_do_not_corrupt_the_cache(project: Path) -> None:
    command = [sys.executable, "-m", "pgpreflight.linter", "lint", str(project), "--no-color"]
    runs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = {run.communicate(timeout=300)[0] for run in runs}
    assert len(outputs) == 1
    (entry,) = entries(project)
    assert json.loads(entry.read_text())["key"] == entry.stem
    assert not list(entry.parent.glob(".tmp-*"))
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.stdout in outputs


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "sarif"])
def test_warm_run_loads_neither_pglast_nor_the_rules(project: Path, fmt: str) -> None:
    """A result the cache holds is shown without the parser or any rule: those imports were
    most of a warm run. (SARIF describes each rule it names, from the rule's module.)"""
    code = (
        "import sys; from pgpreflight.linter.cli import main;"
        f"rc = main(['lint', '.', '--no-color', '--format', {fmt!r}]);"
        "loaded = sorted(m for m in sys.modules if m == 'pglast' or m.startswith("
        "('pglast.', 'pgpreflight.rules.', 'pgpreflight.linter.engine')));"
        "print('LOADED', loaded, file=sys.stderr); sys.exit(rc)"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=project)
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [1, 1], runs[1].stderr
    assert "'pglast'" in runs[0].stderr  # cold: parsed
    assert "LOADED []" in runs[1].stderr  # warm: shown from the cache
    assert runs[0].stdout == runs[1].stdout
