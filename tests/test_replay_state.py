"""The saved replay state (linter/replay.py, `.pgpreflight_cache/state/`): a one-file run resumes
from the history before it, never parses that history again, gives exactly the findings of a
run without the cache, and never loads an entry it did not write."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from pgpreflight.linter import discovery
from pgpreflight.linter.cli import main

# Each migration leans on what the earlier ones left: a later rule needs the view, the index
# made on it (which the model cannot apply: a gap), the enum, the role's lock_timeout default.
HISTORY = [
    "CREATE TABLE account (id bigint PRIMARY KEY, email text NOT NULL, created_at timestamptz);",
    "CREATE TYPE mood AS ENUM ('ok', 'sad');\nALTER TABLE account ADD COLUMN mood mood;",
    "CREATE MATERIALIZED VIEW account_emails AS SELECT id, email FROM account;",
    "CREATE INDEX account_emails_email ON account_emails (email);",
    "ALTER ROLE CURRENT_USER SET lock_timeout = '3s';",
    "CREATE TABLE visit (id bigint PRIMARY KEY, account_id bigint REFERENCES account (id));",
    "CREATE INDEX visit_account ON visit (account_id);",
    "ALTER TABLE account ADD COLUMN nickname varchar(40);",
]
LAST = (
    "ALTER TABLE account ALTER COLUMN email TYPE varchar(200);\n"
    "CREATE INDEX visit_account_again ON visit (account_id);\n"
    "DROP INDEX account_emails_email;\n"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    folder = root / "migrations"
    folder.mkdir(parents=True)
    (root / "pgpreflight.toml").write_text('migrations = ["migrations"]\n')
    for i, up in enumerate([*HISTORY, LAST], start=1):
        (folder / f"20240101{i:06d}__m{i}.sql").write_text(f"-- UP\n{up}\n-- DOWN\nSELECT 1;\n")
    return root


def newest(project: Path) -> Path:
    return sorted((project / "migrations").iterdir())[-1]


def run(project: Path, *args: str, seed: str = "0") -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "pgpreflight.linter", "lint", "--no-color", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONHASHSEED": seed},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout


def counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files whose sections get parsed from now on, one entry per section."""
    parsed: list[str] = []
    real = discovery.parse_section

    def counting(section: object) -> None:
        parsed.append(section.source.display)  # type: ignore[attr-defined]
        real(section)  # type: ignore[arg-type]

    monkeypatch.setattr(discovery, "parse_section", counting)
    return parsed


def states(project: Path) -> list[Path]:
    return sorted((project / ".pgpreflight_cache" / "state").glob("*.pickle"))


def test_one_file_runs_resume_and_match_an_uncached_run(project: Path) -> None:
    target = str(newest(project).relative_to(project))
    first = run(project, target, seed="1")
    assert states(project), "a run saves the state before the file it reports"
    assert first == run(project, target, "--no-cache")
    for edit in range(3):
        up = newest(project).read_text()
        up = up.replace("-- DOWN", f"ALTER TABLE visit ADD COLUMN note{edit} text;\n-- DOWN")
        newest(project).write_text(up)
        # Another hash seed each time: a state written by one process is read by another.
        cached = run(project, target, seed=str(edit + 2))
        assert cached == run(project, target, "--no-cache"), edit
    # What only the history tells: the index it made, the role's lock_timeout it set.
    assert "duplicates visit_account (account_id)" in cached[1]
    assert "require-statement-timeout" in cached[1] and "require-lock-timeout" not in cached[1]


def test_resumed_run_parses_only_the_reported_file(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project)
    target = str(newest(project).relative_to(project))
    assert main(["lint", "--no-color", target]) == 1
    expected = capsys.readouterr().out
    with newest(project).open("a") as f:
        f.write("SELECT 2;\n")  # the whole-result entry misses; the state before it does not
    parsed = counting_parses(monkeypatch)
    assert main(["lint", "--no-color", target]) == 1
    assert capsys.readouterr().out == expected
    assert set(parsed) == {target}, parsed


def test_history_after_the_file_is_replayed_only_when_a_rule_asks(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Linting a migration in the middle of the history replays up to it; what comes after is
    parsed and replayed only for a rule that reads the final model (a foreign key: is it
    indexed by the end of the history?), and the findings are those of a full replay."""
    monkeypatch.chdir(project)
    files = sorted((project / "migrations").iterdir())
    middle, later = files[3], {str(f.relative_to(project)) for f in files[4:]}
    target = str(middle.relative_to(project))
    parsed = counting_parses(monkeypatch)
    main(["lint", "--no-cache", "--no-color", target])
    capsys.readouterr()
    assert not set(parsed) & later, parsed
    middle.write_text(
        middle.read_text().replace(
            "-- DOWN",
            "ALTER TABLE account ADD COLUMN referrer bigint REFERENCES account (id);\n-- DOWN",
        )
    )
    parsed.clear()
    main(["lint", "--no-cache", "--no-color", "--select", "foreign-key-without-index", target])
    out = capsys.readouterr().out
    assert later <= set(parsed)
    assert "foreign key account(referrer) has no index" in out


def test_a_stopped_replay_goes_on_when_asked(project: Path) -> None:
    from pgpreflight.linter.replay import replay

    migrations = discovery.discover([project / "migrations"])
    stopped = replay(migrations, {}, stop=3)
    assert len(stopped.snapshots) == 4 and not stopped.finished
    assert stopped.state(3) is not None and stopped.state(len(migrations)) is None
    final = stopped.final()
    assert stopped.finished and final is stopped.snapshots[-1]
    assert len(stopped.snapshots) == len(migrations) + 1
    whole = replay(migrations, {}).final()
    assert whole is not None and final is not None
    assert sorted(final.tables) == sorted(whole.tables) and "public.visit" in final.tables
    assert stopped.defaults[-1] == {"lock_timeout": "3s"}


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch pwned",))


def test_a_planted_state_is_never_loaded(project: Path) -> None:
    target = str(newest(project).relative_to(project))
    expected = run(project, target, "--no-cache")
    run(project, target)
    planted = states(project)
    assert planted
    for entry in planted:  # a pull request could commit a cache folder
        entry.write_bytes(pickle.dumps(_Payload()))
    with newest(project).open("a") as f:
        f.write("SELECT 3;\n")
    code, out = run(project, target)
    assert not (project / "pwned").exists()
    assert (code, out) == run(project, target, "--no-cache")
    assert expected[0] == code


def test_history_edited_before_the_file_misses(project: Path) -> None:
    target = str(newest(project).relative_to(project))
    run(project, target)
    first = sorted((project / "migrations").iterdir())[0]
    first.write_text(first.read_text().replace("email text NOT NULL", "email text"))
    cached = run(project, target)
    assert cached == run(project, target, "--no-cache")


def test_the_state_edits_resume_from_outlives_pruning(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every edit of the newest migration saves a state after it and resumes from the one
    before it; that one is kept however many edits come (the cache keeps its newest entries)."""
    monkeypatch.chdir(project)
    target = str(newest(project).relative_to(project))
    parsed = counting_parses(monkeypatch)
    for edit in range(12):
        with newest(project).open("a") as f:
            f.write(f"SELECT {edit};\n")
        parsed.clear()
        main(["lint", "--no-color", target])
        capsys.readouterr()
        if edit:  # the first run fills the cache
            assert set(parsed) == {target}, (edit, sorted(set(parsed))[:3])
    assert len(states(project)) <= 8
