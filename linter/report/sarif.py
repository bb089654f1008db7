"""SARIF 2.1.0, for GitHub code scanning and other static-analysis dashboards."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import PurePath
from typing import Any

from pgpreflight.linter import __version__
from pgpreflight.linter.report import RenderOptions
from pgpreflight.linter.result import RunResult

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"


def _rule(rule: Any) -> dict[str, Any]:
    doc = rule.doc
    full = doc.why or doc.summary
    help_md = f"{doc.summary}\n\n{doc.why}".strip()
    return {
        "id": rule.id,
        "name": "".join(p.capitalize() for p in rule.id.split("-")),
        "shortDescription": {"text": doc.summary},
        "fullDescription": {"text": full},
        "help": {"text": help_md, "markdown": help_md},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"equivalents": rule.equivalents, "tags": ["postgresql", "migrations"]},
    }


def _fingerprint(finding: Any, seen: Counter[str]) -> str:
    """Tells one finding from every other, and stays the same when lines move above it.

    Code scanning keys alerts on it: the statement's fingerprint alone made two findings on one
    statement (two nullable columns of one CREATE TABLE) one alert. It hashes the rule, the file,
    the statement (its whitespace- and comment-blind fingerprint, else the line) and the message,
    which names the column or object; a repeat of all four counts up, as GitHub's own
    `primaryLocationLineHash` does (`hash:2`).
    """
    where = finding.fingerprint or f"line:{finding.line}:{finding.column}"
    key = "\0".join((finding.rule, PurePath(finding.path).as_posix(), where, finding.message))
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    seen[digest] += 1
    return f"{digest}:{seen[digest]}"


def _fix(fix: Any) -> dict[str, Any]:
    """SARIF's `fix`: one artifactChange per file, its edits as replacements (a new file is an
    insertion at 1:1 of an empty one). Unsafe fixes say so in their description, as SARIF has
    no notion of it."""
    changes: dict[str, list[dict[str, Any]]] = {}
    for e in fix.edits:
        changes.setdefault(e.path, []).append(
            {
                "deletedRegion": {
                    "startLine": e.start_line,
                    "startColumn": e.start_column,
                    "endLine": e.end_line,
                    "endColumn": e.end_column,
                },
                "insertedContent": {"text": e.replacement},
            }
        )
    unsafe = " (unsafe: changes behaviour; pgpreflight lint --fix --unsafe-fixes)"
    return {
        "description": {
            "text": fix.description + (unsafe if fix.applicability == "unsafe" else "")
        },
        "artifactChanges": [
            {
                "artifactLocation": {"uri": PurePath(path).as_posix(), "uriBaseId": "%SRCROOT%"},
                "replacements": replacements,
            }
            for path, replacements in changes.items()
        ],
    }


def render(result: RunResult, options: RenderOptions) -> str:
    used = sorted({f.rule for f in result.findings} | {r.id for r in result.rules})
    from pgpreflight.linter.registry import load_rule, rule_ids

    # the documentation of the rules this result names, not of all ninety: a saved result read
    # back (`pgpreflight report`) imports no other rule module
    known = rule_ids()
    rules = [load_rule(r) for r in used if r in known]
    index = {r.id: i for i, r in enumerate(rules)}
    results = []
    seen: Counter[str] = Counter()
    for f in result.findings:
        entry: dict[str, Any] = {
            "ruleId": f.rule,
            "level": _LEVEL[f.severity],
            "message": {"text": f.message + (f" ({f.hint})" if f.hint else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": PurePath(f.path).as_posix(),
                            "uriBaseId": "%SRCROOT%",
                        },
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": max(f.end_column, 1),
                        },
                    }
                }
            ],
        }
        if f.rule in index:
            entry["ruleIndex"] = index[f.rule]
        if f.fix is not None:
            entry["fixes"] = [_fix(f.fix)]
        entry["partialFingerprints"] = {"pgpreflight/v2": _fingerprint(f, seen)}
        results.append(entry)
    doc = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pgpreflight",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/pgpreflight/",
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
