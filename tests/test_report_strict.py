"""The HTML page renders under `jinja2.StrictUndefined` for every kind of result the suite makes
(lint only, an empty project, a scratch check, root causes, EXPLAIN evidence in both shapes,
target mode, a saved result read back, one that leaves out every key at its default): the view
model carries every field the templates read (linter/report/model.py), and a template that reads
a name the view model lacks fails instead of printing nothing."""

from __future__ import annotations

import ast
import dataclasses
import itertools
import json
import typing
from pathlib import Path
from typing import Any

import jinja2
import psycopg
import pytest
from markupsafe import escape
from pgpreflight.linter.check.result import CheckResult, ServerInfo
from pgpreflight.linter.check.runner import CheckOptions, check_on_server
from pgpreflight.linter.cli import main
from pgpreflight.linter.evidence.meta import RunMeta
from pgpreflight.linter.pgserver import ScratchServer
from pgpreflight.linter.report import html
from pgpreflight.linter.result import RunResult

from tests.report_support import (
    BASE,
    CHANGE,
    MISSING_SCHEMA,
    ROOT,
    checked_from_start,
    checked_result,
    lint_folder,
    write,
)

_runs = itertools.count(1)


def _saved(result: RunResult) -> dict[str, Any]:
    """The result as `--json` saves it and `pgpreflight report` reads it back."""
    data: dict[str, Any] = json.loads(json.dumps(result.to_dict()))
    return RunResult.from_dict(data, owned=True).to_dict()


def _page(data: dict[str, Any]) -> str:
    page = html.render_dict(data)
    assert page.rstrip().endswith("</html>")
    return page


def _strip_defaults(cls: type, value: Any) -> Any:
    """`value` as an older pgpreflight might have saved it: every field of `cls` (at every depth
    its type hints name a dataclass) that holds its default left out."""
    if not isinstance(value, dict):
        return value
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        if f.name not in value:
            continue
        v = _strip_hinted(hints[f.name], value[f.name])
        if f.default is not dataclasses.MISSING and v == f.default:
            continue
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
            if dataclasses.is_dataclass(default):
                default = _strip_defaults(type(default), dataclasses.asdict(default))
            if v == default:
                continue
        out[f.name] = v
    out.update(
        {k: v for k, v in value.items() if k not in {f.name for f in dataclasses.fields(cls)}}
    )
    return out


def _strip_hinted(hint: Any, value: Any) -> Any:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _strip_defaults(hint, value)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    origin = typing.get_origin(hint)
    if origin is list and isinstance(value, list):
        return [_strip_hinted(args[0], v) for v in value]
    if origin is dict and isinstance(value, dict):
        return {k: _strip_hinted(args[1], v) for k, v in value.items()}
    if len(args) == 1 and origin is not list and origin is not dict:
        return _strip_hinted(args[0], value)
    return value


def _older(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    if out.get("check"):
        out["check"] = _strip_defaults(CheckResult, out["check"])
        assert len(json.dumps(out["check"])) < len(json.dumps(data["check"])), "nothing left out"
    if out.get("meta"):
        out["meta"] = _strip_defaults(RunMeta, out["meta"])
    return out


SCHEMA = json.loads((ROOT / "linter" / "report" / "result-schema.json").read_text("utf-8"))


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    while "$ref" in schema:
        schema = SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return [b for s in schema[key] for b in _branches(s)]
    return [schema]


def _optional_left_out(value: Any, schema: dict[str, Any], depth: int) -> Any:
    """`value` with every key linter/report/result-schema.json does not require left out, from
    `depth` levels down (0: the whole result; above it every key stays, so that the parts
    below are there to be stripped)."""
    if isinstance(value, list):
        items = [b["items"] for b in _branches(schema) if "items" in b] or [{}]
        return [_optional_left_out(v, items[0], depth - 1) for v in value]
    if not isinstance(value, dict):
        return value
    shapes = [b for b in _branches(schema) if "properties" in b or "required" in b]
    if not shapes:  # a free-form object (options, a catalog row): nothing is optional in it
        return value
    shape = next((b for b in shapes if all(k in value for k in b.get("required", []))), shapes[0])
    keep = (
        value if depth > 0 else {k: v for k, v in value.items() if k in shape.get("required", [])}
    )
    props = shape.get("properties", {})
    return {k: _optional_left_out(v, props.get(k, {}), depth - 1) for k, v in keep.items()}


def _renders_with_optional_keys_left_out(data: dict[str, Any]) -> None:
    """The page renders whatever optional part a saved result lacks, at every depth."""
    sizes = []
    for depth in range(8):
        stripped = _optional_left_out(data, SCHEMA, depth)
        sizes.append(len(json.dumps(stripped)))
        _page(stripped)
    assert sizes[0] < sizes[3] < len(json.dumps(data)), sizes  # something was left out


# --- the environment -------------------------------------------------------------------------


def test_the_page_environment_is_strict() -> None:
    env = html.environment()
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError, match="command"):
        env.from_string("{{ meta.command }}").render(meta={})
    with pytest.raises(jinja2.UndefinedError, match="command"):
        env.from_string("{% if meta.command %}x{% endif %}").render(meta={})
    with pytest.raises(jinja2.UndefinedError, match="command"):
        env.from_string("{{ meta.command or 'lint' }}").render(meta={})
    # an identity test is no way round it either
    with pytest.raises(jinja2.UndefinedError, match="command"):
        env.from_string("{% if meta.command is not none %}x{% endif %}").render(meta={})
    assert env.from_string("{{ meta.command is defined }}").render(meta={}) == "False"


def test_the_report_template_fails_loudly_on_a_field_the_view_lacks(tmp_path: Path) -> None:
    folder = write(tmp_path / "migrations", {"202401010000__criar_oficinas.sql": BASE})
    page = html.build_view(_saved(lint_folder(folder)))
    assert html.render_view(page)  # complete: renders
    page["meta"] = {}  # what the page read before the view model: a dict of what was saved
    with pytest.raises(jinja2.UndefinedError, match="command"):
        html.render_view(page)


def test_every_jinja2_environment_in_the_project_is_strict() -> None:
    """Whatever else renders a template one day starts strict too."""
    made = []
    for path in sorted([*(ROOT / "linter").rglob("*.py"), *(ROOT / "rules").rglob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # `jinja2.Environment(...)`, or a name imported from jinja2 (`from jinja2 import ...`)
        imported = {
            a.asname or a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "jinja2"
            for a in n.names
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and ast.unparse(func.value).startswith("jinja2"):
                name = func.attr
            elif isinstance(func, ast.Name) and func.id in imported:
                name = func.id
            else:
                continue
            if name not in ("Environment", "Template", "SandboxedEnvironment"):
                continue
            undefined = {k.arg: ast.unparse(k.value) for k in node.keywords}.get("undefined")
            made.append((path.relative_to(ROOT).as_posix(), node.lineno, undefined))
    assert made, "no jinja2 environment found: the test looks in the wrong place"
    assert all(u == "jinja2.StrictUndefined" for _, _, u in made), made


def test_filled_reads_a_dict_through_the_dataclass_that_wrote_it() -> None:
    from pgpreflight.linter.check.result import MigrationCheck
    from pgpreflight.linter.report.model import filled

    saved = {
        "id": "m1",
        "status": "failed",
        "up": {"kind": "up", "statements": [{"sql": "SELECT 1", "error": {"message": "x"}}]},
        "notes": None,  # a list in the dataclass: null is not one of its values
        "caused_by": None,  # str | None: null is
        "later": 1,  # a key from a newer pgpreflight
    }
    m = filled(MigrationCheck, saved)
    assert m["notes"] == [] and m["caused_by"] is None and m["dependants"] == []
    assert m["round_trip"]["verdict"] == "not run" and m["round_trip"]["down_differences"] == []
    assert m["down"] is None and m["later"] == 1
    assert m["version"] is None  # required, missing: None, not a made-up value
    statement = m["up"]["statements"][0]
    assert statement["locks"] == [] and statement["agreement"] is None
    assert statement["error"] == {
        "message": "x",
        "sqlstate": None,
        "line": None,
        "column": None,
        "detail": None,
        "hint": None,
    }
    assert saved["notes"] is None and "dependants" not in saved  # the input is left as it was


# --- every kind of result ----------------------------------------------------------------------


def test_lint_only_and_its_saved_result(tmp_path: Path) -> None:
    """Through the command line, as a user runs it: the page `lint --report` writes and the one
    `pgpreflight report` renders from the saved result are the same page."""
    folder = write(
        tmp_path / "migrations",
        {"202401010000__criar_oficinas.sql": BASE, "202401020000__buscar_oficinas.sql": CHANGE},
    )
    first, saved, again = tmp_path / "lint.html", tmp_path / "r.json", tmp_path / "again.html"
    args = ["lint", str(folder), "-q", "--exit-zero", "--report", str(first), "--json", str(saved)]
    assert main([*args, "--output", str(tmp_path / "out.txt")]) == 0
    assert main(["report", str(saved), "--html", str(again), "-o", str(tmp_path / "o")]) == 0
    page = first.read_text(encoding="utf-8")
    assert page == again.read_text(encoding="utf-8")
    _renders_with_optional_keys_left_out(json.loads(saved.read_text(encoding="utf-8")))
    assert "static lint only" in page and ">lint · 2 migrations<" in page
    # the result in memory, without run metadata: the header says what it does not know
    bare = _page(_saved(lint_folder(folder)))
    assert "not a git checkout" in bare and "not recorded" in bare


def test_an_empty_project(tmp_path: Path) -> None:
    (tmp_path / "migrations").mkdir()
    page = _page(_saved(lint_folder(tmp_path / "migrations")))
    assert "No migration to show." in page


def test_the_oldest_shape_of_a_saved_result() -> None:
    """Version 1 as `lint --format json` first printed it: findings and nothing else, read
    back as `pgpreflight report` reads it, and handed to the page as it is."""
    oldest = {"version": 1, "findings": []}
    page = _page(RunResult.from_dict(oldest).to_dict())
    assert "No migration to show." in page and "static lint only" in page
    assert _page(oldest) == page


def test_a_scratch_check_with_explain_evidence_as_a_list(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    data = _saved(checked_result(pg_server, tmp_path))
    page = _page(data)
    assert "round trip: failed" in page and "idx_oficinas_nome" in page
    assert _page(_older(data)) == page
    _renders_with_optional_keys_left_out(data)


def test_root_causes(pg_server: ScratchServer, tmp_path: Path) -> None:
    result = checked_from_start(pg_server, write(tmp_path / "migrations", MISSING_SCHEMA))
    data = _saved(result)
    page = _page(data)
    assert "not applied: caused by 202401010000__users" in page
    assert "Root cause of 1 later failure" in page
    assert _page(_older(data)) == page
    _renders_with_optional_keys_left_out(data)


def test_explain_evidence_in_the_checks_own_shape(pg_server: ScratchServer, tmp_path: Path) -> None:
    """A real EXPLAIN step: synthesised rows, runs, the index's queries and both plans."""
    from pgpreflight.linter.explain.runner import ExplainOptions, run_explain, schema_after

    folder = write(
        tmp_path / "migrations",
        {
            "202401010000__t.sql": "-- UP\nCREATE TABLE t (id int PRIMARY KEY, code text);\n"
            "-- DOWN\nDROP TABLE t;\n",
            "202401020000__code.sql": "-- UP\nCREATE INDEX t_code ON t (code);\n"
            "-- DOWN\nDROP INDEX t_code;\n",
        },
    )
    result = lint_folder(folder)
    history = result.migrations

    def explain(factory: Any, pending: Any, _result: CheckResult) -> dict[str, Any]:
        options = ExplainOptions(runs=1, synthesize_rows=200)
        return run_explain(
            factory,
            pending,
            schema_after(history),
            result.config,
            history=history,
            options=options,
        ).to_dict()

    opts = CheckOptions(db_prefix=f"st{next(_runs)}", explain=explain)
    check = CheckResult(mode="scratch", server=ServerInfo("scratch", "x", pg_server.major_version))
    check_on_server(pg_server, history, 1, opts, check)
    assert check.explain is not None and check.explain["indexes"], check.explain
    result.check = check.to_dict()
    data = _saved(result)
    page = _page(data)
    assert "1 runs each, median kept" in page and 'id="ix-t_code"' in page
    assert "Rows synthesised" in page
    assert _page(_older(data)) == page
    _renders_with_optional_keys_left_out(data)


def test_target_mode(pg_server: ScratchServer, pg_db: str, tmp_path: Path) -> None:
    from pgpreflight.linter.check.target import TargetOptions, run_target

    with psycopg.connect(pg_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO items (name) SELECT 'item ' || g FROM generate_series(1, 50) g")
        conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY)")
        conn.execute("INSERT INTO schema_migrations VALUES ('202401010000')")
    folder = write(
        tmp_path / "migrations",
        {
            "202401010000__items.sql": "-- UP\nCREATE TABLE items (id serial PRIMARY KEY, "
            "name text NOT NULL);\n-- DOWN\nDROP TABLE items;\n",
            "202401020000__name.sql": "-- UP\nCREATE INDEX CONCURRENTLY items_name ON items "
            "(name);\n-- DOWN\nDROP INDEX CONCURRENTLY items_name;\n",
        },
    )
    result = lint_folder(folder)
    check = run_target(
        result.migrations,
        CheckOptions(db_prefix=f"st{next(_runs)}"),
        TargetOptions(dsn=pg_db, sample_rows=100),
        server=pg_server,
    )
    assert check.mode == "target (read-only)" and check.pending == ["202401020000__name"]
    result.check = check.to_dict()
    data = _saved(result)
    page = _page(data)
    assert "<dd>target (read-only)</dd>" in page and "202401020000__name" in page
    assert _page(_older(data)) == page
    _renders_with_optional_keys_left_out(data)


def test_an_index_with_no_measurement_shows_no_figures(tmp_path: Path) -> None:
    """EXPLAIN evidence that names an index the step could not measure (no plans, no query):
    the card says so and shows no buffers or time it does not have."""
    folder = write(
        tmp_path / "migrations",
        {"202401010000__criar_oficinas.sql": BASE, "202401020000__buscar_oficinas.sql": CHANGE},
    )
    result = lint_folder(folder)
    result.check = {
        "mode": "scratch",
        "server": None,
        "explain": [{"index": "idx_oficinas_nome", "verdict": "not run", "reason": "no data"}],
    }
    page = _page(_saved(result))
    card = page[page.index('id="ix-idx_oficinas_nome"') :]
    card = card[: card.index("</div>\n</div>")]
    assert "no data" in card and "No query exercised this index." in card
    assert "buffers" not in card and "median time" not in card


def test_what_the_result_schema_leaves_optional_may_be_missing(tmp_path: Path) -> None:
    """A rule saved without its rationale, findings without hint, migration, section or fix
    (linter/report/result-schema.json requires none of them): the page shows the finding and
    says nothing it does not have."""
    folder = write(tmp_path / "migrations", {"202401020000__buscar_oficinas.sql": CHANGE})
    data = _saved(lint_folder(folder))
    assert data["findings"] and data["rules"]
    full = _page(data)
    assert "Why this matters" in full and "<b>Fix:</b>" in full
    for r in data["rules"]:
        del r["why"]
    for f in data["findings"]:
        for key in ("hint", "migration", "section", "fix", "fingerprint"):
            f.pop(key, None)
    page = _page(data)
    assert all(str(escape(f["message"])) in page for f in data["findings"])
    assert "Why this matters" not in page and "<b>Fix:</b>" not in page
