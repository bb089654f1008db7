"""The guide's pre-deploy checklist (section 9), item by item, and the overall verdict.

Pure functions over the result dict (`RunResult.to_dict()` or a saved result file), so the HTML,
Markdown and any other renderer show the same statuses. Each item gets one of `STATUSES` and the
evidence behind it; an item whose evidence this run did not collect is `not run` or `needs a
person`, never a pass.
"""

from __future__ import annotations

from typing import Any

from pgpreflight.linter.evidence.review import display_name

PASSED, FAILED, WARNING, NOT_RUN, NEEDS_PERSON = (
    "passed",
    "failed",
    "warning",
    "not run",
    "needs a person",
)
STATUSES = (PASSED, FAILED, WARNING, NOT_RUN, NEEDS_PERSON)
# How bad a status is, to combine per-migration lines into one item status.
_RANK = {PASSED: 0, WARNING: 1, NEEDS_PERSON: 2, NOT_RUN: 3, FAILED: 4}
READY, NOT_READY, READY_WITH_WARNINGS = "ready", "not ready", "ready with warnings"
_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
# Static findings that show a DOWN does not give the schema back.
ROLLBACK_RULES = ("missing-down-section", "down-does-not-revert")


def _line(status: str, text: str, migration: str | None = None) -> dict[str, Any]:
    return {"status": status, "text": text, "migration": migration}


def _worst(lines: list[dict[str, Any]], default: str = PASSED) -> str:
    return max((ln["status"] for ln in lines), key=_RANK.__getitem__, default=default)


LABELS = {
    "migrations-apply": "migrations apply",
    "integration-tests": "integration tests",
    "explain": "EXPLAIN of new indexes",
    "review": "review by another developer",
    "rollback": "rollback plan",
}


def _item(
    key: str, title: str, status: str, summary: str, evidence: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": key,
        "label": LABELS[key],
        "title": title,
        "status": status,
        "summary": summary,
        "evidence": evidence,
    }


def pending_migrations(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The migrations this run is about: the check's pending ones, else the reported ones."""
    migrations = result.get("migrations") or []
    check = result.get("check") or {}
    pending = check.get("pending")
    if pending:
        wanted = set(pending)
        return [m for m in migrations if m["id"] in wanted]
    return [m for m in migrations if m.get("reported", True)]


def _checks_by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in (result.get("check") or {}).get("migrations") or []}


def _server_phrase(check: dict[str, Any]) -> str:
    server = check.get("server") or {}
    version = f"PostgreSQL {server['version']}" if server.get("version") else "PostgreSQL"
    mode = check.get("mode") or "scratch"
    if mode == "scratch":
        return (
            f"on a scratch {version} rebuilt from the migration history, not on the target database"
        )
    target = check.get("target") or {}
    where = f"{target.get('host') or 'localhost'}/{target.get('dbname') or ''}"
    return f"on {where} ({mode}, {version})"


def first_error(mc: dict[str, Any]) -> str:
    for section in ("up", "down", "up_again"):
        for st in (mc.get(section) or {}).get("statements") or []:
            err = st.get("error")
            if err:
                code = f" [{err['sqlstate']}]" if err.get("sqlstate") else ""
                return f"line {err.get('line') or st.get('line')}: {err.get('message')}{code}"
    notes = mc.get("notes") or []
    return notes[0] if notes else "failed"


def migrations_apply(result: dict[str, Any]) -> dict[str, Any]:
    title = "Migrations run successfully against the target"
    check = result.get("check")
    pending = pending_migrations(result)
    if not check:
        return _item(
            "migrations-apply",
            title,
            NOT_RUN,
            "not run: this run had no database; `pgpreflight check` applies the migrations on a scratch or target database",
            [],
        )
    by_id = _checks_by_id(result)
    lines = []
    for m in pending:
        mc = by_id.get(m["id"])
        up = (mc or {}).get("up") or {}
        if mc is not None and mc.get("status") == "empty":  # a no-op file applies trivially
            lines.append(_line(PASSED, "empty: nothing to apply", m["id"]))
        elif mc is None or mc.get("status") == "not run" or up.get("status") == "not run":
            lines.append(
                _line(
                    NOT_RUN,
                    "not applied (an earlier migration failed or the check skipped it)",
                    m["id"],
                )
            )
        elif mc.get("caused_by"):
            lines.append(
                _line(
                    FAILED,
                    f"not applied because {mc['caused_by']} was not: {first_error(mc)}",
                    m["id"],
                )
            )
        elif up.get("status") == "error" or mc.get("status") == "failed":
            n = len(mc.get("dependants") or [])
            root = f"; the root cause of {n} later failure{'s' if n != 1 else ''}" if n else ""
            lines.append(_line(FAILED, f"UP failed: {first_error(mc)}{root}", m["id"]))
        else:
            n = len(up.get("statements") or [])
            ms = up.get("duration_ms")
            took = f" in {ms:,.0f} ms" if isinstance(ms, (int, float)) else ""
            lines.append(
                _line(PASSED, f"UP applied: {n} statement{'s' if n != 1 else ''}{took}", m["id"])
            )
    status = _worst(lines, default=NOT_RUN)
    where = _server_phrase(check)
    counts = {s: sum(1 for ln in lines if ln["status"] == s) for s in (PASSED, FAILED, NOT_RUN)}
    if status == PASSED:
        summary = (
            f"the pending migration applied {where}"
            if len(lines) == 1
            else f"all {len(lines)} pending migrations applied {where}"
        )
    elif not lines:
        summary = "no pending migration to apply"
        status = PASSED
    else:
        parts = [f"{counts[s]} {s}" for s in (FAILED, NOT_RUN, PASSED) if counts[s]]
        caused = sum(1 for m in pending if (by_id.get(m["id"]) or {}).get("caused_by"))
        if caused:
            roots = counts[FAILED] - caused
            parts[0] += (
                f" ({roots} root cause{'s' if roots != 1 else ''}, {caused} caused by "
                f"{'it' if roots == 1 else 'them'})"
            )
        summary = f"{', '.join(parts)} {where}"
    target = check.get("target") or {}
    if target.get("history_warning"):
        # every migration looked pending: the results above replay the history over itself
        lines.insert(0, _line(FAILED, f"target history: {target['history_warning']}"))
        status = FAILED
        summary += "; the target's history matches no migration file"
    if target.get("unchanged") is not None:
        lines.append(_target_line(target))
        if not target["unchanged"]:
            status = FAILED
            summary += "; the target database changed during the run"
    return _item("migrations-apply", title, status, summary, lines)


def _target_line(target: dict[str, Any]) -> dict[str, Any]:
    """Whether the target was left as it was, and what that comparison covered."""
    compared = "; ".join(target.get("covers") or [])
    if target["unchanged"]:
        return _line(PASSED, f"target unchanged after the run (compared: {compared})")
    changes = [*target.get("changes", [])] + [
        f"sequence {a['sequence']} {a['before']} -> {a['after']}"
        + (f" by {', '.join(a['migrations'])}" if a.get("migrations") else "")
        for a in target.get("sequence_advances", [])
    ]
    return _line(
        FAILED, f"target CHANGED during the run: {'; '.join(changes)} (compared: {compared})"
    )


def integration_evidence(result: dict[str, Any]) -> dict[str, Any] | None:
    """The run's test evidence: top-level `tests`, or the one the database check recorded after
    running `--test-command` on the migrated scratch database (`check.tests`)."""
    tests = result.get("tests") or (result.get("check") or {}).get("tests")
    return tests if isinstance(tests, dict) else None


def integration_tests(result: dict[str, Any]) -> dict[str, Any]:
    title = "Integration tests pass 100%"
    tests = integration_evidence(result)
    if not tests:
        return _item(
            "integration-tests",
            title,
            NOT_RUN,
            'not run: give --test-results junit.xml or --test-command "..." to record them',
            [],
        )
    if tests.get("source") == "command":
        code = tests.get("exit_code")
        cmd = tests.get("command", "")
        took = (
            f" in {tests['duration_s']:.1f} s"
            if isinstance(tests.get("duration_s"), (int, float))
            else ""
        )
        if code == 0:
            return _item("integration-tests", title, PASSED, f"`{cmd}` exited 0{took}", [])
        why = tests.get("note") or f"exited {code}"
        return _item("integration-tests", title, FAILED, f"`{cmd}` {why}{took}", [])
    lines = []
    for f in tests.get("files") or []:
        bad = f["failures"] + f["errors"]
        status = FAILED if bad else WARNING if f["skipped"] or not f["tests"] else PASSED
        lines.append(
            _line(
                status,
                f"{f['path']}: {f['tests']} tests, {f['failures']} failures, {f['errors']} errors, {f['skipped']} skipped",
            )
        )
        for case in f.get("failed") or []:
            lines.append(
                _line(
                    FAILED,
                    f"{case['kind']}: {case['name']}"
                    + (f": {case['message']}" if case.get("message") else ""),
                )
            )
    total, bad, skipped = (
        tests.get("tests", 0),
        tests.get("failures", 0) + tests.get("errors", 0),
        tests.get("skipped", 0),
    )
    if bad:
        return _item("integration-tests", title, FAILED, f"{bad} of {total} tests failed", lines)
    if not total:
        return _item("integration-tests", title, WARNING, "the JUnit files hold no test", lines)
    if skipped:
        return _item(
            "integration-tests",
            title,
            WARNING,
            f"{total - skipped} of {total} passed, {skipped} skipped: 100% is not proven",
            lines,
        )
    return _item("integration-tests", title, PASSED, f"all {total} tests passed", lines)


def explain_evidence(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-index EXPLAIN evidence of the check, whatever list the check stored it under."""
    explain = (result.get("check") or {}).get("explain")
    if not explain:
        return []
    if isinstance(explain, dict):
        explain = explain.get("indexes") or []
    return [e for e in explain if isinstance(e, dict)]


def explain_data(result: dict[str, Any]) -> str:
    """What the EXPLAIN measurements ran on, in the words every report uses: "real data" only
    when rows came from the user's --data file or a sample of the target, "synthesised rows"
    when pgpreflight generated them, both when both, else "the migrations' own rows"."""
    explain = (result.get("check") or {}).get("explain")
    data = (explain.get("data") or {}) if isinstance(explain, dict) else {}
    real = bool(data.get("source"))
    made = any(
        s.get("status") in ("generated", "synthesized")
        for s in data.get("synthesized") or []
        if isinstance(s, dict)
    )
    if real and made:
        return "real data and synthesised rows"
    if real:
        return "real data"
    if made:
        return "synthesised rows"
    return "the migrations' own rows"


def down_state(migration: dict[str, Any]) -> str:
    """`missing` (no DOWN section), `empty` (a DOWN marker with nothing under it) or `present`."""
    if migration.get("down_statements") is None:
        return "missing"
    down = (migration.get("sections") or {}).get("down")
    if down is not None and not down.get("has_code", True):
        return "empty"
    return "present"


def _index_key(name: Any) -> str:
    text = str(name or "")
    return text.rpartition(".")[2]


# EXPLAIN verdicts (issue 6) mapped to checklist statuses.
_VERDICT_STATUS = {
    "helps": PASSED,
    "used": PASSED,
    "used, no gain": WARNING,
    "used but no gain": WARNING,
    "no gain": WARNING,
    "not used": WARNING,
    "error": FAILED,
    "not run": NOT_RUN,
    "not measured": NOT_RUN,
}


def explain_status(verdict: str | None) -> str:
    return _VERDICT_STATUS.get(str(verdict or "not run").lower(), WARNING)


def new_indexes_explained(result: dict[str, Any]) -> dict[str, Any]:
    title = "New indexes analysed with EXPLAIN ANALYZE"
    if explain_evidence(result):
        title += f" on {explain_data(result)}"
    indexes = [
        (m["id"], ix) for m in pending_migrations(result) for ix in m.get("new_indexes") or []
    ]
    evidence = {_index_key(e.get("index") or e.get("name")): e for e in explain_evidence(result)}
    if not indexes and not evidence:
        return _item(
            "explain", title, PASSED, "no new index in these migrations: nothing to analyse", []
        )
    lines = []
    seen = set()
    for mid, ix in indexes:
        name = ix.get("name") or f"(unnamed index on {ix.get('table')})"
        e = evidence.get(_index_key(ix.get("name")))
        seen.add(_index_key(ix.get("name")))
        if e is None:
            why = (
                "no database check ran"
                if not result.get("check")
                else "no EXPLAIN evidence recorded for it"
            )
            lines.append(_line(NOT_RUN, f"{name} on {ix.get('table')}: not analysed ({why})", mid))
            continue
        lines.append(_line(explain_status(e.get("verdict")), _explain_text(name, e), mid))
    for key, e in evidence.items():
        if key not in seen:
            lines.append(
                _line(explain_status(e.get("verdict")), _explain_text(key, e), e.get("migration"))
            )
    status = _worst(lines)
    n = len(lines)
    counts = {s: sum(1 for ln in lines if ln["status"] == s) for s in _RANK}
    if status == PASSED:
        summary = f"{n} new index{'es' if n != 1 else ''} measured, each used and helping"
    else:
        parts = [
            f"{counts[s]} {label}"
            for s, label in (
                (FAILED, "failed"),
                (NOT_RUN, "not analysed"),
                (WARNING, "not used or no gain"),
                (PASSED, "helping"),
            )
            if counts[s]
        ]
        summary = f"{n} new index{'es' if n != 1 else ''}: {', '.join(parts)}"
    return _item("explain", title, status, summary, lines)


def _fmt_ms(value: float) -> str:
    return f"{value:,.2f} ms" if value >= 0.01 else f"{value:.3f} ms"


def _explain_text(name: str, e: dict[str, Any]) -> str:
    verdict = e.get("verdict") or "not run"
    extra = []
    before, after = e.get("before") or {}, e.get("after") or {}
    # buffers first: they are the same from run to run, the time is not
    if isinstance(before.get("shared_blocks"), (int, float)) and isinstance(
        after.get("shared_blocks"), (int, float)
    ):
        extra.append(f"buffers {before['shared_blocks']:,} → {after['shared_blocks']:,}")
    if isinstance(before.get("execution_ms"), (int, float)) and isinstance(
        after.get("execution_ms"), (int, float)
    ):
        extra.append(
            f"median time {_fmt_ms(before['execution_ms'])} → {_fmt_ms(after['execution_ms'])}"
        )
    if e.get("speedup"):
        extra.append(
            f"×{e['speedup']:.1f}" if isinstance(e["speedup"], (int, float)) else str(e["speedup"])
        )
    if e.get("reason"):
        extra.append(str(e["reason"]))
    return f"{name}: {verdict}" + (f" ({'; '.join(extra)})" if extra else "")


def reviewed(result: dict[str, Any]) -> dict[str, Any]:
    title = "Migrations reviewed by another developer"
    review = result.get("review")
    pending = pending_migrations(result)
    if not review:
        return _item(
            "review",
            title,
            NEEDS_PERSON,
            "needs a person: no review evidence recorded; after the review pass --reviewed-by NAME, or add a Reviewed-by: trailer",
            [],
        )
    per = review.get("migrations") or {}
    lines = []
    for m in pending:
        info = per.get(m["id"]) or {}
        # display_name: a result saved by an older version still holds e-mail addresses
        who = [display_name(r) for r in info.get("reviewers") or []]
        author = display_name(info["author"]) if info.get("author") else None
        by = f"author {author}" if author else "not committed yet"
        if who:
            lines.append(_line(PASSED, f"reviewed by {', '.join(who)} ({by})", m["id"]))
        else:
            lines.append(
                _line(
                    NEEDS_PERSON,
                    f"no Reviewed-by/Approved-by from someone other than the author ({by})",
                    m["id"],
                )
            )
    status = _worst(lines)
    if status == PASSED:
        summary = f"all {len(lines)} migrations carry a review by someone other than their author"
    else:
        missing = sum(1 for ln in lines if ln["status"] != PASSED)
        summary = f"needs a person: {missing} of {len(lines)} migrations have no recorded review by another developer"
    return _item("review", title, status, summary, lines)


def rollback_plan(result: dict[str, Any]) -> dict[str, Any]:
    title = "A rollback plan exists (DOWN section)"
    by_id = _checks_by_id(result)
    findings = result.get("findings") or []
    lines = []
    proven = 0
    for m in pending_migrations(result):
        paths = set(m.get("paths") or [])
        static = [f for f in findings if f["rule"] in ROLLBACK_RULES and f["path"] in paths]
        state = down_state(m)
        rt = ((by_id.get(m["id"]) or {}).get("round_trip")) or {}
        verdict = rt.get("verdict")
        if state == "missing":
            lines.append(_line(FAILED, "no DOWN section: it cannot be rolled back", m["id"]))
        elif state == "empty":
            lines.append(
                _line(FAILED, "empty DOWN: the section has no statement to roll back", m["id"])
            )
        elif verdict == "pass":
            proven += 1
            lines.append(
                _line(
                    PASSED,
                    "DOWN restores the schema and UP applies again (round trip proven on the database)",
                    m["id"],
                )
            )
        elif verdict == "fail":
            diffs = (rt.get("down_differences") or []) + (rt.get("up_again_differences") or [])
            names = ", ".join(f"{d.get('kind')} {d.get('name')}" for d in diffs[:3])
            more = f" and {len(diffs) - 3} more" if len(diffs) > 3 else ""
            lines.append(
                _line(
                    FAILED,
                    f"round trip failed: {rt.get('reason') or names + more or 'schemas differ'}",
                    m["id"],
                )
            )
        elif static:
            lines.append(
                _line(
                    FAILED, f"DOWN does not revert UP (statically: {static[0]['message']})", m["id"]
                )
            )
        elif verdict == "no down":
            lines.append(_line(FAILED, "no DOWN to run", m["id"]))
        else:
            lines.append(
                _line(
                    WARNING,
                    "DOWN present, only statically checked (no round trip on a database)",
                    m["id"],
                )
            )
    status = _worst(lines)
    n = len(lines)
    if not lines:
        summary = "no pending migration"
    elif status == PASSED:
        summary = f"every DOWN proven by an UP → DOWN → UP round trip ({proven} migration{'s' if proven != 1 else ''})"
    else:
        failed = sum(1 for ln in lines if ln["status"] == FAILED)
        static_only = sum(1 for ln in lines if ln["status"] == WARNING)
        parts = []
        if failed:
            parts.append(
                f"{failed} of {n} migration{'s' if n != 1 else ''} cannot be rolled back cleanly"
            )
        if static_only:
            parts.append(f"{static_only} only statically checked")
        if proven:
            parts.append(f"{proven} proven by a round trip")
        summary = "; ".join(parts)
    return _item("rollback", title, status, summary, lines)


def checklist(result: dict[str, Any]) -> dict[str, Any]:
    """The five items and the verdict: `{"verdict", "reason", "items": [...]}`."""
    items = [
        migrations_apply(result),
        integration_tests(result),
        new_indexes_explained(result),
        reviewed(result),
        rollback_plan(result),
    ]
    verdict, reason = _verdict(result, items)
    return {"verdict": verdict, "reason": reason, "items": items}


def _blocking_findings(result: dict[str, Any]) -> int:
    threshold = _SEVERITY_RANK.get(str(result.get("fail_on") or "error"), 2)
    return sum(
        1 for f in result.get("findings") or [] if _SEVERITY_RANK.get(f["severity"], 0) >= threshold
    )


def _names(items: list[dict[str, Any]], status: str) -> list[str]:
    return [i["label"] for i in items if i["status"] == status]


def _verdict(result: dict[str, Any], items: list[dict[str, Any]]) -> tuple[str, str]:
    failed = _names(items, FAILED)
    blocking = _blocking_findings(result)
    open_ = _names(items, NOT_RUN) + _names(items, NEEDS_PERSON)
    warnings = _names(items, WARNING)
    warn_findings = sum(1 for f in result.get("findings") or [] if f["severity"] == "warning")
    if failed or blocking:
        parts = []
        if failed:
            parts.append(
                f"{len(failed)} checklist item{'s' if len(failed) != 1 else ''} failed ({'; '.join(failed)})"
            )
        if blocking:
            level = result.get("fail_on") or "error"
            parts.append(
                f"{blocking} finding{'s' if blocking != 1 else ''} at {level} severity or above"
            )
        return NOT_READY, _sentence(" and ".join(parts))
    if open_:
        return NOT_READY, f"The checklist is incomplete: {'; '.join(open_)} still open."
    if warnings or warn_findings:
        parts = []
        if warnings:
            parts.append(
                f"{len(warnings)} item{'s' if len(warnings) != 1 else ''} with warnings ({'; '.join(warnings)})"
            )
        if warn_findings:
            parts.append(f"{warn_findings} warning finding{'s' if warn_findings != 1 else ''}")
        return READY_WITH_WARNINGS, "Every item passed or warned, with " + " and ".join(parts) + "."
    return READY, "Every checklist item passed and no finding reaches the failure threshold."


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."
