"""Outputs cannot be turned against their readers (issue 11).

A file name or a quoted identifier is user content: it may hold a newline followed by a GitHub
workflow command, an ESC sequence, a backtick that would re-pair Markdown code spans around
`<img onerror>`, an `@mention`, or characters XML cannot hold. Each output format is run on such
a migration and read the way its reader reads it (the CI runner, a terminal, an XML parser,
a Markdown renderer).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from pgpreflight.linter.cli import main
from pgpreflight.linter.printable import guard_lines, printable, xml_safe
from pgpreflight.linter.report.markdown import code, esc

HOSTILE_NAME = "202401011200__x\n::error file=a.sql::pwned `<img src=x onerror=alert(1)>`@octocat"
HOSTILE_IDENT = (
    "t\n::error file=b::owned`` <img src=x onerror=alert(2)> <a href=//evil>\x1b[31m @admin\x07"
)
HOSTILE_SQL = (
    f'-- UP\nCREATE TABLE "{HOSTILE_IDENT}" (id int);\n'
    f'CREATE INDEX "i`x\x1b]0;title\x07" ON "{HOSTILE_IDENT}" (id);\n'
)
FORMATS = ("text", "json", "github", "sarif", "junit", "gitlab")
# What a terminal or a CI log must never receive raw from user content.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / f"{HOSTILE_NAME}.sql").write_text(HOSTILE_SQL)
    return folder


def _lint(folder: Path, out: Path, fmt: str, *extra: str) -> str:
    code_ = main(["lint", str(folder), "-q", "--exit-zero", "-f", fmt, "-o", str(out), *extra])
    assert code_ == 0
    return out.read_text(encoding="utf-8")


def _markdown_tokens(text: str) -> list[Any]:
    from markdown_it import MarkdownIt

    tokens: list[Any] = []

    def walk(items: list[Any]) -> None:
        for token in items:
            tokens.append(token)
            walk(token.children or [])

    walk(MarkdownIt("commonmark").enable("table").parse(text))
    return tokens


def test_every_format_keeps_hostile_names_inert(hostile: Path, tmp_path: Path) -> None:
    outputs = {fmt: _lint(hostile, tmp_path / f"out.{fmt}", fmt) for fmt in FORMATS}
    findings = json.loads(outputs["json"])["findings"]
    assert len(findings) >= 3 and any("\n" in f["path"] for f in findings)

    # text: no control character, and no line a CI runner would execute
    text = outputs["text"]
    assert not CONTROL.search(text)
    assert not [line for line in text.splitlines() if line.lstrip().startswith(("::", "##["))]
    assert "\\n::error file=a.sql" in text and "\\x1b[31m" in text  # shown, escaped

    # github: exactly one workflow command per finding, one line each, no raw escape
    github = outputs["github"].splitlines()
    assert len(github) == len(findings)
    assert all(re.match(r"^::(error|warning|notice) file=[^,:]*,line=\d+,", ln) for ln in github)
    assert not CONTROL.search(outputs["github"])

    # junit: valid XML 1.0, and still naming the file
    root = ET.fromstring(outputs["junit"])
    assert "::error file=a.sql::pwned" in root.find("testsuite/testcase").get("name")  # type: ignore[union-attr]

    for fmt in ("sarif", "gitlab"):
        json.loads(outputs[fmt])


def test_markdown_comment_renders_no_html_and_no_mention(hostile: Path, tmp_path: Path) -> None:
    md_path, html_path = tmp_path / "c.md", tmp_path / "r.html"
    _lint(
        hostile,
        tmp_path / "out.txt",
        "text",
        "--markdown",
        str(md_path),
        "--report",
        str(html_path),
        "--link-base",
        "https://github.com/o/r/blob/abc",
    )
    comment = md_path.read_text(encoding="utf-8")
    tokens = _markdown_tokens(comment)
    raw_html = [t.content for t in tokens if t.type in ("html_inline", "html_block")]
    assert raw_html  # our own <details>, <br>: the check below is not vacuous
    assert not [h for h in raw_html if re.search(r"<(img|a)\b", h, re.I)]
    texts = [t.content for t in tokens if t.type == "text"]
    assert not [t for t in texts if re.search(r"@\w", t)], "bare @mention outside code"
    # the names are still there, shown literally inside code
    assert any(
        "<img src=x onerror=alert(1)>`@octocat" in t.content
        for t in tokens
        if t.type == "code_inline"
    )
    links = [t.attrGet("href") for t in tokens if t.type == "link_open"]
    assert links and all(str(h).startswith("https://github.com/o/r/blob/abc/") for h in links)
    # a newline in a name never leaves its code span (nor its table row)
    assert all("\n" not in t.content for t in tokens if t.type == "code_inline")
    page = html_path.read_text(encoding="utf-8")
    assert "<img" not in page and "<a href=//evil" not in page and "\x1b" not in page


@pytest.mark.parametrize("command", ["lint", "report"])
@pytest.mark.parametrize("base", ["javascript:alert(1)", "data:text/html,x", "/relative"])
def test_link_base_must_be_http(
    command: str, base: str, hostile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = str(hostile) if command == "lint" else str(tmp_path / "saved.json")
    rc = main([command, target, "--markdown", str(tmp_path / "c.md"), "--link-base", base])
    assert rc == 2
    err = capsys.readouterr().err
    assert "--link-base" in err and "http:// or https:// URL" in err
    assert not (tmp_path / "c.md").exists()


def test_file_named_like_a_password_keeps_its_markup(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "202401011200__x-password=y.sql").write_text("-- UP\nCREATE TABLE t (id int);\n")
    page_path = tmp_path / "r.html"
    _lint(folder, tmp_path / "out.txt", "text", "--report", str(page_path))
    page = page_path.read_text(encoding="utf-8")
    assert "202401011200__x-password=y.sql" in page
    assert page.count("<div") == page.count("</div>") and page.rstrip().endswith("</html>")


# -- the helpers -------------------------------------------------------------------------------


def test_printable_escapes_controls_and_reordering() -> None:
    assert printable("a\nb\x1b[31m\x07\u202e\tc") == "a\\nb\\x1b[31m\\x07\\u202e\tc"
    assert printable("a\nb", keep="\n") == "a\nb"
    assert printable("caf\u00e9 \U0001f600") == "caf\u00e9 \U0001f600"


def test_guard_lines_defuses_workflow_commands() -> None:
    out = guard_lines("ok\n::error::x\n  ::set-output name=a::b\n##[error]y\nx::y\n")
    assert out == "ok\n\\x3a:error::x\n  \\x3a:set-output name=a::b\n\\x23#[error]y\nx::y\n"


def test_xml_safe_drops_what_xml_forbids() -> None:
    text = xml_safe("a\x00b\x1bc\ufffed\ud800e\tf\ng")
    ET.fromstring(f"<x>{text}</x>")
    assert text == "a\\x00b\\x1bc\\ufffed\\ud800e\tf\ng"


def test_markdown_code_span_fence_outgrows_backtick_runs() -> None:
    assert code("a``b") == "```a``b```"
    assert code("`x") == "`` `x ``"
    assert code("a\nb") == "`a\\nb`"
    assert code("SELECT 1\n  FROM t", sql=True) == "`SELECT 1 FROM t`"
    assert esc("@bob `x` <b> [l](u)") == "@&#8203;bob &#96;x&#96; &lt;b&gt; &#91;l&#93;(u)"


def test_check_text_output_keeps_hostile_identifiers_inert(tmp_path: Path) -> None:
    """The database check's own text (statements, locks, server errors quoting names) on a
    scratch server, with an identifier that tries to start a workflow command."""
    import os
    import subprocess
    import sys

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "202401011200__hostile.sql").write_text(
        f'-- UP\nCREATE TABLE "{HOSTILE_IDENT}" (id int);\n'
        f'ALTER TABLE "{HOSTILE_IDENT}" ADD COLUMN "c\n::warning::x" int;\n'
        f'-- DOWN\nDROP TABLE "{HOSTILE_IDENT}";\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    proc = subprocess.run(
        [sys.executable, "-m", "pgpreflight.linter", "check", str(folder), "--no-explain"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "ALTER TABLE" in proc.stdout and "\\n::error file=b" in proc.stdout  # shown, escaped
    assert not CONTROL.search(proc.stdout + proc.stderr)
    lines = (proc.stdout + proc.stderr).splitlines()
    assert not [ln for ln in lines if ln.lstrip().startswith(("::", "##["))]


def test_output_to_a_pipe_or_device_leaves_it_one(tmp_path: Path) -> None:
    """`--output /dev/null` (or a FIFO, /dev/stdout) is written to, not replaced by a regular
    file: the whole-or-nothing rename made /dev/null a regular file, for every user when root."""
    import os
    import stat
    import threading

    from pgpreflight.linter.output import write_output

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    write_output("report\n", fifo)
    reader.join(10)
    assert got == ["report\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert list(tmp_path.iterdir()) == [fifo]  # no temporary file left beside it
