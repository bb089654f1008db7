"""The result model: saved and read back without loss, valid against its published schema,
metadata with the target masked."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from pgpreflight.linter.cli import main
from pgpreflight.linter.errors import InputError
from pgpreflight.linter.evidence.meta import collect, redact, target_label
from pgpreflight.linter.report import RenderOptions, renderer
from pgpreflight.linter.result import RunResult

from tests.report_support import BASE, CHANGE, ROOT, lint_folder, write

SCHEMA = json.loads((ROOT / "linter" / "report" / "result-schema.json").read_text())
EXAMPLE = ROOT / "examples" / "assist-move-assist"


def validator() -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    return jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


def test_saved_result_reads_back_and_renders_the_same(tmp_path: Path) -> None:
    fresh = lint_folder(
        write(tmp_path / "m", {"202401010000__a.sql": BASE, "202401020000__b.sql": CHANGE})
    )
    assert fresh.findings, "the fixture must have findings for this test to mean anything"
    saved = json.loads(json.dumps(fresh.to_dict()))
    loaded = RunResult.from_dict(saved)
    assert loaded.to_dict() == saved
    for fmt in ("text", "sarif", "junit", "github", "gitlab", "json"):
        opts = RenderOptions()
        assert renderer(fmt)(loaded, opts) == renderer(fmt)(fresh, opts), fmt


def test_lint_json_with_report_metadata_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    code = main(
        [
            "lint",
            str(EXAMPLE),
            "--json",
            str(out),
            "--report",
            str(tmp_path / "r.html"),
            "-q",
            "--exit-zero",
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    errors = [e.message for e in validator().iter_errors(data)]
    assert errors == []
    assert data["version"] == 1 and isinstance(data["findings"], list)
    assert data["meta"]["project"] == "assist-move-assist"
    assert data["meta"]["command"] == "lint" and data["meta"]["time"].endswith("Z")
    assert data["sources"] and all(s["text"] for s in data["sources"])
    indexes = [ix["name"] for m in data["migrations"] for ix in m["new_indexes"]]
    assert "idx_oficinas_cidade_estado" in indexes


def test_schema_rejects_what_it_should(tmp_path: Path) -> None:
    data = lint_folder(write(tmp_path / "m", {"202401010000__a.sql": BASE})).to_dict()
    v = validator()
    assert not list(v.iter_errors(data))
    bad = json.loads(json.dumps(data))
    bad["findings"].append(
        {
            "rule": "x",
            "severity": "fatal",
            "message": "m",
            "path": "p",
            "line": 0,
            "column": 1,
            "end_line": 1,
            "end_column": 1,
        }
    )
    assert len(list(v.iter_errors(bad))) == 2  # unknown severity, line 0
    leaky = json.loads(json.dumps(data))
    leaky["meta"] = {
        "project": "p",
        "command": "check",
        "time": "2024-01-01T00:00:00Z",
        "pgpreflight_version": "0",
        "target": "postgresql://u:pw@h/db",
    }
    assert list(v.iter_errors(leaky))


@pytest.mark.parametrize(
    "payload, message",
    [
        ([], "not a pgpreflight result"),
        ({"version": 99, "findings": []}, "format version 99"),
        ({"version": 1, "findings": [{"rule": "x"}]}, "malformed result"),
    ],
)
def test_from_dict_refuses_with_a_clear_message(payload: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        RunResult.from_dict(payload, origin="saved.json")


def test_report_command_errors_name_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1,\n "findings": [,]}')
    assert main(["report", str(bad), "--html", str(tmp_path / "x.html")]) == 2
    assert f"{bad}:2:15: not valid JSON" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: no such file" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize(
    "dsn, label",
    [
        ("postgresql://bob:s3cr3t@db.example.com:5433/shop?sslmode=require", "db.example.com/shop"),
        ("postgres://bob@[::1]:5432/shop", "[::1]/shop"),
        ("host=/var/run/postgresql dbname=app user=u password='a b'", "local socket/app"),
        ("host=db1 port=5432 dbname=app password=s3cr3t", "db1/app"),
        ("postgresql:///app?host=/tmp", "local socket/app"),
    ],
)
def test_target_label_is_host_and_dbname_only(dsn: str, label: str) -> None:
    assert target_label(dsn) == label


def test_redact_removes_credentials_from_free_text() -> None:
    text = "connect postgresql://bob:s3cr3t@h:5432/db failed; password=s3cr3t PGPASSWORD=s3cr3t"
    out = redact(text)
    assert "s3cr3t" not in out and "bob" not in out
    assert "h:5432/db" in out


def test_metadata_names_project_git_and_masked_target(tmp_path: Path) -> None:
    meta = collect(
        command="check", paths=[EXAMPLE], target_dsn="postgresql://bob:s3cr3t@db.example.com/shop"
    )
    assert meta["project"] == "assist-move-assist"
    assert meta["target"] == "db.example.com/shop"
    assert meta["git"] is not None and len(meta["git"]["commit"]) == 40
    assert "s3cr3t" not in json.dumps(meta)
    outside = collect(command="lint", paths=[tmp_path], cwd=tmp_path)
    assert outside["git"] is None


def test_checked_result_validates_and_rerenders_identically(
    pg_server: object, tmp_path: Path
) -> None:
    """A result with a real database check (and EXPLAIN evidence) is valid against the schema
    and renders the same HTML and Markdown after a trip through its JSON file."""
    from pgpreflight.linter.report import html, markdown

    from tests.report_support import checked_result

    result = checked_result(pg_server, tmp_path)
    saved = tmp_path / "result.json"
    saved.write_text(renderer("json")(result, RenderOptions()))
    data = json.loads(saved.read_text())
    assert [e.message for e in validator().iter_errors(data)] == []
    assert data["check"]["migrations"][0]["up"]["statements"]
    out = tmp_path / "again.html"
    assert (
        main(["report", str(saved), "--html", str(out), "--markdown", str(tmp_path / "again.md")])
        == 0
    )
    assert out.read_text() == html.render(result)
    assert (tmp_path / "again.md").read_text() == markdown.render(result)
