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
