"""`lint --jobs`: forked workers check shares of the migrations; the findings are those of one
process, whatever the number of workers, and a worker that fails costs time, not findings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pgpreflight.linter import parallel
from pgpreflight.linter.cli import main
from pgpreflight.linter.config import find_config, load_config
from pgpreflight.linter.engine import lint

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "assist-move-assist"


def test_findings_do_not_depend_on_jobs(capsys: pytest.CaptureFixture[str]) -> None:
    outputs = []
    for jobs in ("1", "2", "3", "0"):
        code = main(["lint", str(EXAMPLE), "--no-cache", "--no-color", "--jobs", jobs])
        outputs.append((code, capsys.readouterr().out))
    assert outputs[0][0] == 1 and outputs[0][1]
    assert all(o == outputs[0] for o in outputs)


def test_workers_are_forked_and_a_failed_one_is_redone(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(find_config(EXAMPLE))
    expected = lint([EXAMPLE], config, jobs=1).findings
    forks: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(parallel.os, "fork", counting_fork)
    assert lint([EXAMPLE], config, jobs=3).findings == expected
    assert len(forks) == 2  # two workers, and this process takes the third share

    def failing_fork() -> int:
        pid = real_fork()
        if pid == 0:
            os._exit(1)  # a worker that dies before it answers
        forks.append(pid)
        return pid

    monkeypatch.setattr(parallel.os, "fork", failing_fork)
    assert lint([EXAMPLE], config, jobs=2).findings == expected


def test_jobs_out_of_range_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(EXAMPLE), "--jobs", "1000"]) == 2
    assert "1000 is not between 0 and 64" in capsys.readouterr().err


SPLIT_AND_DOWNS = """-- file: 20200101000000000000_base.postgres.up.sql
CREATE TABLE s (id bigint PRIMARY KEY, ok bool NOT NULL);
-- file: 20200101000000000000_base.postgres.down.sql
DROP TABLE s;
-- file: 20200607165100000000_settings.postgres.up.sql
ALTER TABLE s ADD COLUMN state text NOT NULL DEFAULT 'x';
-- file: 20200607165100000001_settings.postgres.up.sql
ALTER TABLE s DROP COLUMN ok;
-- file: 20200607165100000000_settings.postgres.down.sql
ALTER TABLE s ADD COLUMN ok bool NOT NULL DEFAULT false;
-- file: 20200607165100000001_settings.postgres.down.sql
ALTER TABLE s DROP COLUMN state;
-- file: 20200701000000000000_index.postgres.up.sql
CREATE INDEX s_state ON s (state);
-- file: 20200701000000000000_index.postgres.down.sql
DROP INDEX s_state;
ALTER TABLE s DROP COLUMN id;
-- file: 20200801000000000000_more.postgres.up.sql
ALTER TABLE s ADD COLUMN note text;
-- file: 20200801000000000000_more.postgres.down.sql
SELECT 1;
"""


def test_facts_found_in_workers_give_the_findings_of_one_process(tmp_path: Path) -> None:
    # Facts (and the DOWN sections they parse) are found where the rules run; a split
    # migration's files share theirs, found before the fork. Every share must see the same.
    from tests.helpers import make_config, write_history

    directory = tmp_path / "migrations"
    write_history(SPLIT_AND_DOWNS, directory)
    config = make_config(tmp_path)
    one = lint([directory], config, jobs=1).findings
    assert {(f.rule, f.section) for f in one} >= {
        ("down-does-not-revert", "up"),  # the DOWN that forgets `note`
        ("drop-column", "down"),  # the DOWN that drops `id`
    }
    # the split migration's DOWN files revert each other's UP: not reported as drops
    assert not [
        f for f in one if (f.rule, f.section) == ("drop-column", "down") and "settings" in f.path
    ]
    for jobs in (2, 3):
        assert lint([directory], config, jobs=jobs).findings == one
