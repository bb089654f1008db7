"""Text output of `pgpreflight check`: per migration, one compact line per statement
(statement -> lock mode and object -> what it blocks -> rewrite -> duration) and the verdicts.

Reads only the result's dict form, so a saved JSON result renders the same way. Every string of
it (migration ids, SQL, server messages naming identifiers) is passed through `printable` first
and the output through `guard_lines` (see linter/printable.py).
"""

from __future__ import annotations

import shutil
from typing import Any

from pgpreflight.linter.check.locks import headline_blocks, strength
from pgpreflight.linter.check.result import NOT_FAILED
from pgpreflight.linter.parsing import without_comments
from pgpreflight.linter.printable import guard_lines, printable_all

_BLOCK_WORDS = {"SELECT": "reads", "INSERT/UPDATE/DELETE": "writes", "DDL": "DDL"}


def _lock_cell(locks: list[dict[str, Any]], agreement: dict[str, Any] | None) -> tuple[str, str]:
    """Strongest lock on a pre-existing relation, its objects, and what it blocks."""
    visible = [lk for lk in locks if lk["locktype"] == "relation" and not lk["new_object"]]
    if not visible:
        if agreement and agreement["verdict"] == "not observed":
            return "not observed (too fast to poll)", "-"
        if agreement and agreement.get("observed_lock") and agreement.get("table"):
            mode = agreement["observed_lock"]
            blocked = ", ".join(_BLOCK_WORDS[k] for k in headline_blocks(mode))
            return f"{mode} {agreement['table']} (held)", blocked or "-"
        return ("new objects only" if locks else "-"), "-"
    top = max(visible, key=lambda lk: strength(lk["mode"]))
    objects: list[str] = []
    for lk in visible:
        if lk["mode"] != top["mode"]:
            continue
        name = (
            lk["table"] if lk["kind"] in ("index", "toast table") and lk["table"] else lk["object"]
        )
        if name not in objects:
            objects.append(name)
    shown = ", ".join(objects[:3]) + (f" +{len(objects) - 3}" if len(objects) > 3 else "")
    blocked = ", ".join(_BLOCK_WORDS[k] for k in headline_blocks(top["mode"]))
    return f"{top['mode']} {shown}", blocked or "-"


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


# (header, the least width it is cut to when the terminal is narrow)
_COLUMNS = (
    ("statement", 20),
    ("lock (strongest, on existing objects)", 16),
    ("blocks while waiting", 10),
    ("rewrite", 7),
)


def _cells(st: dict[str, Any]) -> list[str]:
    """The statement, lock, blocks and rewrite cells of one statement's row."""
    lock, blocked = _lock_cell(st["locks"], st.get("agreement"))
    if blocked != "-":
        timeout = st.get("lock_timeout")
        blocked += " (no lock_timeout)" if timeout in (None, "0") else f" (lock_timeout {timeout})"
    rewrite = ", ".join(r["object"] for r in st["rewrites"] if r["kind"] != "index") or "-"
    status = {"ok": "", "error": "ERROR ", "not run": "not run ", "skipped": "skipped "}[
        st["status"]
    ]
    return [status + st["sql"], lock, blocked, rewrite]


def _duration(st: dict[str, Any]) -> str:
    duration = _ms(st["duration_ms"])
    if st.get("projected_ms") is not None:
        duration += f" (~{_ms(st['projected_ms'])} on target)"
    return duration


def _fit(natural: list[int], budget: int) -> list[int]:
    """Column widths within `budget`: each column's natural width when they fit, else the widest
    columns are cut first, none below its least width."""
    widths = list(natural)
    least = [min(n, floor) for n, (_, floor) in zip(natural, _COLUMNS, strict=True)]
    while sum(widths) > budget:
        widest = max(range(len(widths)), key=lambda i: widths[i] - least[i])
        if widths[widest] <= least[widest]:
            break  # narrower than the least widths: the lines wrap
        widths[widest] -= 1
    return widths


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _notes(st: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    err = st.get("error")
    if err:
        where = f"line {err['line']}" + (f":{err['column']}" if err.get("column") else "")
        lines.append(f"         {where}: {err['sqlstate']} {err['message']}")
        if err.get("detail"):
            lines.append(f"         detail: {err['detail']}")
    agreement = st.get("agreement")
    if agreement:
        if agreement["verdict"] == "contradicted":
            lines.append(f"         contradicts the documented behaviour: {agreement['note']}")
        verdicts = agreement.get("rule_verdicts", {})
        confirmed = [r for r, v in verdicts.items() if v == "confirmed"]
        contradicted = [r for r, v in verdicts.items() if v == "contradicted"]
        if confirmed:
            lines.append(f"         trace confirms static finding(s): {', '.join(confirmed)}")
        if contradicted:
            lines.append(f"         trace CONTRADICTS static finding(s): {', '.join(contradicted)}")
    if st["transaction"].startswith("none"):
        lines.append("         ran outside a transaction; locks observed by polling pg_locks")
    for note in st.get("notes", []):
        lines.append(f"         {note}")
    return lines


def _section(section: dict[str, Any] | None, title: str, width: int) -> list[str]:
    """One table per section, its columns fitted to `width` (the terminal's): the statement
    column gives way first, every cut cell ends in '…' and the header stays over its column."""
    if not section or not section["statements"]:
        return []
    lines = [f"  {title} ({section['transaction_mode']}, {_ms(section['duration_ms'])} ms)"]
    rows = [(_cells(st), _duration(st), st) for st in section["statements"]]
    natural = [
        max(len(header), *(len(cells[i]) for cells, _, _ in rows))
        for i, (header, _) in enumerate(_COLUMNS)
    ]
    longest_ms = max(len("ms"), *(len(ms) for _, ms, _ in rows))
    # indent 2, the line number 5, a gap of 2 before each of the five other columns
    widths = _fit(natural, width - 2 - 5 - 2 * 5 - longest_ms)

    def row(first: str, cells: list[str], last: str) -> str:
        shown = "  ".join(_cut(cell, w).ljust(w) for cell, w in zip(cells, widths, strict=True))
        return f"  {first:>5}  {shown}  {last}".rstrip()

    lines.append(row("line", [header for header, _ in _COLUMNS], "ms"))
    for cells, ms, st in rows:
        lines.append(row(str(st["line"]), cells, ms))
        lines.extend(_notes(st))
    for note in section.get("notes", []):
        lines.append(f"  note: {note}")
    return lines


def _cosmetic_lines(rt: dict[str, Any]) -> list[str]:
    """Differences graded cosmetic (linter.check.cosmetic): shown, not failing."""
    lines = []
    for phase, key in (
        ("after DOWN", "down_differences"),
        ("after UP again", "up_again_differences"),
    ):
        for d in rt.get(key) or []:
            if d.get("grade") == "cosmetic":
                lines.append(f"  cosmetic {phase}: {d['kind']} {d['name']}: {d.get('why')}")
    return lines


def terminal_width() -> int:
    """The terminal's columns; in a pipe or a CI log, $COLUMNS or 120."""
    return shutil.get_terminal_size((120, 24)).columns


def _previews(check: dict[str, Any]) -> dict[str, Any]:
    """`check` with each statement's SQL as its one-line preview, comments left out (before
    `printable_all`, which shows a line break as the two characters `\\n`). Only the path to
    each statement is copied (a whole history's check holds every catalog change)."""
    if "migrations" not in check:
        return check
    migrations = []
    for m in check["migrations"]:
        m = dict(m)
        for key in ("up", "down", "target_up"):
            section = m.get(key)
            if section and "statements" in section:
                m[key] = {
                    **section,
                    "statements": [
                        {**st, "sql": without_comments(st["sql"])} for st in section["statements"]
                    ],
                }
        migrations.append(m)
    return {**check, "migrations": migrations}


def render_check(check: dict[str, Any], width: int | None = None) -> str:
    check = printable_all(_previews(check))
    width = width or terminal_width()
    out: list[str] = []
    server = check.get("server") or {}
    head = f"pgpreflight check: {check['mode']}"
    if server:
        head += f", PostgreSQL {server.get('version')}"
        if server.get("source"):
            head += f" ({server['source']})"
        if server.get("requested"):
            head += f", pg-version {server['requested']} requested"
        if server.get("start_s") is not None:
            head += f", started in {server['start_s']:.2f} s"
    out.append(head)
    target = check.get("target")
    if target:
        out.append(
            f"target: host={target.get('host')} dbname={target.get('dbname')} "
            f"history={target.get('history_table') or 'none found'}"
        )
        if target.get("history_warning"):
            out.append(f"WARNING: {target['history_warning']}")
        if target.get("unchanged") is not None:
            out.append(f"target unchanged after the run: {'yes' if target['unchanged'] else 'NO'}")
            for change in target.get("changes") or []:
                out.append(f"  changed: {change}")
            if target.get("covers"):
                out.append(f"  compared: {'; '.join(target['covers'])}")
        for adv in target.get("sequence_advances", []):
            by = adv.get("migrations")
            out.append(
                f"  sequence {adv['sequence']} advanced {adv['before']} -> {adv['after']} (not "
                "rolled back)" + (f" by {', '.join(by)}" if by else "")
            )
    out.append(
        f"baseline: {len(check['baseline'])} migration(s); pending: {len(check['pending'])}; "
        f"transactions: {check['transaction_mode']}"
        + (f"; setup: {check['setup']}" if check.get("setup") else "")
        + (f"; data: {check['data']}" if check.get("data") else "")
    )
    for note in check.get("notes", []):
        out.append(f"note: {note}")
    by_id = {m["id"]: m for m in check["migrations"]}
    for m in check["migrations"]:
        if m.get("caused_by"):
            continue  # reported once, under its root cause
        out.append("")
        rt = m["round_trip"]
        out.append(f"{m['id']}  {m['status'].upper()}  round trip: {rt['verdict']}")
        out.extend(_section(m["up"], "UP", width))
        out.extend(_section(m.get("down"), "DOWN", width))
        out.extend(_section(m.get("target_up"), "UP on the target, rolled back", width))
        if rt["verdict"] == "fail":
            out.append(f"  round trip FAILED: {rt['reason']}")
        elif rt["verdict"] == "pass":
            out.append("  round trip: DOWN restores the schema, UP again gives the same schema")
        out.extend(_cosmetic_lines(rt))
        for loss in m.get("data_loss", []):
            out.append(
                f"  data loss: DOWN line {loss['line']} destroys {loss['kind']} {loss['object']} "
                f"({loss['rows_lost']} row(s) in the probe)"
            )
        for idx in m.get("invalid_indexes", []):
            out.append(f"  INVALID index {idx['index']} on {idx['table']}: {idx['cleanup']}")
        for adv in m.get("sequence_advances", []):
            out.append(
                f"  sequence {adv['sequence']} advanced {adv['before']} -> {adv['after']} on "
                "the target (not rolled back)"
            )
        for w in m.get("target_writes") or []:
            out.append(
                f"  on the target, rolled back: {w['table']} {w['inserted']} inserted, "
                f"{w['updated']} updated, {w['deleted']} deleted (dead tuples remain)"
            )
        for note in m.get("notes", []):
            out.append(f"  note: {note}")
        out.extend(_dependant_lines(m, by_id))
    if check.get("postconditions"):
        out.append("")
        out.append("after all pending migrations:")
        for pc in check["postconditions"]:
            out.append(f"  {pc['kind']}: {pc['message']} (fix: {pc['hint']})")
    out.append("")
    out.append(f"check: {len(check['migrations'])} migration(s), {_failure_summary(check)}")
    return guard_lines("\n".join(out) + "\n")


def _dependant_lines(m: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[str]:
    """The failures this one caused, one line each: the error that stopped them."""
    dependants = [by_id[d] for d in m.get("dependants") or [] if d in by_id]
    if not dependants:
        return []
    n = len(dependants)
    lines = [
        f"  root cause of {n} later failure{'s' if n != 1 else ''} (not applied because this "
        "one was not):"
    ]
    from pgpreflight.linter.report.checklist import first_error

    lines.extend(f"    {d['id']}  {first_error(d)}" for d in dependants)
    return lines


def _failure_summary(check: dict[str, Any]) -> str:
    """`all passed`, `2 failed: a, b`, or with failures caused by earlier ones, `24 failed, 1
    root cause: a (+23 caused by it)`."""
    failed = [m for m in check["migrations"] if m["status"] not in NOT_FAILED]
    if not failed:
        return "all passed"
    roots = [m for m in failed if not m.get("caused_by")]
    if len(roots) == len(failed):
        return f"{len(failed)} failed: {', '.join(m['id'] for m in failed)}"
    named = [
        m["id"] + (f" (+{len(m['dependants'])} caused by it)" if m.get("dependants") else "")
        for m in roots
    ]
    return (
        f"{len(failed)} failed, {len(roots)} root cause{'s' if len(roots) != 1 else ''}: "
        + ", ".join(named)
    )
