"""The section-9 checklist: each item's status from the evidence the run has, never a pass it
did not prove; JUnit files, a test command, git review trailers; the overall verdict."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pgpreflight.linter.errors import InputError
from pgpreflight.linter.evidence import review
from pgpreflight.linter.evidence import tests as integration
from pgpreflight.linter.report import checklist as cl

from tests.report_support import (
    BASE,
    CHANGE,
    MISSING_SCHEMA,
    checked_from_start,
    lint_folder,
    write,
)


def lint_dict(tmp_path: Path, files: dict[str, str] | None = None) -> dict[str, Any]:
    files = files or {
        "202401010000__criar_oficinas.sql": BASE,
        "202401020000__buscar_oficinas.sql": CHANGE,
    }
    return lint_folder(write(tmp_path / "migrations", files)).to_dict()


def items(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in cl.checklist(d)["items"]}


def passing_check(d: dict[str, Any]) -> dict[str, Any]:
    """A check section in which every pending migration applied and round-tripped."""
    return {
        "mode": "scratch",
        "server": {"version": "15.18", "major": 15},
        "pending": [m["id"] for m in d["migrations"]],
        "migrations": [
            {
                "id": m["id"],
                "status": "passed",
                "up": {
                    "status": "ok",
                    "duration_ms": 3.0,
                    "statements": [{"line": 3, "sql": "x", "status": "ok"}],
                },
                "round_trip": {"verdict": "pass"},
            }
            for m in d["migrations"]
        ],
        "explain": [
            {"index": ix["name"], "verdict": "helps", "migration": m["id"]}
            for m in d["migrations"]
            for ix in m["new_indexes"]
        ],
    }


def test_lint_only_never_claims_a_database_pass(tmp_path: Path) -> None:
    d = lint_dict(tmp_path)
    got = items(d)
    assert got["migrations-apply"]["status"] == "not run"
    assert got["integration-tests"]["status"] == "not run"
    assert got["explain"]["status"] == "not run"
    assert "idx_oficinas_nome" in got["explain"]["evidence"][0]["text"]
    assert got["review"]["status"] == "needs a person"
    # the second migration's DOWN forgets a column: the static rule says so
    assert got["rollback"]["status"] == "failed"
    lines = {ln["migration"]: ln for ln in got["rollback"]["evidence"]}
    assert lines["202401010000__criar_oficinas"]["status"] == "warning"
    assert "only statically checked" in lines["202401010000__criar_oficinas"]["text"]
    verdict = cl.checklist(d)
    assert verdict["verdict"] == "not ready" and "rollback plan" in verdict["reason"]


def test_everything_proven_is_ready_and_each_gap_says_why(tmp_path: Path) -> None:
    d = lint_dict(tmp_path, {"202401010000__criar_oficinas.sql": BASE})
    d["check"] = passing_check(d)
    d["tests"] = {
        "source": "junit",
        "tests": 12,
        "failures": 0,
        "errors": 0,
        "skipped": 0,
        "files": [],
    }
    d["review"] = {
        "migrations": {
            m["id"]: {"author": "Ana <ana@x>", "reviewers": ["Bia <bia@x>"]}
            for m in d["migrations"]
        }
    }
    assert [i["status"] for i in cl.checklist(d)["items"]] == ["passed"] * 5
    # The verdict also weighs the findings: none -> ready, a warning -> ready with warnings,
    # an error (the default fail-on) -> not ready.
    d["findings"], d["summary"] = [], {"error": 0, "warning": 0, "info": 0}
    v = cl.checklist(d)
    assert v["verdict"] == "ready" and v["reason"].startswith("Every checklist item passed")
    finding = {
        "rule": "r",
        "severity": "warning",
        "message": "m",
        "path": "p",
        "line": 1,
        "column": 1,
        "end_line": 1,
        "end_column": 1,
    }
    warned = copy.deepcopy(d)
    warned["findings"] = [finding]
    assert cl.checklist(warned)["verdict"] == "ready with warnings"
    errored = copy.deepcopy(d)
    errored["findings"] = [dict(finding, severity="error")]
    v = cl.checklist(errored)
    assert v["verdict"] == "not ready" and "1 finding at error severity" in v["reason"]

    skipped = copy.deepcopy(d)
    skipped["tests"]["skipped"] = 2
    assert items(skipped)["integration-tests"]["status"] == "warning"
    assert cl.checklist(skipped)["verdict"] == "ready with warnings"

    failed = copy.deepcopy(d)
    failed["check"]["migrations"][0]["status"] = "failed"
    failed["check"]["migrations"][0]["up"]["status"] = "error"
    failed["check"]["migrations"][0]["up"]["statements"][0]["error"] = {
        "sqlstate": "42P07",
        "message": "relation exists",
        "line": 3,
    }
    item = items(failed)["migrations-apply"]
    assert item["status"] == "failed" and "42P07" in item["evidence"][0]["text"]
    assert cl.checklist(failed)["verdict"] == "not ready"

    no_gain = copy.deepcopy(d)
    for e in no_gain["check"]["explain"]:
        e["verdict"] = "not used"
    if no_gain["check"]["explain"]:
        assert items(no_gain)["explain"]["status"] == "warning"

    unreviewed = copy.deepcopy(d)
    for info in unreviewed["review"]["migrations"].values():
        info["reviewers"] = []
    assert items(unreviewed)["review"]["status"] == "needs a person"
    assert cl.checklist(unreviewed)["verdict"] == "not ready"

    rt_fail = copy.deepcopy(d)
    rt_fail["check"]["migrations"][0]["round_trip"] = {
        "verdict": "fail",
        "down_differences": [{"kind": "column", "name": "oficinas.x", "change": "extra"}],
    }
    assert items(rt_fail)["rollback"]["status"] == "failed"
    assert "oficinas.x" in items(rt_fail)["rollback"]["evidence"][0]["text"]


def test_missing_down_fails_the_rollback_item(tmp_path: Path) -> None:
    d = lint_dict(
        tmp_path, {"202401010000__sem_down.sql": "-- UP\nCREATE TABLE t (id int PRIMARY KEY);\n"}
    )
    item = items(d)["rollback"]
    assert item["status"] == "failed" and "no DOWN" in item["evidence"][0]["text"]


JUNIT = """<?xml version="1.0"?>
<testsuites><testsuite name="api" tests="3">
  <testcase classname="api.users" name="creates"/>
  <testcase classname="api.users" name="rejects duplicate"><failure message="expected 409, got 500 (postgresql://app:hunter2@db/app)"/></testcase>
  <testcase classname="api.oficinas" name="search"><skipped/></testcase>
</testsuite></testsuites>
"""


def test_junit_counts_failures_and_redacts_messages(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text(JUNIT)
    (tmp_path / "b.xml").write_text(
        '<testsuite name="w" tests="2"><testcase name="a"/><testcase name="b"/></testsuite>'
    )
    tests = integration.from_junit([tmp_path / "a.xml", tmp_path / "b.xml"])
    assert (tests["tests"], tests["failures"], tests["errors"], tests["skipped"]) == (5, 1, 0, 1)
    assert "hunter2" not in str(tests)
    item = cl.integration_tests({"tests": tests})
    assert item["status"] == "failed" and item["summary"] == "1 of 5 tests failed"
    assert any("api.users.rejects duplicate" in ln["text"] for ln in item["evidence"])


def test_bad_junit_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.xml").write_text("<testsuite>\n<testcase>\n</testsuite>")
    with pytest.raises(InputError, match=r"bad.xml:3:\d+: not valid XML"):
        integration.read_junit(tmp_path / "bad.xml")
    (tmp_path / "html.xml").write_text("<html/>")
    with pytest.raises(InputError, match="not a JUnit file"):
        integration.read_junit(tmp_path / "html.xml")


def test_test_command_gets_database_url_and_keeps_exit_code_and_tail(tmp_path: Path) -> None:
    ok = integration.run_command(
        'test "$DATABASE_URL" = "postgresql://h/db" && echo fine', "postgresql://h/db", cwd=tmp_path
    )
    assert ok["exit_code"] == 0 and ok["output_tail"] == "fine"
    assert cl.integration_tests({"tests": ok})["status"] == "passed"
    bad = integration.run_command(
        'for i in $(seq 1 100); do echo line $i; done; echo "$DATABASE_URL"; exit 3',
        "postgresql://app:hunter2@db/app",
        cwd=tmp_path,
    )
    assert bad["exit_code"] == 3
    assert bad["output_tail"].splitlines()[0] == "line 62" and "hunter2" not in bad["output_tail"]
    item = cl.integration_tests({"tests": bad})
    assert item["status"] == "failed" and "exited 3" in item["summary"]
    slow = integration.run_command("sleep 5", None, cwd=tmp_path, timeout_s=0.5)
    assert slow["exit_code"] is None and cl.integration_tests({"tests": slow})["status"] == "failed"


def _git(cwd: Path, *args: str, author: str = "Ana <ana@example.com>") -> None:
    name, _, email = author.partition(" <")
    env = {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email.rstrip(">"),
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email.rstrip(">"),
        "HOME": str(cwd),
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_review_comes_from_trailers_of_someone_else(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    folder = write(
        repo / "migrations", {"202401010000__a.sql": BASE, "202401020000__b.sql": CHANGE}
    )
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(
        repo, "commit", "-q", "-m", "add migrations\n\nReviewed-by: Ana <ana@example.com>"
    )  # self-review
    (folder / "202401020000__b.sql").write_text(CHANGE + "-- tweak\n")
    _git(
        repo,
        "commit",
        "-q",
        "-am",
        "tweak b\n\nApproved-by: Bia <bia@example.com>",
        author="Ana <ana@example.com>",
    )
    result = lint_folder(folder)
    info = review.collect(result.migrations)
    a, b = info["migrations"]["202401010000__a"], info["migrations"]["202401020000__b"]
    assert a["author"] == "Ana" and a["reviewers"] == []
    assert b["reviewers"] == ["Bia"] and b["commits"][0]["author"] == "Ana"
    d = result.to_dict()
    d["review"] = info
    item = items(d)["review"]
    assert item["status"] == "needs a person"
    assert [ln["status"] for ln in item["evidence"]] == ["needs a person", "passed"]
    d["review"] = review.collect(result.migrations, reviewed_by=["Caio"])
    assert items(d)["review"]["status"] == "passed"


def test_one_git_log_for_all_files_agrees_with_one_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """review.collect reads every file's commits from one `git log`; a file renamed since is
    traced alone with --follow, so its review from before the rename still counts."""
    repo = tmp_path / "repo"
    folder = write(
        repo / "migrations", {"202401010000__a.sql": BASE, "202401020000__old.sql": CHANGE}
    )
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "add\n\nReviewed-by: Bia <bia@example.com>")
    _git(repo, "mv", "migrations/202401020000__old.sql", "migrations/202401020000__b.sql")
    _git(repo, "commit", "-q", "-m", "rename", author="Caio <caio@example.com>")
    (folder / "202401010000__a.sql").write_text(BASE + "-- note\n")
    _git(repo, "commit", "-q", "-am", "note\n\nApproved-by: Duda <duda@example.com>")
    result = lint_folder(folder)
    batch = review.collect(result.migrations)
    calls: list[object] = []
    monkeypatch.setattr(review, "_logs", lambda paths: calls.append(paths) or {})
    alone = review.collect(result.migrations)
    assert calls and batch == alone
    a, b = batch["migrations"]["202401010000__a"], batch["migrations"]["202401020000__b"]
    assert a["reviewers"] == ["Duda", "Bia"] and len(a["commits"]) == 2
    assert b["reviewers"] == ["Bia"] and b["author"] == "Ana"


def test_uncommitted_migration_needs_a_person(tmp_path: Path) -> None:
    result = lint_folder(write(tmp_path / "m", {"202401010000__a.sql": BASE}))
    info = review.collect(result.migrations)
    entry = info["migrations"]["202401010000__a"]
    assert entry["committed"] is False and entry["reviewers"] == []
    d = result.to_dict()
    d["review"] = info
    assert "not committed yet" in items(d)["review"]["evidence"][0]["text"]


def test_report_command_adds_review_and_test_evidence(tmp_path: Path) -> None:
    from pgpreflight.linter.cli import main

    folder = write(tmp_path / "migrations", {"202401010000__criar_oficinas.sql": BASE})
    saved, md = tmp_path / "r.json", tmp_path / "c.md"
    assert main(["lint", str(folder), "-q", "--exit-zero", "--json", str(saved)]) == 0
    (tmp_path / "junit.xml").write_text(JUNIT)
    assert (
        main(
            [
                "report",
                str(saved),
                "--reviewed-by",
                "Bia",
                "--test-results",
                str(tmp_path / "junit.xml"),
                "--markdown",
                str(md),
            ]
        )
        == 0
    )
    text = md.read_text()
    assert "| ✅ passed | Migrations reviewed by another developer |" in text
    assert "| ❌ failed | Integration tests pass 100% | 1 of 3 tests failed |" in text
    assert (
        main(
            [
                "report",
                str(tmp_path / "r.json"),
                "--test-results",
                str(tmp_path / "nope.xml"),
                "--markdown",
                str(md),
            ]
        )
        == 2
    )


def test_review_section_prints_names_not_email_addresses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16: the HTML page and the PR comment printed authors' and reviewers' e-mail
    addresses; names are enough, and a result saved by an older version is cleaned too."""
    from pgpreflight.linter.cli import main

    repo = tmp_path / "repo"
    folder = write(repo / "migrations", {"202401010000__a.sql": BASE})
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "add a\n\nReviewed-by: Bia Souza <bia@example.com>")
    monkeypatch.chdir(repo)
    html, md, saved = tmp_path / "r.html", tmp_path / "c.md", tmp_path / "r.json"
    args = ["lint", str(folder), "-q", "--exit-zero", "--no-cache"]
    assert main([*args, "--report", str(html), "--markdown", str(md), "--json", str(saved)]) == 0
    for out in (html, md, saved):
        text = out.read_text()
        assert "@example.com" not in text, out
    assert "reviewed by Bia Souza (author Ana)" in md.read_text()
    # a result saved with addresses (before this change) renders without them
    data = json.loads(saved.read_text())
    data["review"]["migrations"]["202401010000__a"].update(
        author="Ana <ana@example.com>", reviewers=["Bia Souza <bia@example.com>"]
    )
    saved.write_text(json.dumps(data))
    assert main(["report", str(saved), "--markdown", str(md), "--html", str(html)]) in (0, 1)
    assert "@example.com" not in md.read_text() + html.read_text()
    assert "reviewed by Bia Souza (author Ana)" in md.read_text()


def test_an_empty_migration_applies_trivially(tmp_path: Path) -> None:
    d = lint_dict(tmp_path, {"202401010000__criar_oficinas.sql": BASE})
    d["check"] = passing_check(d)
    for mc in d["check"]["migrations"]:
        mc["status"] = "empty"
        mc["up"] = {"status": "empty", "statements": []}
    item = items(d)["migrations-apply"]
    assert item["status"] == "passed"
    assert all(line["text"] == "empty: nothing to apply" for line in item["evidence"])


def test_a_failure_caused_by_an_earlier_one_is_reported_under_its_root_cause(
    pg_server: Any, tmp_path: Path
) -> None:
    """One missing schema: the checklist, the Markdown comment and the HTML page show one root
    cause with its dependants under it, not three separate failures."""
    from pgpreflight.linter.report import html, markdown

    other = {
        "202401030000__other.sql": "-- UP\nCREATE TABLE auth.other (id int);\n"
        "-- DOWN\nDROP TABLE auth.other;\n"
    }
    folder = write(tmp_path / "migrations", {**MISSING_SCHEMA, **other})
    result = checked_from_start(pg_server, folder)
    d = json.loads(json.dumps(result.to_dict()))
    root, email, other = d["check"]["migrations"]
    assert root["dependants"] == [email["id"], other["id"]]
    assert email["caused_by"] == other["caused_by"] == root["id"]

    item = items(d)["migrations-apply"]
    assert item["summary"].startswith("3 failed (1 root cause, 2 caused by it)"), item["summary"]
    texts = {line["migration"]: line["text"] for line in item["evidence"]}
    assert texts[root["id"]].endswith("the root cause of 2 later failures")
    assert texts[email["id"]].startswith(f"not applied because {root['id']} was not: line 2")

    comment = markdown.render_dict(d)
    assert comment.count("<details><summary><code>") == 1  # one block: the root cause's
    assert "Root cause of 2 later failures" in comment and f"`{other['id']}`" in comment

    page = html.render_dict(d)
    assert f"not applied: caused by {root['id']}" in page
    assert "Root cause of 2 later failures" in page
