"""One result object per run: what every reporter reads and what `--json` saves.

Renderers read only this, so a saved result renders again without a database:
`RunResult.to_dict()` writes everything a report shows (findings, the migrations with their
source text and section lines, the rules' rationale, run metadata, review and test evidence, the
database check), and `RunResult.from_dict()` reads it back. The JSON shape is versioned
(`RESULT_VERSION`) and documented in linter/report/result-schema.json.
"""

from __future__ import annotations

import copy
import types
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pgpreflight.linter import __version__
from pgpreflight.linter.config import Config
from pgpreflight.linter.errors import InputError
from pgpreflight.linter.findings import SEVERITIES, Finding, at_least
from pgpreflight.linter.migration import Migration, Section, SourceFile
from pgpreflight.linter.registry import Rule
from pgpreflight.linter.secrets import Secrets

# Version 1 is what `lint --format json` has always printed; later keys (meta, review, tests,
# sources, per-migration sections and new indexes) were added without breaking a reader, so the
# number changes only when a key is renamed or removed. Every key after "findings" is optional
# when reading.
RESULT_VERSION = 1
READABLE_VERSIONS = (1,)


@dataclass
class RunResult:
    findings: list[Finding]
    migrations: list[Migration]
    rules: list[Rule]
    config: Config
    sources: dict[str, SourceFile] = field(default_factory=dict)
    # Filled by `pgpreflight check`: execution facts, round trips, EXPLAIN evidence.
    check: dict[str, Any] | None = None
    # Run metadata (project, git, target as host/dbname, time, tool version): linter.evidence.meta.
    meta: dict[str, Any] | None = None
    # Authors and Reviewed-by/Approved-by trailers per migration: linter.evidence.review.
    review: dict[str, Any] | None = None
    # Integration test evidence (JUnit files or a test command): linter.evidence.tests.
    tests: dict[str, Any] | None = None
    # The dict this result was read from (`from_dict`), so that saving it again loses nothing
    # that only the original run could compute (statement counts, new indexes).
    saved: dict[str, Any] | None = None
    # What gives the schema model after the last migration's UP, from lint's one replay
    # (replayed to the end when first asked): `check` judges indexes on it rather than
    # replaying the history again. None for a result read back.
    final: Callable[[], Any] | None = None
    # The run's secrets (linter/secrets.py), given by `redact`; `to_dict` scrubs with them too.
    # Without them, credential-shaped text (URIs, `password=`) is still redacted.
    secrets: Secrets = field(default_factory=Secrets)

    def redact(self, secrets: Secrets, *, patterns_done: bool = False) -> None:
        """Scrub `secrets` (by value and by pattern) out of everything a renderer reads: the
        CLI calls this once, when the result is complete and before any output is written, so
        text, JSON, HTML, Markdown, SARIF, JUnit and GitHub output all show the same safe data.
        `patterns_done`: the result was read back from data already scrubbed by pattern (the
        lint cache stores `to_dict()`), so only secret values remain to be looked for."""
        self.secrets = secrets
        if patterns_done and not secrets.values:
            return
        self.findings = [
            _without_secret_fix(
                secrets, secrets.redact_object(f, "message", "path", "hint", "migration")
            )
            for f in self.findings
        ]
        self.sources = {
            secrets.redact(key): secrets.redact_object(s, "display", "text")
            for key, s in self.sources.items()
        }
        self.check = secrets.redact_all(self.check)
        self.meta = secrets.redact_all(self.meta)
        self.review = secrets.redact_all(self.review)
        self.tests = secrets.redact_all(self.tests)
        self.saved = secrets.redact_all(self.saved)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            out[f.severity] += 1
        return out

    def failed(self, threshold: str) -> bool:
        return any(at_least(f.severity, threshold) for f in self.findings)

    def reported_migrations(self) -> list[Migration]:
        return [m for m in self.migrations if m.reported]

    def to_dict(self) -> dict[str, Any]:
        scrub = self.secrets.redact_all
        if self.saved is not None:
            out = copy.deepcopy(self.saved)
            out["version"] = RESULT_VERSION
            out["findings"] = [f.to_dict() for f in self.findings]
            out["summary"] = self.counts()
            for key in ("check", "meta", "review", "tests"):
                out[key] = getattr(self, key)
            return scrub(out)  # type: ignore[no-any-return]
        rules_by_id = {r.id: r for r in self.rules}
        used = sorted({f.rule for f in self.findings})
        shown = {s.display for m in self.reported_migrations() for s in m.sources}
        shown |= {f.path for f in self.findings if f.path in self.sources}
        # Free text from servers and test commands may quote a connection string or a secret:
        # scrub it here too, the one door every saved result and report goes through.
        return scrub(  # type: ignore[no-any-return]
            {
                "version": RESULT_VERSION,
                "tool": {"name": "pgpreflight", "version": __version__},
                "pg_version": str(self.config.pg_version),
                "fail_on": self.config.fail_on,
                "meta": self.meta,
                "findings": [f.to_dict() for f in self.findings],
                "summary": self.counts(),
                "migrations": [_migration_dict(m) for m in self.migrations],
                "rules": [_rule_dict(rules_by_id[r]) for r in used if r in rules_by_id],
                "enabled_rules": sorted(rules_by_id),
                "sources": [
                    {"path": s.display, "text": s.text}
                    for d, s in sorted(self.sources.items())
                    if d in shown
                ],
                "review": self.review,
                "tests": self.tests,
                "check": self.check,
            }
        )

    @classmethod
    def from_dict(cls, data: Any, origin: str = "result", *, owned: bool = False) -> RunResult:
        """Read a saved result back; a file that is not one gives an `InputError` naming it.
        `owned`: the caller hands `data` over (freshly parsed JSON), so it is kept, not copied."""
        if not isinstance(data, dict) or "findings" not in data or "version" not in data:
            raise InputError(
                f"{origin}: not a pgpreflight result (no 'version' and 'findings' keys)"
            )
        if data["version"] not in READABLE_VERSIONS:
            raise InputError(
                f"{origin}: result format version {data['version']!r} is not one this pgpreflight "
                f"({__version__}) reads ({', '.join(map(str, READABLE_VERSIONS))})"
            )
        try:
            findings = [Finding.from_dict(f) for f in data["findings"]]
            sources = {
                s["path"]: SourceFile(Path(s["path"]), s["path"], s["text"])
                for s in data.get("sources") or []
            }
            migrations = [_migration_from(m, sources) for m in data.get("migrations") or []]
            rules = [_rule_from(r) for r in data.get("rules") or []]
            rules += _enabled_rules(data.get("enabled_rules") or [], {r.id for r in rules})
        except (TypeError, KeyError, AttributeError) as err:
            raise InputError(f"{origin}: malformed result: {type(err).__name__}: {err}") from err
        config = Config(
            values={
                "pg-version": data.get("pg_version") or 15,
                "fail-on": data.get("fail_on") or "error",
            }
        )
        return cls(
            findings=findings,
            migrations=migrations,
            rules=rules,
            config=config,
            sources=sources,
            check=data.get("check"),
            meta=data.get("meta"),
            review=data.get("review"),
            tests=data.get("tests"),
            saved=data if owned else copy.deepcopy(data),
        )


def _section_dict(section: Section | None) -> dict[str, Any] | None:
    if section is None:
        return None
    lines = section.source.lines
    marker = lines.position(section.marker_offset)[0] if section.marker_offset is not None else None
    end = max(section.start, section.end - 1) if section.end > section.start else section.start
    return {
        "path": section.source.display,
        "start_line": lines.position(section.start)[0],
        "end_line": lines.position(end)[0],
        "marker_line": marker,
        "has_code": section.has_code,
    }


def _new_indexes(m: Migration) -> list[dict[str, Any]]:
    """Indexes the UP creates: the ones the checklist wants EXPLAIN evidence for."""
    from pglast import ast
    from pgpreflight.linter.names import relation_name

    out = []
    for stmt, node in m.up.of(ast.IndexStmt):
        out.append(
            {
                "name": node.idxname,
                "table": relation_name(node.relation),
                "line": stmt.line,
                "method": node.accessMethod or "btree",
                "concurrently": bool(node.concurrent),
                "unique": bool(node.unique),
            }
        )
    return out


def _migration_dict(m: Migration) -> dict[str, Any]:
    identity = {
        "id": m.id,
        "version": m.version,
        "name": m.name,
        "convention": m.convention,
        "paths": [s.display for s in m.sources],
        "in_transaction": m.in_transaction,
    }
    if not m.reported:
        # History read only for the model: no report shows its statements, and a one-file run
        # that resumed from a cached replay never parsed them (linter/replay.py).
        return {**identity, "reported": False, **({"repeatable": True} if m.repeatable else {})}
    return {
        **identity,
        "up_statements": len(m.up.statements),
        "down_statements": None if m.down is None else len(m.down.statements),
        "reported": m.reported,
        "sections": {"up": _section_dict(m.up), "down": _section_dict(m.down)},
        "new_indexes": _new_indexes(m),
        # only for Flyway's R__ scripts, so that other results keep their shape
        **({"repeatable": True} if m.repeatable else {}),
    }


def _rule_dict(rule: Rule) -> dict[str, Any]:
    out = rule.to_dict()
    out.setdefault("why", rule.doc.why)
    return out


def _migration_from(d: dict[str, Any], sources: dict[str, SourceFile]) -> Migration:
    """A Migration without parsed statements: enough for every renderer, which reads the dict."""
    files = [sources.get(p) or SourceFile(Path(p), p, "") for p in d.get("paths") or []]
    if not files:
        files = [SourceFile(Path(d["id"]), d["id"], "")]
    sections = d.get("sections") or {}

    def section(kind: str) -> Section | None:
        info = sections.get(kind)
        if info is None:
            return (
                None
                if kind == "down" and d.get("down_statements") is None
                else Section(kind, files[0], 0, 0)
            )
        src = sources.get(info["path"]) or files[0]
        read = Section(kind, src, 0, len(src.text))
        read.fill([], [], bool(info.get("has_code")))
        return read

    up = section("up")
    assert up is not None
    return Migration(
        version=d["version"],
        name=d.get("name") or "",
        convention=d.get("convention") or "",
        sources=files,
        up=up,
        down=section("down"),
        in_transaction=bool(d.get("in_transaction", True)),
        reported=bool(d.get("reported", True)),
        repeatable=bool(d.get("repeatable", False)),
    )


def _enabled_rules(ids: list[str], have: set[str]) -> list[Rule]:
    """Rules that ran without a finding: a saved result records them by id only (SARIF lists
    them, and reads their documentation from the registry itself). Reading a result back (a
    cache hit, `pgpreflight report`) imports no rule module."""
    return [_rule_from({"id": i}) for i in ids if i not in have]


def _rule_from(d: dict[str, Any]) -> Rule:
    """A rule rebuilt from the text the result saved: what every renderer shows of it."""
    from pgpreflight.linter.ruledoc import RuleDoc

    doc = RuleDoc(d.get("summary", ""), {"Why is this bad?": d.get("why", "")})
    return Rule(
        id=d["id"],
        severity=d.get("severity", "warning"),
        module=types.ModuleType(f"saved.{d['id']}"),
        saved_doc=doc,
        options=dict(d.get("options") or {}),
        opt_in=bool(d.get("opt_in")),
        equivalents={
            k: tuple(v.split() if isinstance(v, str) else v)  # saved by an older pgpreflight
            for k, v in (d.get("equivalents") or {}).items()
        },
        presets=tuple(d.get("presets") or ("guide",)),
    )


def _without_secret_fix(secrets: Secrets, finding: Finding) -> Finding:
    """A fix whose text holds a secret is dropped, not redacted: a redacted replacement would be
    a wrong edit, and the offsets of a redacted source no longer match the file."""
    fix = finding.fix
    if fix is None:
        return finding
    texts = [fix.description] + [t for e in fix.edits for t in (e.path, e.replacement)]
    if all(secrets.redact(t) == t for t in texts):
        return finding
    return replace(finding, fix=None)
