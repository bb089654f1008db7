"""The reviewer's page: one self-contained HTML file (CSS and JavaScript inline, nothing loaded
from the network) rendered with jinja2, autoescape on, from the result dict only.

Python builds a plain view model (highlighted source lines, the lock timeline's geometry, plan
trees) in which every field a template reads is present (linter/report/model.py); the templates
in `templates/` lay it out and run with `StrictUndefined`. The only markup made here is
Pygments-style token spans around text that went through `markupsafe.escape` first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pgpreflight.linter.report import RenderOptions, view
from pgpreflight.linter.report import checklist as cl
from pgpreflight.linter.report.model import RuleText, SourceLine, filled
from pgpreflight.linter.result import RunResult

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).with_name("templates")

# Page size (a full history of hundreds of migrations must stay a page, not 20 MB): a listing up
# to FULL_LINES lines is shown whole, a longer one as its first HEAD_LINES and CONTEXT_LINES
# around each finding; past MANY_MIGRATIONS shown, listings past FULL_LINES_MANY are excerpted
# and a migration that passed everything keeps only its first HEAD_LINES and its UP trace (no
# timeline, no DOWN trace), and a checklist item lists at most EVIDENCE_PASSED_SHOWN passed lines.
FULL_LINES = 200
FULL_LINES_MANY = 40
HEAD_LINES = 8
CONTEXT_LINES = 3
MANY_MIGRATIONS = 20
EVIDENCE_PASSED_SHOWN = 12

# Pygments token families -> the few classes the stylesheet colours.
_LOCK_LEVEL = {
    "ACCESS EXCLUSIVE": "l-ae",
    "EXCLUSIVE": "l-ex",
    "SHARE ROW EXCLUSIVE": "l-ex",
    "SHARE": "l-sh",
    "SHARE UPDATE EXCLUSIVE": "l-su",
}


def render(result: RunResult, options: RenderOptions | None = None) -> str:
    return render_dict(result.to_dict())


def environment() -> jinja2.Environment:
    """The page's jinja2 environment: autoescape on, and `StrictUndefined`, so a template that
    reads a name the view model (`build_view`, linter/report/model.py) does not carry fails
    loudly instead of printing nothing."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_shown,
    )
    env.filters["ms"] = view.fmt_ms
    env.globals["fmt_time"] = view.fmt_time
    env.filters["num"] = view.fmt_int
    env.filters["bytes"] = view.fmt_bytes
    env.filters["prose"] = prose
    env.filters["inline"] = inline_code
    env.globals["blocks_phrase"] = view.blocks_phrase
    env.globals["blocks_level"] = view.blocks_level
    env.globals["lock_class"] = lambda mode: _LOCK_LEVEL.get(str(mode), "l-weak")
    # StrictUndefined raises when a missing value is printed, iterated or tested for truth, but
    # not in an identity test (`x is not none`, `x is false`): every test but `defined` fails on
    # it too, so `is not none` cannot stand in for a field the view model lacks.
    for name, test in list(env.tests.items()):
        if name not in ("defined", "undefined"):
            env.tests[name] = _defined_only(test)
    return env


def _defined_only(test: Any) -> Any:
    import jinja2

    def checked(value: Any, *args: Any) -> Any:
        if isinstance(value, jinja2.Undefined):
            value._fail_with_undefined_error()
        return test(value, *args)

    return checked


def render_dict(data: dict[str, Any]) -> str:
    """The page for a result dict (a fresh run's `to_dict()` or a saved result file)."""
    return render_view(build_view(data))


def render_view(page: dict[str, Any]) -> str:
    """The page for a view model (`build_view`)."""
    import base64
    import hashlib

    from markupsafe import Markup

    env = environment()
    # The script is inlined and allowed by its hash in the page's Content-Security-Policy, so
    # nothing else can run even if some text ever escaped escaping.
    script = env.get_template("script.js.j2").render()
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    # Secrets were redacted from the data (linter/secrets.py); redacting the page would rewrite
    # markup that merely looks like a credential (a file named `x-password=y.sql`).
    return env.get_template("report.html.j2").render(
        **page, script=Markup(script), script_hash=f"sha256-{digest}"
    )


def _shown(value: Any) -> Any:
    """Every `{{ }}` output: control characters (an ESC in a quoted identifier) shown as escapes,
    as in the text output. Escaping for HTML stays autoescape's; on markup already escaped this
    only rewrites control characters, which are never part of a tag."""
    from markupsafe import Markup
    from pgpreflight.linter.printable import printable

    if isinstance(value, Markup):
        return Markup(printable(str(value), keep="\t\n\r"))
    if isinstance(value, str):
        return printable(value, keep="\t\n\r")
    return value


def build_view(data: dict[str, Any]) -> dict[str, Any]:
    """What the templates read. Every part they read from the result dict is read through the
    dataclass that writes it (`model.filled`), so a key a saved result lacks is its default,
    never a hole a template would fall into."""
    from pgpreflight.linter.check.result import CheckResult
    from pgpreflight.linter.evidence.meta import RunMeta
    from pgpreflight.linter.evidence.tests import IntegrationEvidence
    from pgpreflight.linter.findings import SEVERITIES, Finding

    data = dict(
        data,
        findings=[filled(Finding, f) for f in data.get("findings") or []],
        rules=[filled(RuleText, r) for r in data.get("rules") or []],
    )
    check = filled(CheckResult, data["check"]) if data.get("check") else None
    sources = {s["path"]: s["text"] for s in data.get("sources") or []}
    rules = view.rules_by_id(data)
    checks = {m["id"]: m for m in (check or {}).get("migrations") or []}
    explain = view.explain_views(data)
    shown = view.shown_migrations(data)
    many = len(shown) > MANY_MIGRATIONS
    explained: set[str] = set()
    migrations = []
    for m in shown:
        findings = []
        for f in view.migration_findings(data, m):
            # a rule's rationale once per page; later findings of the rule link to it
            findings.append(dict(f, why_here=f["rule"] not in explained))
            explained.add(f["rule"])
        mc = checks.get(m["id"])
        attention = (
            bool(findings)
            # a failure an earlier one caused is reported there, under its root cause
            or (mc is not None and mc.get("status") != "passed" and not mc.get("caused_by"))
            or any(
                cl.explain_status(e.get("verdict")) != cl.PASSED
                for e in explain
                if e.get("migration") == m["id"]
            )
        )
        head_only = many and not attention
        migrations.append(
            {
                "id": m["id"],
                "paths": m.get("paths") or [],
                "findings": findings,
                "counts": {
                    s: sum(1 for f in findings if f["severity"] == s)
                    for s in ("error", "warning", "info")
                },
                "blocks": _source_blocks(
                    m, sources, findings, head_only, FULL_LINES_MANY if many else FULL_LINES
                ),
                "check": mc,
                "statements": _statement_view(mc),
                "down_statements": _statement_view(mc, "down"),
                "timeline": timeline(mc),
                "round_trip": _round_trip(mc, cl.down_state(m)),
                "new_indexes": m.get("new_indexes") or [],
                "explain": [e for e in explain if e.get("migration") == m["id"]],
                "open": attention,
                "passed_quietly": not attention,
                "brief": head_only,
            }
        )
    shown_ids = {m["id"] for m in migrations}
    checklist = cl.checklist(data)
    for item in checklist["items"]:
        item["evidence_shown"], item["evidence_more"] = _evidence_shown(item["evidence"])
    meta = filled(RunMeta, data.get("meta") or {})
    server = (check or {}).get("server") or {}
    findings = data.get("findings") or []
    tests = cl.integration_evidence(data)
    return {
        "data": data,
        "meta": meta,
        "project": meta.get("project") or "migrations",
        "tool_version": meta.get("pgpreflight_version")
        or (data.get("tool") or {}).get("version", ""),
        "pg_version": server.get("version") or data.get("pg_version"),
        "pg_version_source": "server" if server.get("version") else "configured",
        "target": _target_phrase(data),
        "check": check,
        "checklist": checklist,
        # per severity; a saved result need not carry it (the schema requires only findings)
        "summary": {**dict.fromkeys(SEVERITIES, 0), **(data.get("summary") or {})},
        "findings": findings,
        "rule_ids": sorted({f["rule"] for f in findings}),
        "rules": rules,
        "migrations": migrations,
        "baseline": (check or {}).get("baseline") or [],
        # a finding outside every shown migration shows its rule's rationale where it is
        "loose_findings": [dict(f, why_here=True) for f in view.loose_findings(data)],
        "explain": explain,
        "explain_info": view.explain_section(data),
        "explain_orphans": [e for e in explain if e.get("migration") not in shown_ids],
        "postconditions": (check or {}).get("postconditions") or [],
        "check_notes": (check or {}).get("notes") or [],
        "tests": filled(IntegrationEvidence, tests) if tests is not None else None,
        "statuses": cl.STATUSES,
        "many": many,
        "passed_count": sum(1 for m in migrations if m["passed_quietly"]),
    }


def _evidence_shown(evidence: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Every line that did not pass, and at most EVIDENCE_PASSED_SHOWN that did (a full history
    otherwise lists hundreds of "applied" lines); the second value counts the passed lines left
    out."""
    passed = [e for e in evidence if e.get("status") == cl.PASSED]
    if len(passed) <= EVIDENCE_PASSED_SHOWN + 1:
        return evidence, 0
    keep = {id(e) for e in passed[:EVIDENCE_PASSED_SHOWN]}
    shown = [e for e in evidence if e.get("status") != cl.PASSED or id(e) in keep]
    return shown, len(evidence) - len(shown)


def _target_phrase(data: dict[str, Any]) -> str:
    from pgpreflight.linter.evidence.meta import target_label

    check = data.get("check") or {}
    meta = data.get("meta") or {}
    target = check.get("target")
    if target:
        return target_label(host=target.get("host"), dbname=target.get("dbname"))
    if meta.get("target"):
        return str(meta["target"])
    if check:
        return "scratch server (not the target)"
    return "none (static lint, no database)"


def prose(text: str | None) -> Any:
    """Rule documentation as paragraphs, with `code` spans and ```sql blocks kept as code."""
    import re

    from markupsafe import Markup, escape

    out = []
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        if not block.strip():
            continue
        fence = re.fullmatch(r"\s*```\w*\n(.*?)```\s*", block, re.S)
        if fence:
            out.append(Markup("<pre class='doc-code'><code>{}</code></pre>").format(fence.group(1)))
            continue
        parts = block.split("`")
        html = "".join(
            str(escape(p)) if i % 2 == 0 else f"<code>{escape(p)}</code>"
            for i, p in enumerate(parts)
        )
        out.append(Markup(f"<p>{html}</p>"))
    return Markup("").join(out)


def inline_code(text: str | None) -> Any:
    """One line of rule text with its `code` spans as <code>, everything else escaped."""
    from markupsafe import Markup, escape

    parts = (text or "").split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: show the text as it is
        return escape(text or "")
    return Markup(
        "".join(
            str(escape(p)) if i % 2 == 0 else f"<code>{escape(p)}</code>"
            for i, p in enumerate(parts)
        )
    )


# PostgreSQL's scanner's token names -> the page's classes (see style.css.j2)
_SCANNER_CLASSES = {
    "SQL_COMMENT": "c",
    "C_COMMENT": "c",
    "SCONST": "s",
    "USCONST": "s",
    "BCONST": "s",
    "XCONST": "s",
    "ICONST": "m",
    "FCONST": "m",
    "Op": "o",
    "TYPECAST": "o",
    "DOT_DOT": "o",
    "COLON_EQUALS": "o",
    "EQUALS_GREATER": "o",
    "LESS_EQUALS": "o",
    "GREATER_EQUALS": "o",
    "NOT_EQUALS": "o",
}
_PUNCTUATION = frozenset("(),;.[]")
_OPERATORS = frozenset("+-*/%^<>=:")


def _scanner_class(name: str, kind: str, text: str, next_text: str) -> str:
    if name in _SCANNER_CLASSES:
        return _SCANNER_CLASSES[name]
    if kind != "NO_KEYWORD":
        return "k"
    if name.startswith("ASCII_"):
        return "p" if text in _PUNCTUATION else "o" if text in _OPERATORS else ""
    if name == "IDENT" and next_text == "(":
        return "f"
    return ""


def highlight(text: str) -> list[Any]:
    """One Markup per source line, tokens wrapped in classed spans.

    PostgreSQL's own scanner (pglast, in C) tells keywords, strings, numbers, comments and
    operators apart, as the server reads them and fast enough for a page of a whole history
    (Pygments' lexer took 8 s over lemmy's 684 files). Where the scanner gives up (an
    unterminated string, a psql command), what follows is shown plain. Tokens are split at
    newlines so every line stands alone and findings can be shown under the line they point at.
    """
    from markupsafe import Markup, escape
    from pgpreflight.linter.parsing import scan_tokens

    tokens = scan_tokens(text)
    pieces: list[tuple[str, str]] = []  # (class, text)
    at = 0
    for i, t in enumerate(tokens):
        start, end = t.start, t.end + 1
        if start < at:
            continue
        pieces.append(("", text[at:start]))
        # a name directly followed by "(" is a function call (a table's "(" follows a space)
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        next_text = text[end] if following is not None and following.start == end else ""
        pieces.append((_scanner_class(t.name, t.kind, text[start:end], next_text), text[start:end]))
        at = end
    pieces.append(("", text[at:]))
    lines: list[list[str]] = [[]]
    for cls, value in pieces:
        for i, part in enumerate(value.split("\n")):
            if i:
                lines.append([])
            if part:
                lines[-1].append(
                    f'<span class="{cls}">{escape(part)}</span>' if cls else str(escape(part))
                )
    if len(lines) > 1 and not lines[-1] and text.endswith("\n"):
        lines.pop()
    return [Markup("".join(parts)) for parts in lines]


def _excerpt(
    rows: list[SourceLine], head_only: bool, full_lines: int = FULL_LINES
) -> list[SourceLine]:
    """The lines of one listing worth their bytes: all of a short file; of a long one the first
    `HEAD_LINES` and `CONTEXT_LINES` around every finding; of a migration that passed everything
    in a long history only its first `HEAD_LINES`. Each run of left-out lines becomes one gap row
    saying how many and which, so nothing is dropped silently."""
    if not head_only and len(rows) <= full_lines:
        return rows
    keep = set(range(1, HEAD_LINES + 1))
    if not head_only:
        for r in rows:
            if r.findings:
                keep.update(range(r.no - CONTEXT_LINES, r.no + CONTEXT_LINES + 1))
    out: list[SourceLine] = []
    for r in rows:
        if r.no in keep:
            out.append(r)
        elif out and out[-1].gap:
            out[-1].last = r.no
        else:
            out.append(SourceLine(r.no, gap=True, last=r.no))
    return out


LINE_CHARS = 400
"""Longest source line shown whole: a one-line data load of megabytes would otherwise be
highlighted and written into the page in full (a 19 MB file made a 210 MB page)."""


def _cap_lines(text: str, limit: int = LINE_CHARS) -> str:
    """`text` with every line longer than `limit` cut, saying how much was left out."""
    if len(text) <= limit or all(len(line) <= limit for line in text.split("\n")):
        return text
    return "\n".join(
        line if len(line) <= limit else f"{line[:limit]} … [{len(line) - limit:,} more characters]"
        for line in text.split("\n")
    )


def _source_blocks(
    m: dict[str, Any],
    sources: dict[str, str],
    findings: list[dict[str, Any]],
    head_only: bool = False,
    full_lines: int = FULL_LINES,
) -> list[dict[str, Any]]:
    """UP and DOWN listings with original line numbers and the findings under their lines,
    excerpted (`_excerpt`) when long."""
    from markupsafe import Markup

    sections = m.get("sections") or {}
    blocks = []
    for path in m.get("paths") or []:
        text = sources.get(path)
        if text is None:
            blocks.append({"label": "source", "path": path, "lines": [], "missing": True})
            continue
        text = _cap_lines(text)
        all_lines = text.splitlines()
        if head_only and len(all_lines) > HEAD_LINES:
            # only the head is shown: highlight just that (a lexer restarted mid-file could
            # colour the rest wrongly, and it is not shown anyway)
            lines = highlight("\n".join(all_lines[:HEAD_LINES]) + "\n")
            lines += [Markup("")] * (len(all_lines) - HEAD_LINES)
        else:
            lines = highlight(text)
        by_line: dict[int, list[dict[str, Any]]] = {}
        for f in findings:
            if f["path"] == path:
                by_line.setdefault(min(max(f["line"], 1), max(len(lines), 1)), []).append(f)
        rows = [SourceLine(i, html, by_line.get(i, [])) for i, html in enumerate(lines, 1)]
        down = sections.get("down")
        up = sections.get("up")
        split = (
            down.get("marker_line") or down.get("start_line")
            if down and down.get("path") == path
            else None
        )
        if split and up and up.get("path") == path and split > 1:
            blocks.append(
                {
                    "label": "UP",
                    "path": path,
                    "lines": _excerpt(rows[: split - 1], head_only, full_lines),
                    "first": 1,
                    "last": split - 1,
                    "missing": False,
                }
            )
            if not head_only:
                blocks.append(
                    {
                        "label": "DOWN",
                        "path": path,
                        "lines": _excerpt(rows[split - 1 :], head_only, full_lines),
                        "first": split,
                        "last": len(rows),
                        "missing": False,
                    }
                )
        else:
            label = (
                "DOWN"
                if down and down.get("path") == path and not (up and up.get("path") == path)
                else "UP"
            )
            blocks.append(
                {
                    "label": label,
                    "path": path,
                    "lines": _excerpt(rows, head_only, full_lines),
                    "first": 1 if rows else 0,
                    "last": len(rows),
                    "missing": False,
                }
            )
    if not head_only and not any(b["label"] == "DOWN" for b in blocks):
        blocks.append({"label": "DOWN", "path": None, "lines": [], "missing": True})
    return blocks


def _statement_rows(mc: dict[str, Any] | None, section: str = "up") -> list[dict[str, Any]]:
    if not mc or not mc.get(section):
        return []
    return list(mc[section].get("statements") or [])


def _statement_view(mc: dict[str, Any] | None, section: str = "up") -> list[dict[str, Any]]:
    rows = _statement_rows(mc, section)
    return [dict(s, held_before=h) for s, h in zip(rows, held_before(rows), strict=True)]


_ROUND_TRIP_WORDS = {"pass": "passed", "fail": "failed", "not run": "not run"}


def _round_trip(mc: dict[str, Any] | None, down_state: str) -> dict[str, Any] | None:
    """The round trip as shown: `label` is the one word pill and checklist agree on; a DOWN
    marker with nothing under it is an "empty DOWN", not a missing one."""
    if not mc:
        return None
    rt = dict(mc.get("round_trip") or {})
    verdict = rt.get("verdict") or "not run"
    if verdict == "no down":
        rt["label"] = "empty DOWN" if down_state == "empty" else "no DOWN section"
        rt["reason"] = (
            "the DOWN section is empty: there is no statement to roll back"
            if down_state == "empty"
            else "the migration has no DOWN section"
        )
    else:
        rt["label"] = _ROUND_TRIP_WORDS.get(verdict, str(verdict))
    rt["status"] = {"pass": "passed", "not run": "not run"}.get(verdict, "failed")
    diff = rt.get("pg_dump_diff") or ""
    rt["diff_lines"] = [
        {
            "cls": "add"
            if ln.startswith("+") and not ln.startswith("+++")
            else "del"
            if ln.startswith("-") and not ln.startswith("---")
            else "hunk"
            if ln.startswith("@@")
            else "ctx",
            "text": ln,
        }
        for ln in diff.splitlines()
    ]
    rt["data_loss"] = mc.get("data_loss") or []
    return rt


def _lock_strength(lock: dict[str, Any]) -> int:
    from pgpreflight.linter.check.locks import MODES

    mode = str(lock.get("mode"))
    return MODES.index(mode) if mode in MODES else -1


def held_before(rows: list[dict[str, Any]]) -> list[list[str]]:
    """Per statement, the locks earlier statements of the same transaction still hold (a
    statement that takes no new lock may still run under an ACCESS EXCLUSIVE)."""
    held: dict[str, str] = {}
    out = []
    for s in rows:
        out.append([f"{mode} on {obj}" for obj, mode in held.items()])
        if s.get("transaction") in ("none (cannot run in a transaction)", "statement"):
            held = {}
            continue
        for lock in s.get("locks") or []:
            if (
                lock.get("held_until") == "end of transaction"
                and not lock.get("new_object")
                and lock.get("locktype") in (None, "relation")
            ):
                obj = str(lock.get("object"))
                if _lock_strength(lock) > _lock_strength({"mode": held.get(obj)}):
                    held[obj] = str(lock.get("mode"))
    return out


def timeline(mc: dict[str, Any] | None, width: float = 720.0) -> dict[str, Any] | None:
    """Geometry of the lock timeline of a migration's UP: one bar per statement on the top row,
    then one row per locked object with a bar for each lock from the statement that took it for
    as long as it was held. Each statement gets a minimum slot so quick ones stay visible; the
    labels carry the real durations."""
    rows_src = _statement_rows(mc)
    if not rows_src:
        return None
    label_w, row_h, pad = 150.0, 22.0, 4.0
    plot_w = width - label_w - 10
    durations = [max(float(s.get("duration_ms") or 0.0), 0.0) for s in rows_src]
    total = sum(durations) or 1.0
    min_share = 0.25 / len(rows_src)
    weights = [min_share + 0.75 * d / total for d in durations]
    scale = plot_w / sum(weights)
    starts, x = [], label_w
    for w in weights:
        starts.append(x)
        x += w * scale
    ends = [*starts[1:], label_w + plot_w]
    statements = []
    objects: dict[str, list[dict[str, Any]]] = {}
    for i, s in enumerate(rows_src):
        statements.append(
            {
                "x": round(starts[i], 1),
                "w": round(max(ends[i] - starts[i] - 1, 1), 1),
                "n": i + 1,
                "line": s.get("line"),
                "ok": s.get("status") == "ok",
                "status": s.get("status"),
                "title": f"#{i + 1} line {s.get('line')}: {view.fmt_ms(s.get('duration_ms'))} — {(s.get('sql') or '')[:120]}",
            }
        )
        for lock in sorted(s.get("locks") or [], key=_lock_strength):
            # a lock on an object this transaction created blocks nobody: not drawn
            if lock.get("locktype") not in (None, "relation") or lock.get("new_object"):
                continue
            held_to_end = lock.get("held_until") == "end of transaction"
            end = label_w + plot_w if held_to_end else ends[i]
            objects.setdefault(str(lock.get("object")), []).append(
                {
                    "x": round(starts[i], 1),
                    "w": round(max(end - starts[i] - 1, 2), 1),
                    "mode": lock.get("mode"),
                    "cls": _LOCK_LEVEL.get(str(lock.get("mode")), "l-weak"),
                    "title": f"{lock.get('mode')} on {lock.get('object')} from statement #{i + 1} "
                    f"until {lock.get('held_until')} ({view.fmt_ms(lock.get('held_ms'))}); blocks {view.blocks_phrase(lock)}",
                }
            )
    rows = [
        {"label": name, "bars": bars, "y": round(pad + row_h * (k + 1), 1)}
        for k, (name, bars) in enumerate(objects.items())
    ]
    height = pad * 2 + row_h * (len(rows) + 1) + 16
    return {
        "width": width,
        "height": round(height, 1),
        "label_w": label_w,
        "row_h": row_h,
        "pad": pad,
        "plot_w": plot_w,
        "statements": statements,
        "rows": rows,
        "total": view.fmt_ms(sum(durations)),
        "axis_y": round(height - 4, 1),
    }
