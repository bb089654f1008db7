"""Bad configuration and empty selections: exit 2 with the file and key named, never a traceback
and never a silent pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pgpreflight.linter.cli import main

MIGRATION = "-- UP\nSELECT 1;\n-- DOWN\nSELECT 1;\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "202401010000__a.sql").write_text(MIGRATION)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["lint", "--no-cache", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, err


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("explain-runs = 99999999999999999", "'explain-runs' must be from 1 to 100"),
        ("explain-runs = 0", "'explain-runs' must be from 1 to 100"),
        ("sample-rows = -1", "'sample-rows' must be from 0 to 10000000"),
        ("synthesize-rows = -5", "'synthesize-rows' must be from 0 to 10000000"),
        ('statement-timeout = "forever"', "'statement-timeout': invalid duration 'forever'"),
        ('lock-timeout = "2h"', "'lock-timeout' must be from 1ms to 1h"),
        ('idle-in-transaction-timeout = "0"', "'idle-in-transaction-timeout' must be from"),
        ("[explain-thresholds]\nmisestimate-factor = -1", "must be a non-negative number"),
        ("[explain-thresholds]\nbogus = 1", "unknown threshold 'bogus'"),
        ('per-file-ignores = "x"', "'per-file-ignores' must be a table"),
        ('per-file-ignores = {"*.sql" = "syntax-error"}', "must be a list of rule ids"),
    ],
)
def test_bad_setting_is_named_with_exit_2(
    capsys: pytest.CaptureFixture[str], project: Path, setting: str, message: str
) -> None:
    config = project / "pgpreflight.toml"
    config.write_text(f'migrations = ["m"]\n{setting}\n')
    code, err = _run(capsys, "--config", str(config), str(project / "m"))
    assert code == 2
    assert str(config) in err and message in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[tool]\npgpreflight = "x"\n',
            "[tool.pgpreflight] must be a table of settings, got a string",
        ),
        ("[tool]\npgpreflight = 3\n", "[tool.pgpreflight] must be a table of settings"),
        (
            "[tool]\npgpreflight = [1]\n",
            "[tool.pgpreflight] must be a table of settings, got a list",
        ),
        ("a = " + "[" * 6000 + "]" * 6000 + "\n", "invalid TOML: nested too deeply to read"),
    ],
    ids=["string", "number", "array", "deep"],
)
def test_bad_pyproject_table(
    capsys: pytest.CaptureFixture[str],
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    message: str,
) -> None:
    (project / "pyproject.toml").write_text(text)
    monkeypatch.chdir(project)
    code, err = _run(capsys, "m")
    assert code == 2 and "pyproject.toml" in err and message in err


def test_empty_folder_is_an_error_unless_allowed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "migratoins"  # the typo a CI job would otherwise pass with forever
    empty.mkdir()
    code, err = _run(capsys, str(empty))
    assert code == 2
    assert f"no migrations found under {empty} (convention: auto)" in err
    assert "--allow-empty" in err
    assert main(["lint", "--no-cache", "--allow-empty", str(empty)]) == 0


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "202401010000__a.sql").write_text(MIGRATION)
    return folder


def test_fifo_is_refused_not_waited_for(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import os

    folder = _folder(tmp_path)
    os.mkfifo(folder / "202401020000__pipe.sql")
    code, err = _run(capsys, str(folder))
    assert code == 2 and "202401020000__pipe.sql: not a regular file (a FIFO)" in err


def test_link_to_a_device_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "202401020000__zero.sql").symlink_to("/dev/zero")
    code, err = _run(capsys, str(folder))
    assert code == 2 and "202401020000__zero.sql: not a regular file (a device)" in err


def test_symlink_loop_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "loop.sql").symlink_to("loop.sql")
    code, err = _run(capsys, str(folder))
    assert code == 2 and "loop.sql: symbolic link loop" in err


def test_oversized_file_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from pgpreflight.linter.discovery import MAX_FILE_BYTES

    folder = _folder(tmp_path)
    big = folder / "202401020000__dump.sql"
    with big.open("w") as f:
        f.write("-- UP\n")
        f.write(("INSERT INTO t VALUES (1);\n" * 1000) * (MAX_FILE_BYTES // 26000 + 1))
    code, err = _run(capsys, str(folder))
    assert code == 2 and "202401020000__dump.sql: file is larger than 20 MiB" in err


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github", "gitlab"])
def test_file_name_that_is_not_utf8_in_every_output(tmp_path: Path, fmt: str) -> None:
    import json
    import os
    import subprocess
    import sys

    folder = os.path.join(os.fsencode(tmp_path), b"migrations")
    os.mkdir(folder)
    with open(os.path.join(folder, b"202401010000__caf\xe9.sql"), "wb") as f:
        f.write(MIGRATION.encode())
    out = tmp_path / f"out.{fmt}"
    reports = [f"--report={tmp_path / 'r.html'}", f"--markdown={tmp_path / 'r.md'}"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pgpreflight.linter",
            "lint",
            "--no-cache",
            "-f",
            fmt,
            "-o",
            str(out),
            *reports,
            f"--json={tmp_path / 'r.json'}",
            os.fsdecode(folder),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    text = out.read_text(encoding="utf-8")  # valid UTF-8, the odd byte shown as an escape
    if fmt in ("json", "sarif", "gitlab"):
        text = json.dumps(json.loads(text), ensure_ascii=False).replace("\\\\", "\\")
    assert "caf\\xe9.sql" in text
    saved = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert any("caf\\xe9.sql" in f["path"] for f in saved["findings"])
    assert "caf\\xe9.sql" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_nineteen_megabyte_statement_is_reported_in_bounded_memory(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = tmp_path / "migrations"
    folder.mkdir()
    values = ",".join(f"({i},'n{i}')" for i in range(1_050_000))
    big = folder / "202401010000__data.sql"
    big.write_text(
        "-- UP\nCREATE TABLE t (id bigint PRIMARY KEY, n text NOT NULL);\n"
        f"INSERT INTO t VALUES {values};\n-- DOWN\nDROP TABLE t;\n"
    )
    size = big.stat().st_size
    assert size > 19_000_000
    report = tmp_path / "r.html"
    # The child reports its own peak memory as it exits: VmHWM of its address space (getrusage's
    # maxrss would count the forking pytest process, which Linux carries across exec).
    program = (
        "import re, sys\n"
        "from pgpreflight.linter.cli import main\n"  # the command (cli.run) would end at once
        "code = main()\n"
        "status = open('/proc/self/status').read()\n"
        "peak = re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)\n"
        "print('MAXRSS', peak, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            program,
            "lint",
            "--no-cache",
            "--no-color",
            f"--report={report}",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out, err = proc.stdout, proc.stderr
    assert proc.returncode == 1, err
    assert "MiB is larger than the 1 MiB pgpreflight analyses: not checked" in out
    assert len(out) < 20_000  # the line is cut, not echoed (twice)
    assert report.stat().st_size < 1_000_000
    peak_kb = int(err.rsplit("MAXRSS", 1)[1].split()[0])
    assert peak_kb * 1024 < 10 * size, (
        f"peak {peak_kb // 1024} MB for a {size // 1_000_000} MB file"
    )


def test_mutated_saved_results_are_refused_by_path_never_crash(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import copy
    import json
    import random

    saved = tmp_path / "result.json"
    main(
        [
            "lint",
            "--no-cache",
            str(Path(__file__).parents[1] / "examples" / "assist-move-assist"),
            "--json",
            str(saved),
        ]
    )
    data = json.loads(saved.read_text())
    paths: list[list[Any]] = []

    def walk(value: Any, path: list[Any]) -> None:
        paths.append(path)
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, [*path, key])
        elif isinstance(value, list):
            for i, item in enumerate(value[:3]):
                walk(item, [*path, i])

    walk(data, [])
    rng = random.Random(150)
    refused = 0
    for n in range(150):
        mutated = copy.deepcopy(data)
        path = rng.choice(paths[1:])
        parent = mutated
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = rng.choice([None, 1, "x", [], {}, True, [1, 2], {"a": 1}, -5, 1.5])
        bad = tmp_path / f"m{n}.json"
        bad.write_text(json.dumps(mutated))
        capsys.readouterr()
        code = main(
            ["report", str(bad), "--html", str(tmp_path / f"m{n}.html"), "--format", "sarif"]
        )
        err = capsys.readouterr().err
        assert code in (0, 1, 2), (path, err)
        if code == 2:
            refused += 1
            assert f"{bad}: not a valid pgpreflight result at $" in err, err
    assert refused > 20  # most type changes break the schema, and each is named


def test_unreadable_subfolder_is_an_error_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    folder = _folder(tmp_path)
    locked = folder / "2024"
    locked.mkdir()
    (locked / "202402010000__b.sql").write_text(MIGRATION)
    # Tests run as root, which reads any folder: deny the listing the way the OS would.
    real = os.scandir

    def deny(path: Any = ".") -> Any:
        if str(path).endswith("2024"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", deny)
    code, err = _run(capsys, str(folder))
    assert code == 2 and "2024: cannot read folder: Permission denied" in err


def test_debug_internal_error_exits_3(
    capsys: pytest.CaptureFixture[str], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pgpreflight.linter import engine

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(engine, "lint", broken)
    code = main(["--debug", "lint", "--no-cache", str(project / "m")])
    err = capsys.readouterr().err
    assert code == 3 and "RuntimeError: a bug" in err


def test_unreadable_configuration_is_named(
    capsys: pytest.CaptureFixture[str], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = project / "pgpreflight.toml"
    config.write_text('migrations = ["m"]\n')
    real = Path.open

    def deny(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "pgpreflight.toml":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)  # root reads any file: deny as the OS would
    code, err = _run(capsys, "--config", str(config), str(project / "m"))
    assert code == 2 and f"{config}: cannot read configuration: Permission denied" in err


def test_file_size_limit_is_configurable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    (folder / "202401020000__seed.sql").write_text(
        "-- UP\n" + "INSERT INTO t VALUES (1);\n" * 90_000 + "-- DOWN\nDELETE FROM t;\n"
    )  # about 2.3 MB
    config = tmp_path / "pgpreflight.toml"
    config.write_text("max-file-mib = 1\n")
    code, err = _run(capsys, "--config", str(config), str(folder))
    assert code == 2 and "202401020000__seed.sql: file is larger than 1 MiB" in err
    assert "max-file-mib" in err
    config.write_text("max-file-mib = 3\n")
    code, err = _run(capsys, "--config", str(config), str(folder))
    assert code in (0, 1) and "larger than" not in err
