"""The HTML report: re-rendered identically from a saved result, everything escaped, no
credentials, findings at their lines, parts not run said plainly."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from linter.cli import main
from linter.config import Config
from linter.report import RenderOptions, html, markdown, renderer
from linter.report.cli import attach_evidence
from linter.report.integration import run_command
from tests.report_support import BASE, CHANGE, ROOT, lint_folder, write

EXAMPLE = ROOT / "examples" / "assist-move-assist"

EVIL = """-- </script><script>alert(1)</script> and <img src=x onerror=alert(2)>
-- UP
CREATE TABLE "<img src=x onerror=alert(3)>" (nome text);
COMMENT ON TABLE "<img src=x onerror=alert(3)>" IS '</script><script>alert(4)</script>';
-- DOWN
DROP TABLE "<img src=x onerror=alert(3)>";
"""


def test_report_rerenders_identically_from_the_saved_result(tmp_path: Path) -> None:
    a, b, saved = tmp_path / "a.html", tmp_path / "b.html", tmp_path / "r.json"
    ma, mb = tmp_path / "a.md", tmp_path / "b.md"
    assert main(["lint", str(EXAMPLE), "-q", "--exit-zero", "--json", str(saved), "--report", str(a), "--markdown", str(ma)]) == 0
    assert main(["report", str(saved), "--html", str(b), "--markdown", str(mb)]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert ma.read_bytes() == mb.read_bytes()
    assert len(a.read_text()) > 20_000


def test_everything_from_the_migrations_is_escaped(tmp_path: Path) -> None:
    result = lint_folder(write(tmp_path / "m", {"202401010000__evil.sql": EVIL}))
    assert any("<img" in f.message for f in result.findings), "a finding must quote the evil name"
    page = html.render(result)
    for raw in ("<script>alert", "<img src=x", "</script><script>"):
        assert raw not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    # exactly one script element: the report's own, allowed by its hash in the CSP
    assert page.count("<script") == 1
    csp = re.search(r'Content-Security-Policy" content="([^"]+)"', page)
    assert csp and "default-src 'none'" in csp.group(1) and "script-src 'sha256-" in csp.group(1)
    md = markdown.render(result)
    assert "<img" not in md and "<script" not in md and "&lt;img src=x" in md


def test_no_password_or_connection_string_in_any_output(tmp_path: Path) -> None:
    dsn = "postgresql://bob:s3cr3t-pw@db.internal:5432/shop?sslmode=require"
    result = lint_folder(write(tmp_path / "m", {"202401010000__a.sql": BASE, "202401020000__b.sql": CHANGE}))
    args = argparse.Namespace(paths=[tmp_path / "m"], reviewed_by=["Bia"], test_results=[], project=None)
    attach_evidence(result, args, Config(), command="check", target_dsn=dsn)
    result.tests = run_command(f"echo connecting to {dsn}; echo PGPASSWORD=s3cr3t-pw; exit 1", dsn, cwd=tmp_path)
    result.check = {"mode": "target (read-only)", "server": {"version": "15.18", "major": 15},
                    "target": {"host": "db.internal", "port": "5432", "dbname": "shop", "user": "bob", "history_table": None},
                    "pending": [], "migrations": [], "notes": [f"could not reach {dsn} at first try"]}
    outputs = {"html": html.render(result), "markdown": markdown.render(result)}
    for fmt in ("json", "text", "sarif", "github", "junit", "gitlab"):
        outputs[fmt] = renderer(fmt)(result, RenderOptions())
    for fmt, text in outputs.items():
        assert "s3cr3t-pw" not in text, fmt
        assert "bob:" not in text and "postgresql://bob" not in text, fmt
    assert "db.internal/shop" in outputs["html"] and "db.internal/shop" in outputs["markdown"]


def test_findings_sit_under_their_line_with_rationale_and_hint(tmp_path: Path) -> None:
    result = lint_folder(write(tmp_path / "m", {"202401010000__a.sql": BASE, "202401020000__b.sql": CHANGE}))
    finding = next(f for f in result.findings if f.rule == "down-does-not-revert")
    page = html.render(result)
    row = re.search(
        rf'<tr class="hit"><td class="n">{finding.line}</td><td class="code">(.*?)</td></tr>\s*<tr class="ann">(.*?)</tr>',
        page, re.S)
    assert row, "the finding's line is marked and followed by its annotation"
    assert "cidade" in row.group(1) or "estado" in row.group(1)
    ann = row.group(2)
    assert 'data-rule="down-does-not-revert"' in ann and "Fix:" in ann and "Why this matters" in ann
    assert '<span class="k">CREATE</span>' in page or '<span class="k">ALTER</span>' in page


def test_parts_not_run_say_so(tmp_path: Path) -> None:
    page = html.render(lint_folder(write(tmp_path / "m", {"202401010000__a.sql": BASE})))
    assert page.count("<b>Not run.</b>") >= 3  # per migration, EXPLAIN, post-conditions
    assert "static lint only" in page and "not run on a database" in page
    assert 'data-status="not run"' in page and 'data-status="needs a person"' in page
    assert "passed" not in re.search(r'<li id="item-migrations-apply".*?</li>', page, re.S).group(0)
