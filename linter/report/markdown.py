"""A pull-request comment: verdict, checklist table, findings by migration with links to their
lines, EXPLAIN verdicts per index, and the details in `<details>` blocks.

GitHub refuses comments over 65,536 characters; the comment stays under `LIMIT` (60,000) by
dropping whole blocks from the end, or whole rows from the table that no longer fits, and says so
in a closing note. A table is never cut inside a row, a `<details>` block never left open.
Everything from the result is escaped, so a file name, identifier or migration comment cannot
inject markup or ping anyone: outside code, HTML-significant characters, backticks and brackets
become entities, `|` is escaped and `@` is followed by a zero-width space (no @mention); in code
spans (`code`) the fence is longer than any backtick run inside, and newlines and other control
characters are shown as escapes (`\n`), so a name never leaves its span or its table row. Links
to lines are percent-encoded, and `--link-base` must be an http(s) URL (`check_link_base`).
Secrets were redacted from the data before it got here (linter/secrets.py), not from the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from pgpreflight.linter.errors import ConfigError
from pgpreflight.linter.printable import printable
from pgpreflight.linter.report import RenderOptions, view
from pgpreflight.linter.report import checklist as cl
from pgpreflight.linter.result import RunResult

LIMIT = 60_000
_ICON = {"passed": "✅", "failed": "❌", "warning": "⚠️", "not run": "⏭️", "needs a person": "🙋"}
_VERDICT_ICON = {cl.READY: "✅", cl.NOT_READY: "❌", cl.READY_WITH_WARNINGS: "⚠️"}
_SEV_ICON = {"error": "🔴", "warning": "🟡", "info": "🔵"}


def render(
    result: RunResult,
    options: RenderOptions | None = None,
    *,
    link_base: str = "",
    limit: int = LIMIT,
) -> str:
    return render_dict(result.to_dict(), link_base=link_base, limit=limit)


# Characters outside code that Markdown or HTML would act on, as entities: a backtick would pair
# with a code span's fence elsewhere on the line, brackets would make links.
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "`": "&#96;", "[": "&#91;", "]": "&#93;"}


def esc(text: Any) -> str:
    """Text safe inside Markdown and inside a table cell: no markup, no @mention, no new row."""
    s = printable(str(text if text is not None else ""), keep="\t\n\r")
    s = "".join(_ENTITIES.get(ch, ch) for ch in s)
    s = s.replace("@", "@&#8203;")  # a zero-width space after @: shown as @, never a mention
    s = s.replace("|", "\\|").replace("\r", "")
    return s.replace("\n", "<br>")


def code(text: Any, *, sql: bool = False) -> str:
    """An inline code span shown as-is: its fence is longer than any backtick run inside, and a
    newline (any control character) in a name is shown as `\\n`, so nothing leaves the span.
    SQL (`sql=True`) has its whitespace runs, newlines included, folded into one space."""
    s = str(text if text is not None else "")
    if sql:
        s = " ".join(s.split())
    s = printable(s, keep="").replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", s)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{ticks}{pad}{s}{pad}{ticks}"


def check_link_base(value: str) -> str:
    """`value` if it is an http(s) URL a Markdown link can hold; else a ConfigError (exit 2).

    Anything else (`javascript:`, `data:`, a relative path) would turn every line link of the
    comment into whatever the value says."""
    if not value:
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.netloc
        or re.search(r"[\s<>\"'`\\\x00-\x1f\x7f]", value)
    ):
        raise ConfigError(
            f"--link-base {printable(value)!r}: expected an http:// or https:// URL, "
            "e.g. https://github.com/OWNER/REPO/blob/SHA"
        )
    return value


@dataclass
class Block:
    """A unit of the comment. Tables (`rows` set) may lose rows from the end, nothing else may
    be cut: the block either fits or is dropped."""

    head: list[str]
    rows: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    what: str = "section"  # what a truncation note counts ("finding", "statement", ...)

    def text(self, n_rows: int | None = None) -> str:
        rows = self.rows if n_rows is None else self.rows[:n_rows]
        return "\n".join([*self.head, *rows, *self.tail]) + "\n"


def _link(path: str, line: int, link_base: str) -> str:
    base = link_base.rstrip("/") + "/" if link_base else ""
    base = base.replace("(", "%28").replace(")", "%29")
    return f"[L{line}]({base}{quote(path, safe='/')}#L{line})"


def _header(d: dict[str, Any], checklist: dict[str, Any]) -> Block:
    meta = d.get("meta") or {}
    check = d.get("check") or {}
    server = check.get("server") or {}
    bits = [f"**{esc(meta.get('project') or 'migrations')}**"]
    git = meta.get("git") or {}
    if git.get("short"):
        bits.append(
            code(git["short"]) + (f" on {code(git['branch'])}" if git.get("branch") else "")
        )
    bits.append(
        f"PostgreSQL {esc(server.get('version') or d.get('pg_version'))}"
        + ("" if server.get("version") else " (configured)")
    )
    target = check.get("target")
    if target:
        from pgpreflight.linter.evidence.meta import target_label

        bits.append(
            "target " + code(target_label(host=target.get("host"), dbname=target.get("dbname")))
        )
    elif check:
        bits.append("scratch database")
    else:
        bits.append("static lint, no database")
    if meta.get("time"):
        bits.append(esc(meta["time"]))
    bits.append(
        f"pgpreflight {esc(meta.get('pgpreflight_version') or (d.get('tool') or {}).get('version', ''))}"
    )
    v = checklist["verdict"]
    return Block(
        [
            f"## {_VERDICT_ICON[v]} pgpreflight: {v}",
            "",
            f"> {esc(checklist['reason'])}",
            "",
            " · ".join(bits),
            "",
        ]
    )


def _checklist_blocks(checklist: dict[str, Any]) -> list[Block]:
    table = Block(
        ["### Pre-deploy checklist", "", "| Status | Item | Evidence |", "| --- | --- | --- |"],
        tail=[""],
    )
    for item in checklist["items"]:
        table.rows.append(
            f"| {_ICON[item['status']]} {item['status']} | {esc(item['title'])} | {esc(item['summary'])} |"
        )
    out = [table]
    lines = []
    for item in checklist["items"]:
        if item["evidence"]:
            lines.append(f"**{esc(item['title'])}**")
            lines.append("")
            for ev in item["evidence"][:60]:
                mig = f" ({code(ev['migration'])})" if ev.get("migration") else ""
                lines.append(f"- {_ICON[ev['status']]} {esc(ev['text'])}{mig}")
            if len(item["evidence"]) > 60:
                lines.append(f"- … {len(item['evidence']) - 60} more")
            lines.append("")
    if lines:
        out.append(
            Block(["<details><summary>Checklist evidence</summary>", "", *lines, "</details>", ""])
        )
    return out


def _findings_blocks(d: dict[str, Any], link_base: str) -> list[Block]:
    rules = view.rules_by_id(d)
    summary = d.get("summary") or {}
    total = sum(summary.values()) if summary else len(d.get("findings") or [])
    counts = ", ".join(
        f"{summary.get(s, 0)} {s}{'s' if summary.get(s, 0) != 1 and s != 'info' else ''}"
        for s in ("error", "warning", "info")
        if summary.get(s)
    )
    out = [Block([f"### Findings ({counts or 'none'})" if total else "### Findings", ""])]
    if not total:
        out[0].head.append("No findings. ✅")
        out[0].head.append("")
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for m in view.shown_migrations(d):
        fs = view.migration_findings(d, m)
        if fs:
            groups.append((code(m["id"]), fs))
    owner = {p: m["id"] for m in d.get("migrations") or [] for p in m.get("paths") or []}
    loose: dict[str, list[dict[str, Any]]] = {}
    for f in view.loose_findings(d):
        loose.setdefault(owner.get(f["path"], f["path"]), []).append(f)
    suffix = " (already applied, not pending)" if (d.get("check") or {}).get("pending") else ""
    for title, fs in loose.items():
        groups.append((code(title) + (suffix if title in owner.values() else ""), fs))
    for title, fs in groups:
        block = Block(
            [f"#### {title}", "", "| | Line | Rule | Finding |", "| --- | --- | --- | --- |"],
            tail=[""],
            what="finding",
        )
        explained: set[str] = set()
        for f in fs:
            hint = f"<br>**Fix:** {esc(f['hint'])}" if f.get("hint") else ""
            summary_txt = (
                rules.get(f["rule"], {}).get("summary") if f["rule"] not in explained else None
            )
            explained.add(f["rule"])  # the rule's one-line summary once per table is enough
            why = f"<br><sub>{esc(summary_txt)}</sub>" if summary_txt else ""
            block.rows.append(
                f"| {_SEV_ICON.get(f['severity'], '')} {f['severity']} | {_link(f['path'], f['line'], link_base)} | "
                f"{code(f['rule'])} | {esc(f['message'])}{hint}{why} |"
            )
        out.append(block)
    return out


def _explain_blocks(d: dict[str, Any]) -> list[Block]:
    explain = view.explain_views(d)
    check = d.get("check")
    head = [f"### EXPLAIN ANALYZE of new indexes on {cl.explain_data(d)}", ""]
    if not explain:
        new = [ix for m in view.shown_migrations(d) for ix in m.get("new_indexes") or []]
        why = (
            "no database in this run (`pgpreflight check` measures them)"
            if not check
            else "the check recorded no EXPLAIN evidence"
        )
        if not new:
            return [Block([*head, "No new index in these migrations.", ""])]
        return [
            Block(
                [
                    *head,
                    f"⏭️ Not run for {len(new)} new index{'es' if len(new) != 1 else ''}: {why}.",
                    "",
                ]
            )
        ]
    table = Block(
        [
            *head,
            "Buffers lead: they do not move from run to run. Times are medians, with the fastest"
            " and slowest run in brackets.",
            "",
            "| Index | Table | Verdict | Buffers before → after | Median time before → after |",
            "| --- | --- | --- | --- | --- |",
        ],
        tail=[""],
        what="index",
    )
    details = []
    for e in explain:
        q = e["best"]
        status = cl.explain_status(e["verdict"])
        reason = "<br>" + esc(e["reason"]) if e.get("reason") else ""
        if not str(e.get("reason") or "").startswith("redundant"):
            for r in e.get("redundant_with") or []:
                reason += "<br>" + esc(f"redundant with new index {r['index']}: {r['why']}")
        times = (
            f"{view.fmt_time(q.get('before_ms'), q.get('before_spread'))} → "
            f"{view.fmt_time(q.get('after_ms'), q.get('after_spread'))}"
        )
        ratio = q.get("buffer_ratio")
        fewer = f" (×{ratio:.1f} fewer)" if isinstance(ratio, float) and ratio >= 1.05 else ""
        buffers = (
            f"{view.fmt_int(q.get('before_buffers'))} → {view.fmt_int(q.get('after_buffers'))}"
            f"{fewer}"
        )
        table.rows.append(
            f"| {code(e['index'])} | {esc(e.get('table') or '')} | "
            f"{_ICON[status]} {esc(e['verdict'])}{reason} | {buffers} | {times} |"
        )
        for q in e["queries"]:
            details += [f"**{esc(e['index'])}**: {code(q['sql'][:300], sql=True)}", ""]
            for side in ("before", "after"):
                node = q.get(side)
                if node:
                    details.append(f"- plan {side}: " + esc(_plan_outline(node)))
            details.append("")
    out = [table]
    if details:
        out.append(
            Block(["<details><summary>Queries and plans</summary>", "", *details, "</details>", ""])
        )
    return out


def _plan_outline(node: dict[str, Any], depth: int = 0, limit: int = 8) -> str:
    parts: list[str] = []

    def walk(n: dict[str, Any], level: int) -> None:
        if len(parts) >= limit:
            return
        name = (
            n["type"]
            + (f" using {n['index']}" if n.get("index") else "")
            + (f" on {n['relation']}" if n.get("relation") else "")
        )
        parts.append("›" * level + " " + name if level else name)
        for c in n.get("children") or []:
            walk(c, level + 1)

    walk(node, depth)
    return " / ".join(parts)


def _check_blocks(d: dict[str, Any]) -> list[Block]:
    check = d.get("check")
    if not check:
        return [
            Block(
                [
                    "### Database check",
                    "",
                    "⏭️ Not run: locks, table rewrites, durations and the UP → DOWN → UP round trip need `pgpreflight check`.",
                    "",
                ]
            )
        ]
    out = []
    migrations = {m["id"]: m for m in d.get("migrations") or []}
    by_id = {mc["id"]: mc for mc in check.get("migrations") or []}
    for mc in check.get("migrations") or []:
        if mc.get("caused_by"):
            continue  # listed under its root cause
        rt = mc.get("round_trip") or {}
        rows = []
        for s in (mc.get("up") or {}).get("statements") or []:
            locks = [lk for lk in s.get("locks") or [] if not lk.get("new_object")]
            lock_txt = (
                "<br>".join(f"{esc(lk['mode'])} on {code(lk['object'])}" for lk in locks)
                or "no new lock"
            )
            blocks = "<br>".join(esc(view.blocks_phrase(lk)) for lk in locks) or "–"
            rewrite = "**yes**" if s.get("rewrites") else "no"
            err = f"<br>❌ {esc((s.get('error') or {}).get('message'))}" if s.get("error") else ""
            rows.append(
                f"| {s.get('line')} | {code((s.get('sql') or '')[:120], sql=True)}{err} | {lock_txt} | {blocks} | {rewrite} | {view.fmt_ms(s.get('duration_ms'))} |"
            )
        empty = cl.down_state(migrations.get(mc["id"]) or {}) == "empty"
        verdict = {
            "pass": "✅ round trip passed",
            "fail": "❌ round trip failed",
            "no down": "❌ empty DOWN" if empty else "❌ no DOWN section",
        }.get(str(rt.get("verdict")), "⏭️ round trip not run")
        # GitHub does not render Markdown inside <summary>: HTML only there.
        title = f"<code>{esc(mc['id'])}</code>: {esc(mc.get('status'))}, {verdict}"
        head = [f"<details><summary>{title}</summary>", ""]
        if rt.get("verdict") == "no down" and empty:
            head += ["the DOWN section is empty: there is no statement to roll back", ""]
        elif rt.get("reason"):
            head += [esc(rt["reason"]), ""]
        for diff in (rt.get("down_differences") or []) + (rt.get("up_again_differences") or []):
            cosmetic = (
                f" (cosmetic, does not fail: {esc(diff.get('why'))})"
                if diff.get("grade") == "cosmetic"
                else ""
            )
            head.append(
                f"- {esc(diff.get('kind'))} {code(diff.get('name'))}: {esc(diff.get('change'))}"
                f"{cosmetic}"
            )
        if rt.get("down_differences") or rt.get("up_again_differences"):
            head.append("")
        dependants = [by_id[d] for d in mc.get("dependants") or [] if d in by_id]
        if dependants:
            n = len(dependants)
            head.append(
                f"Root cause of {n} later failure{'s' if n != 1 else ''}, not applied because "
                "this one was not:"
            )
            head.extend(f"- {code(d['id'])}: {esc(cl.first_error(d))}" for d in dependants)
            head.append("")
        head += [
            "| Line | Statement | Lock | Blocks | Rewrite | Duration |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        out.append(Block(head, rows, tail=["", "</details>", ""], what="statement"))
    if out:
        out.insert(0, Block(["### Database check", "", f"Mode: {esc(check.get('mode'))}.", ""]))
    return out


def render_dict(d: dict[str, Any], *, link_base: str = "", limit: int = LIMIT) -> str:
    check_link_base(link_base)
    checklist = cl.checklist(d)
    blocks = [
        _header(d, checklist),
        *_checklist_blocks(checklist),
        *_findings_blocks(d, link_base),
        *_explain_blocks(d),
        *_check_blocks(d),
    ]
    footer = "<sub>Generated by pgpreflight; the HTML report has the sources, lock timeline and plan trees.</sub>\n"
    return _fit(blocks, footer, limit)


def _fit(blocks: list[Block], footer: str, limit: int) -> str:
    """Whole blocks while they fit; then as many whole rows of the next table as fit; then a note."""
    out: list[str] = []
    size = len(footer)
    reserve = 400  # room for the truncation note
    for i, block in enumerate(blocks):
        text = block.text()
        if size + len(text) + reserve <= limit:
            out.append(text)
            size += len(text)
            continue
        dropped_rows = 0
        if block.rows:
            n = len(block.rows)
            while n > 0 and size + len(block.text(n)) + reserve > limit:
                n -= 1
            if n > 0:
                out.append(block.text(n))
                size += len(block.text(n))
                dropped_rows = len(block.rows) - n
            else:
                dropped_rows = len(block.rows)
        later_rows = sum(len(b.rows) for b in blocks[i + 1 :] if b.what == "finding")
        skipped = len(blocks) - i - (1 if dropped_rows < len(block.rows) else 0)
        parts = []
        if dropped_rows:
            parts.append(
                f"{dropped_rows} more {block.what}{'s' if dropped_rows != 1 else ''} in this table"
            )
        if later_rows:
            parts.append(
                f"{later_rows} more finding{'s' if later_rows != 1 else ''} in later migrations"
            )
        if skipped:
            parts.append(f"{skipped} more section{'s' if skipped != 1 else ''}")
        out.append(
            f"> ✂️ **Truncated** to stay under GitHub's comment size limit: {', '.join(parts) or 'the rest'} not shown. "
            "The HTML report (`pgpreflight report result.json --html report.html`) has everything.\n\n"
        )
        break
    out.append(footer)
    return "\n".join(s.rstrip("\n") + "\n" for s in out)
