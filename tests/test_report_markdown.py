"""The pull-request comment: parsed with markdown-it-py it renders as intended (tables, links
to lines, balanced <details>), and it stays under 60,000 characters with 500 findings,
truncated between rows with a note, never inside a table row."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt
from pgpreflight.linter.report import markdown

from tests.report_support import ROOT, lint_folder, write

EXAMPLE = ROOT / "examples" / "assist-move-assist"


def parse(text: str) -> list:
    return MarkdownIt("commonmark").enable("table").parse(text)


def test_example_project_comment_renders(tmp_path: Path) -> None:
    result = lint_folder(EXAMPLE / "apps" / "backend" / "src" / "database" / "migrations")
    text = markdown.render(result, link_base="https://github.com/o/r/blob/abc123")
    tokens = parse(text)
    types = [t.type for t in tokens]
    assert types[0] == "heading_open" and "pgpreflight: not ready" in tokens[1].content
    assert types.count("table_open") >= 2  # checklist + findings
    # checklist table: header + five items
    first_table = types.index("table_open")
    rows = [
        t
        for t in tokens[first_table : types.index("table_close", first_table)]
        if t.type == "tr_open"
    ]
    assert len(rows) == 6
    links = [
        c.attrs["href"]
        for t in tokens
        if t.type == "inline"
        for c in t.children or []
        if c.type == "link_open"
    ]
    finding = next(f for f in result.findings if f.rule == "missing-down-section")
    assert f"https://github.com/o/r/blob/abc123/{finding.path}#L{finding.line}" in links
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert html.count("<details>") == html.count("</details>") >= 1
    assert text.count("<details>") == text.count("</details>")
    assert len(text) < markdown.LIMIT


def _many_findings(tmp_path: Path, n: int) -> object:
    """A migration whose UP builds `n` indexes without CONCURRENTLY on an existing table:
    `n` real findings of require-concurrent-index, with long names to make the comment big."""
    lines = ["-- UP"]
    for i in range(n):
        lines.append(
            f"CREATE INDEX idx_oficinas_a_rather_long_index_name_to_fill_the_comment_{i:03d} ON oficinas (nome);"
        )
    lines += ["-- DOWN"] + [
        f"DROP INDEX IF EXISTS idx_oficinas_a_rather_long_index_name_to_fill_the_comment_{i:03d};"
        for i in range(n)
    ]
    return lint_folder(
        write(tmp_path / "m", {"202401010000__many.sql": "\n".join(lines) + "\n"}),
        select=["require-concurrent-index"],
    )


def test_500_findings_stay_under_the_limit_and_cut_between_rows(tmp_path: Path) -> None:
    result = _many_findings(tmp_path, 500)
    assert len(result.findings) == 500
    text = markdown.render(result)
    assert len(text) < markdown.LIMIT
    assert "Truncated" in text and "more findings in this table" in text
    lines = text.splitlines()
    # every table line is a whole row: starts and ends with a pipe, same cell count as its header
    in_table, cells = False, 0
    for line in lines:
        if line.startswith("|"):
            assert line.endswith("|"), line
            count = len(line.replace("\\|", "").split("|")) - 2
            if not in_table:
                in_table, cells = True, count
            assert count == cells, line
        else:
            in_table = False
    tokens = parse(text)
    shown_rows = sum(1 for t in tokens if t.type == "tr_open")
    assert shown_rows == sum(1 for ln in lines if ln.startswith("|") and not ln.startswith("| ---"))
    shown = sum(1 for ln in lines if "require-concurrent-index" in ln and ln.startswith("|"))
    assert 50 < shown < 500
    assert f"{500 - shown} more findings in this table" in text
    assert text.count("<details>") == text.count("</details>")


def test_small_limit_drops_whole_blocks(tmp_path: Path) -> None:
    result = _many_findings(tmp_path, 30)
    full = markdown.render(result)
    cut = markdown.render(result, limit=3000)
    assert len(cut) < 3000 < len(full)
    assert cut.count("<details>") == cut.count("</details>")
    assert "Truncated" in cut
