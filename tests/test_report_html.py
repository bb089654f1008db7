"""The HTML report: re-rendered identically from a saved result, everything escaped, no
credentials, findings at their lines, parts not run said plainly."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from pgpreflight.linter.cli import main
from pgpreflight.linter.config import Config
from pgpreflight.linter.evidence.tests import run_command
from pgpreflight.linter.report import RenderOptions, html, markdown, renderer
from pgpreflight.linter.report.cli import attach_evidence

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
    assert (
        main(
            [
                "lint",
                str(EXAMPLE),
                "-q",
                "--exit-zero",
                "--json",
                str(saved),
                "--report",
                str(a),
                "--markdown",
                str(ma),
            ]
        )
        == 0
    )
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
    result = lint_folder(
        write(tmp_path / "m", {"202401010000__a.sql": BASE, "202401020000__b.sql": CHANGE})
    )
    args = argparse.Namespace(
        paths=[tmp_path / "m"], reviewed_by=["Bia"], test_results=[], project=None
    )
    attach_evidence(result, args, Config(), command="check", target_dsn=dsn)
    result.tests = run_command(
        f"echo connecting to {dsn}; echo PGPASSWORD=s3cr3t-pw; exit 1", dsn, cwd=tmp_path
    )
    result.check = {
        "mode": "target (read-only)",
        "server": {"version": "15.18", "major": 15},
        "target": {
            "host": "db.internal",
            "port": "5432",
            "dbname": "shop",
            "user": "bob",
            "history_table": None,
        },
        "pending": [],
        "migrations": [],
        "notes": [f"could not reach {dsn} at first try"],
    }
    outputs = {"html": html.render(result), "markdown": markdown.render(result)}
    for fmt in ("json", "text", "sarif", "github", "junit", "gitlab"):
        outputs[fmt] = renderer(fmt)(result, RenderOptions())
    for fmt, text in outputs.items():
        assert "s3cr3t-pw" not in text, fmt
        assert "bob:" not in text and "postgresql://bob" not in text, fmt
    assert "db.internal/shop" in outputs["html"] and "db.internal/shop" in outputs["markdown"]


def test_findings_sit_under_their_line_with_rationale_and_hint(tmp_path: Path) -> None:
    result = lint_folder(
        write(tmp_path / "m", {"202401010000__a.sql": BASE, "202401020000__b.sql": CHANGE})
    )
    finding = next(f for f in result.findings if f.rule == "down-does-not-revert")
    page = html.render(result)
    row = re.search(
        rf'<tr class="hit"><td class="n">{finding.line}</td><td class="code">(.*?)</td></tr>\s*<tr class="ann">(.*?)</tr>',
        page,
        re.S,
    )
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


def _measurement(raw: list, with_plan: bool) -> dict:
    top = raw[0]
    root = top["Plan"]
    out = {
        "execution_ms": top["Execution Time"],
        "shared_blocks": root.get("Shared Hit Blocks", 0) + root.get("Shared Read Blocks", 0),
        "temp_blocks": 0,
        "total_cost": root["Total Cost"],
        "rows": root["Actual Rows"],
        "indexes_used": [],
        "runs_ms": [],
    }
    if with_plan:
        out["plan"] = raw
    return out


def test_explain_evidence_in_the_checks_shape(tmp_path: Path) -> None:
    """The check stores `{"indexes": [...], "queries": [...]}` (linter/explain/runner.py); the
    report finds each index's queries (probes for it, queries that used it) and draws the plans."""
    from tests.report_support import PLANS

    plans = json.loads(PLANS.read_text())
    result = lint_folder(
        write(tmp_path / "m", {"202401010000__a.sql": BASE, "202401020000__b.sql": CHANGE})
    )
    trgm, boolean = plans["trgm"], plans["gratuita"]
    result.check = {
        "mode": "scratch",
        "server": {"version": plans["server_version"], "major": 15},
        "pending": ["202401020000__b"],
        "migrations": [],
        "explain": {
            "version": 1,
            "runs": 3,
            "data": {
                "source": "data/seed.sql",
                "synthesized": [
                    {
                        "table": "public.oficinas",
                        "rows": 5000,
                        "status": "synthesized",
                        "reason": None,
                    }
                ],
            },
            "indexes": [
                {
                    "index": "idx_oficinas_nome",
                    "table": "public.oficinas",
                    "definition": "CREATE INDEX idx_oficinas_nome ON public.oficinas USING btree (nome)",
                    "verdict": "used, no gain",
                    "used": True,
                    "helps": False,
                    "reason": "low selectivity: even the most selective probe returns 60% of the rows",
                    "used_by": ["app: oficinas.sql:3"],
                    "best_query": "app: oficinas.sql:3",
                    "before": _measurement(boolean["before"], False),
                    "after": _measurement(boolean["after"], False),
                    "costs": {
                        "build_ms": 41.5,
                        "size_bytes": 1_400_000,
                        "table_rows": 60000,
                        "target_rows": None,
                        "projected_build_ms": None,
                        "projected_size_bytes": None,
                        "hot_updates_lost": [],
                    },
                    "notes": [],
                }
            ],
            "queries": [
                {
                    "label": "app: oficinas.sql:3",
                    "sql": boolean["query"],
                    "origin": "application",
                    "where": "queries/oficinas.sql:3",
                    "index": None,
                    "kind": None,
                    "error": None,
                    "bound": {},
                    "unbound": [],
                    "before": _measurement(boolean["before"], False),
                    "after": _measurement(boolean["after"], True),
                    "plan_lint": [
                        {
                            "kind": "row-misestimate",
                            "node": "0.0",
                            "label": "Sort",
                            "message": "estimated 6 rows, got 438",
                        }
                    ],
                },
                {
                    "label": "probe: trigram",
                    "sql": trgm["query"],
                    "origin": "probe",
                    "where": None,
                    "index": "public.idx_oficinas_nome",
                    "kind": "trigram",
                    "error": None,
                    "bound": {},
                    "unbound": [],
                    "before": _measurement(trgm["before"], True),
                    "after": _measurement(trgm["after"], True),
                    "plan_lint": [],
                },
                {
                    "label": "probe: other",
                    "sql": "SELECT 1",
                    "origin": "probe",
                    "index": "idx_other",
                    "before": None,
                    "after": None,
                },
            ],
            "unsupported_queries": [
                {
                    "where": "queries/x.sql:1",
                    "kind": "trigram",
                    "predicate": "nome ILIKE $1",
                    "suggestion": "CREATE INDEX CONCURRENTLY ...",
                }
            ],
            "notes": ["one note"],
            "elapsed_s": 1.0,
        },
    }
    data = result.to_dict()
    from pgpreflight.linter.report import checklist as cl

    item = {i["id"]: i for i in cl.checklist(data)["items"]}["explain"]
    assert item["status"] == "warning" and "used, no gain" in item["evidence"][0]["text"]
    page = html.render(result)
    card = page[page.index('id="ix-idx_oficinas_nome"') :]
    card = card[
        : card.index('<div class="explain"', 10)
        if '<div class="explain"' in card[10:]
        else len(card)
    ]
    assert "used, no gain" in card and "low selectivity" in card and "1.3 MB" in card
    assert card.count("data-plan") == 3  # app query: after only; probe: before and after
    assert "plan not kept" in card and "row-misestimate" in card
    assert "SELECT 1" not in card  # a probe made for another index stays out
    assert "Application queries no index serves" in page and "nome ILIKE $1" in page
    md = markdown.render(result)
    assert "`idx_oficinas_nome`" in md and "used, no gain" in md


def _history(folder: Path, n: int = 300) -> Path:
    """`n` migrations like a long real history: tables of 30 columns, every tenth file a 400-line
    data load, every 50th an index built without CONCURRENTLY on an old table, and every 50th
    (offset) without a DOWN section."""
    files = {}
    for i in range(n):
        cols = "\n".join(f"    c{k} text NOT NULL DEFAULT 'valor {k}'," for k in range(30))
        up = (
            f"-- Migration {i}: a table of the history.\n-- UP\nCREATE TABLE t{i} (\n"
            f"    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n{cols}\n"
            "    created_at timestamptz NOT NULL DEFAULT now()\n);\n"
        )
        if i % 10 == 3:
            up += "".join(f"INSERT INTO t{i} (c0) VALUES ('linha {k}');\n" for k in range(400))
        if i % 50 == 7:
            up += f"CREATE INDEX idx_t0_c{i % 30} ON t0 (c{i % 30});\n"
        down = f"\n-- DOWN\nDROP TABLE t{i};\n"
        if i % 50 == 7:
            down = f"\n-- DOWN\nDROP INDEX idx_t0_c{i % 30};\nDROP TABLE t{i};\n"
        if i % 50 == 13:
            down = ""
        files[f"20240101{i // 60:02d}{i % 60:02d}__m{i:03d}.sql"] = up + down
    return write(folder, files)


def _traced(m: dict, failed: bool) -> dict:
    """A check record for migration `m` as linter/check/result.py writes it: two statements,
    one lock each; `failed` makes its round trip fail."""
    path = m["paths"][0]

    def stmt(k: int, mode: str) -> dict:
        return {
            "index": k,
            "section": "up",
            "path": path,
            "line": 3 + k,
            "sql": f"CREATE TABLE {m['id']} (id bigint) -- statement {k}",
            "kind": "CreateStmt",
            "status": "ok",
            "transaction": "file",
            "duration_ms": 1.5 + k,
            "locks": [
                {
                    "object": "t0",
                    "kind": "table",
                    "mode": mode,
                    "locktype": "relation",
                    "blocks": ["INSERT/UPDATE/DELETE", "DDL"],
                    "new_object": False,
                    "held_until": "end of transaction",
                    "held_ms": 2.0,
                }
            ],
            "rewrites": [],
            "agreement": {"verdict": "confirmed", "note": None},
            "projected_ms": None,
            "notes": [],
        }

    section = {"status": "ok", "statements": [stmt(0, "SHARE"), stmt(1, "ACCESS EXCLUSIVE")]}
    return {
        "id": m["id"],
        "paths": m["paths"],
        "status": "round-trip failed" if failed else "passed",
        "up": section,
        "down": section,
        "round_trip": {
            "verdict": "fail" if failed else "pass",
            "reason": f"column {m['id']}.x left behind by DOWN" if failed else None,
            "down_differences": [],
            "up_again_differences": [],
        },
        "data_loss": [],
        "notes": [],
    }


def test_a_long_history_stays_a_small_page_with_every_failure(tmp_path: Path) -> None:
    """A full-history report of 342 migrations was 22 MB: migrations that passed are collapsed
    to their first lines, long listings excerpted around their findings, checklist evidence that
    passed counted rather than listed. 300 migrations stay under 3 MB and every finding and
    every failed round trip is still on the page."""
    result = lint_folder(
        _history(tmp_path / "m"),
        select=["require-concurrent-index", "missing-down-section", "require-lock-timeout"],
    )
    data = result.to_dict()
    failed = {m["id"] for i, m in enumerate(data["migrations"]) if i % 40 == 21}
    data["check"] = {
        "mode": "scratch",
        "server": {"version": "16.4", "major": 16},
        "pending": [m["id"] for m in data["migrations"]],
        "migrations": [_traced(m, m["id"] in failed) for m in data["migrations"]],
    }
    page = html.render_dict(data)
    size = len(page.encode())
    assert size < 3_000_000, f"{size:,} bytes"
    assert len(data["migrations"]) == 300 and len(failed) == 7
    findings = data["findings"]
    assert {f["rule"] for f in findings} >= {"require-concurrent-index", "missing-down-section"}
    for f in findings:
        anchor = f"f-{f['path'].replace('/', '-')}-{f['line']}-{f['column']}-{f['rule']}"
        assert f'id="{anchor}"' in page, anchor
    for mid in failed:
        assert f"column {mid}.x left behind by DOWN" in page
        assert re.search(rf'<details class="card migration" id="m-{mid}" open>', page)
    # a migration that passed is collapsed and says what was left out
    quiet = next(
        m
        for i, m in enumerate(data["migrations"])
        if i % 10 == 3
        and m["id"] not in failed
        and not any(f["path"] in m["paths"] for f in findings)
    )
    card = page[page.index(f'id="m-{quiet["id"]}"') :]
    card = card[: card.index("</details>")]
    assert "this migration passed every check" in card and "linha 399" not in card
    assert "more passed" in page  # the checklist's passed evidence is counted, not listed


# --- status words and colours agree (issue 16, item 7b) -----------------------------------------


def _pill(page: str, text: str) -> str:
    """The class of the pill whose text is `text`."""
    found = re.search(rf'<span class="pill ([\w -]+)"[^>]*>{re.escape(text)}</span>', page)
    assert found, text
    return found.group(1)


def _with_index(tmp_path: Path, verdict: str, data: dict, runs: bool = False) -> dict:
    """The two-migration lint result with a check that applied the second one and EXPLAIN
    evidence for its index with `verdict`, buffers 3,688 -> 1,036 and time 21.2 -> 10.1 ms."""
    result = lint_folder(
        write(tmp_path / "m", {"202401010000__a.sql": BASE, "202401020000__b.sql": CHANGE})
    )
    d = result.to_dict()
    mid = "202401020000__b"

    def side(ms: float, blocks: int, spread: list[float]) -> dict:
        return {"execution_ms": ms, "shared_blocks": blocks, "temp_blocks": 0, "runs_ms": spread}

    d["check"] = {
        "mode": "scratch",
        "server": {"version": "16.4", "major": 16},
        "pending": [mid],
        "migrations": [
            {
                "id": mid,
                "paths": d["migrations"][1]["paths"],
                "status": "round-trip failed",
                "up": {"status": "ok", "statements": []},
                "round_trip": {"verdict": "fail", "reason": "column oficinas.estado left behind"},
            }
        ],
        "explain": {
            "runs": 3,
            "data": data,
            "indexes": [
                {
                    "index": "idx_oficinas_nome",
                    "table": "public.oficinas",
                    "verdict": verdict,
                    "reason": None if verdict == "helps" else "low selectivity",
                    "before": side(21.2, 3688, [19.8, 21.2, 26.0] if runs else []),
                    "after": side(10.1, 1036, [9.7, 10.1, 12.4] if runs else []),
                    "costs": {},
                }
            ],
            "queries": [],
        },
    }
    return d


def test_applied_is_green_when_only_the_round_trip_failed(tmp_path: Path) -> None:
    page = html.render_dict(_with_index(tmp_path, "helps", {"source": "seed.sql"}))
    assert _pill(page, "applied") == "s-passed"
    assert _pill(page, "round trip: failed") == "s-failed"
    assert not re.search(r'class="pill s-failed"[^>]*>applied<', page)


def test_verdict_words_are_the_same_in_cli_html_and_markdown(tmp_path: Path) -> None:
    """One vocabulary, linter/explain/verdict.py's: the CLI line said 'used' where the HTML said
    'helps'. Each verdict's colour follows the checklist status, and a figure is green only
    beside 'helps' (no 'used, no gain' next to a green x2.1)."""
    from pgpreflight.linter.explain import verdict as v
    from pgpreflight.linter.report import checklist as cl
    from pgpreflight.linter.report.explain_text import index_line

    for word in (v.HELPS, v.NO_GAIN, v.NOT_USED, v.NOT_MEASURED):
        d = _with_index(tmp_path / word.replace(",", "").replace(" ", "-"), word, {})
        entry = d["check"]["explain"]["indexes"][0]
        line = index_line(entry)
        assert line.split("  ")[1].split(" (")[0] == word, line
        page = html.render_dict(d)
        status = cl.explain_status(word)
        assert _pill(page, f"idx_oficinas_nome: {word}") == f"s-{status.replace(' ', '-')}"
        card = page[page.index('id="ix-idx_oficinas_nome"') :]
        card = card[: card.index('<div class="q')]
        assert f">{word}</span>" in card
        assert ('class="speed"' in card) == (word == v.HELPS), word
        assert ("used" in line.split("  ")[1]) == ("used" in word)
        assert f" {word}<br>" in markdown.render_dict(d) or f" {word} |" in markdown.render_dict(d)


def test_real_data_only_when_the_rows_are_real(tmp_path: Path) -> None:
    from pgpreflight.linter.report import checklist as cl

    cases = {
        "real": ({"source": "data/seed.sql", "synthesized": []}, "real data"),
        "target": ({"source": "sample of the target", "synthesized": []}, "real data"),
        "synth": (
            {"source": None, "synthesized": [{"table": "t", "rows": 10, "status": "generated"}]},
            "synthesised rows",
        ),
        "both": (
            {
                "source": "seed.sql",
                "synthesized": [{"table": "t", "rows": 10, "status": "generated"}],
            },
            "real data and synthesised rows",
        ),
        "failed-synth": (
            {"source": None, "synthesized": [{"table": "t", "rows": 0, "status": "failed"}]},
            "the migrations' own rows",
        ),
    }
    for name, (data, words) in cases.items():
        d = _with_index(tmp_path / name, "helps", data)
        title = {i["id"]: i for i in cl.checklist(d)["items"]}["explain"]["title"]
        assert title.endswith(f"on {words}"), title
        page = html.render_dict(d)
        assert f"Measured on {words}".replace("'", "&#39;") in page
        assert ("real data" in page) == ("real data" in words), name


def test_an_empty_down_is_called_empty(tmp_path: Path) -> None:
    """'-- DOWN' with nothing under it is an empty DOWN, not a missing section, in the pill, the
    round-trip line, the checklist and the Markdown comment."""
    from pgpreflight.linter.report import checklist as cl

    empty = BASE.split("-- DOWN")[0] + "-- DOWN\n"
    result = lint_folder(write(tmp_path / "m", {"202401010000__a.sql": empty}))
    d = result.to_dict()
    m = d["migrations"][0]
    assert cl.down_state(m) == "empty"
    d["check"] = {
        "mode": "scratch",
        "server": {"version": "16.4", "major": 16},
        "pending": [m["id"]],
        "migrations": [
            {
                "id": m["id"],
                "paths": m["paths"],
                "status": "round-trip failed",
                "up": {"status": "ok", "statements": []},
                "round_trip": {"verdict": "no down", "reason": "the migration has no DOWN section"},
            }
        ],
    }
    page = html.render_dict(d)
    assert _pill(page, "round trip: empty DOWN") == "s-failed"
    assert "no DOWN section" not in page and "has no DOWN" not in page
    rollback = {i["id"]: i for i in cl.checklist(d)["items"]}["rollback"]
    assert rollback["evidence"][0]["text"].startswith("empty DOWN")
    md = markdown.render_dict(d)
    assert "empty DOWN" in md and "no DOWN section" not in md


def test_explain_headline_leads_with_buffers_and_gives_time_a_spread(tmp_path: Path) -> None:
    """Buffers do not move from run to run; time does. The headline shows buffers first and the
    median time with its fastest and slowest run, in the HTML, the Markdown and the CLI."""
    from pgpreflight.linter.report.explain_text import index_line

    d = _with_index(tmp_path, "helps", {"source": "seed.sql"}, runs=True)
    page = html.render_dict(d)
    head = page[page.index('id="ix-idx_oficinas_nome"') :]
    head = head[: head.index("</div>")]
    assert head.index("buffers") < head.index("median time")
    assert "3,688" in head and "1,036" in head and "×3.6 fewer" in head
    assert "21 ms (20–26 ms)" in head and "10 ms (9.70–12 ms)" in head
    md = markdown.render_dict(d)
    assert "3,688 → 1,036 (×3.6 fewer) | 21 ms (20–26 ms) → 10 ms (9.70–12 ms) |" in md
    line = index_line(d["check"]["explain"]["indexes"][0])
    assert line.index("buffers 3,688 → 1,036") < line.index("median time 21.2 ms (19.8–26.0 ms)")
