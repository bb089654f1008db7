"""The layers hold (STYLE.md: data flows one way, no module reaches back up the chain): the
check engine (linter/check/) imports nothing of the reports, the import cycles issue 12 named
stay broken, reading a saved result back imports no rule module it does not need, and a cold lint
of plain migrations imports nothing it has no use for.

The import graph is read from the sources with `ast`, imports inside functions included: a lazy
import is still a dependency, only a later one."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from pgpreflight.linter.cli import main
from pgpreflight.linter.report import FORMATS

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"linter": "pgpreflight.linter", "rules": "pgpreflight.rules"}
REPORT = "pgpreflight.linter.report"
CHECK = "pgpreflight.linter.check"


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in PACKAGES.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join([package, *parts])] = path
    return out


MODULES = _modules()


def _imported(name: str, path: Path, lazy: bool, typing: bool = False) -> set[str]:
    """Every dotted name `name`'s module imports (a module, or a name from one): at module level
    only, or (`lazy`) inside functions too; under `if TYPE_CHECKING:` only with `typing`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in _runnable(tree.body, lazy, typing):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def _runnable(body: list[ast.stmt], lazy: bool, typing: bool) -> list[ast.AST]:
    """The statements of `body` and of the blocks in it: function bodies only when `lazy`,
    `if TYPE_CHECKING:` (never run) only with `typing`."""
    out: list[ast.AST] = []
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test) and not typing:
            out += _runnable(node.orelse, lazy, typing)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not lazy:
            continue
        out.append(node)
        for block in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(node, block, None)
            if isinstance(inner, list):
                out += _runnable(inner, lazy, typing)
    return out


def _graph(lazy: bool, parents: bool = True) -> dict[str, set[str]]:
    """Module -> the project's modules it imports; with `parents`, as Python runs them (importing
    a.b.c runs a and a.b first)."""
    graph = {}
    for name, path in MODULES.items():
        edges = set()
        for dotted in _imported(name, path, lazy):
            parts = dotted.split(".")
            edges.update(
                ".".join(parts[:i]) for i in range(2 if parents else len(parts), len(parts) + 1)
            )
        graph[name] = {m for m in edges if m in MODULES and m != name}
    return graph


def _reach(graph: dict[str, set[str]], start: str, through_packages: bool = True) -> set[str]:
    """Every module `start` leads to; not past a package's __init__ unless `through_packages`."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            if through_packages or MODULES[nxt].name != "__init__.py":
                todo.append(nxt)
    return seen


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_graph_is_read() -> None:
    """The graph this file judges is the real one (else every test below passes on nothing)."""
    graph = _graph(lazy=True)
    assert len([m for m in graph if _in(m, CHECK)]) >= 10
    assert "pgpreflight.linter.report.checklist" in graph["pgpreflight.linter.check_cli"]
    assert "pgpreflight.linter.check.runner" in _reach(graph, "pgpreflight.linter.check_cli")
    assert "pgpreflight.linter.migration" in _graph(lazy=False)["pgpreflight.linter.engine"]


def test_the_check_engine_imports_nothing_of_the_reports() -> None:
    """linter/check/ runs migrations and records what happened; rendering it is the command's
    job (linter/check_cli.py), so no module under linter/check/ imports linter/report/, directly
    or through another module, at import time or inside a function."""
    graph = _graph(lazy=True)
    for name, path in MODULES.items():
        if not _in(name, CHECK):
            continue
        direct = sorted(m for m in _imported(name, path, lazy=True, typing=True) if _in(m, REPORT))
        assert not direct, f"{path.relative_to(ROOT)} imports {direct}"
        through = sorted(m for m in _reach(graph, name) if _in(m, REPORT))
        assert not through, f"{name} reaches {through}"


def test_only_the_commands_lead_to_the_reports() -> None:
    """STYLE.md: files -> migrations -> ... -> one result object -> renderers, and no module
    reaches back up that chain. Outside linter/report/, only the command modules lead to a
    reporter at all; the engines (lint, check, EXPLAIN, queries, schema), the rules and the
    result object do not."""
    commands = {
        "pgpreflight.linter.__main__",
        "pgpreflight.linter.cli",
        "pgpreflight.linter.check_cli",
        "pgpreflight.linter.schema.cli",
    }
    graph = _graph(lazy=True)
    leading = {
        m for m in graph if not _in(m, REPORT) and any(_in(r, REPORT) for r in _reach(graph, m))
    }
    assert "pgpreflight.linter.check_cli" in leading
    assert leading <= commands, sorted(leading - commands)


def test_importing_the_check_engine_loads_no_report_module() -> None:
    """The same, as Python sees it: a fresh interpreter that imports every module of the check
    engine has no report module loaded."""
    engine = sorted(m for m in MODULES if _in(m, CHECK))
    code = (
        "import importlib, json, sys\n"
        f"for m in {engine!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    assert "pgpreflight.linter.check.runner" in loaded
    assert [m for m in loaded if _in(m, REPORT)] == []


def test_the_import_cycles_issue_12_named_stay_broken() -> None:
    """The lower module of each pair leads back to the upper one through no import, inside
    functions included (`if TYPE_CHECKING:` never runs): the top-level CLI may import the report
    command's options, not the other way round; plpgsql reads a Migration's statements, the
    Migration does not call plpgsql; the renderer reads the model, the model does not render.
    A package's __init__ re-exports its modules and is not followed: through
    linter/schema/__init__ every schema module reaches every other."""
    graph = _graph(lazy=True, parents=False)
    for upper, lower in (
        ("pgpreflight.linter.cli", "pgpreflight.linter.report.cli"),
        ("pgpreflight.linter.plpgsql", "pgpreflight.linter.migration"),
        ("pgpreflight.linter.schema.render", "pgpreflight.linter.schema.model"),
        # not named in the issue: schema/objects asks schema/names for a NOT NULL constraint's
        # name, and schema/names took DEFAULT_SCHEMA from schema/objects (linter/names' own)
        ("pgpreflight.linter.schema.objects", "pgpreflight.linter.schema.names"),
    ):
        assert upper not in _reach(graph, lower, through_packages=False), f"{lower} -> {upper}"
    # the pairs are real dependencies, one way
    assert "pgpreflight.linter.report.cli" in _reach(graph, "pgpreflight.linter.cli")
    assert "pgpreflight.linter.migration" in graph["pgpreflight.linter.plpgsql"]


def test_import_time_cycles_stay_inside_one_package() -> None:
    """At import time the only cycles are a package's __init__ re-exporting its own modules
    (linter/explain, linter/queries): no module imports one of a layer above it while loading."""
    graph = _graph(lazy=False)
    cycles = [sorted({m} | {n for n in _reach(graph, m) if m in _reach(graph, n)}) for m in graph]
    for cycle in {tuple(c) for c in cycles if len(c) > 1}:
        package = cycle[0]  # sorted: the package, when it is in the cycle, comes first
        assert all(_in(m, package) for m in cycle), cycle


def _one_migration(tmp_path: Path) -> Path:
    """A migrations folder holding one migration with two findings' worth of SQL."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "202401010000__t.sql").write_text(
        "-- UP\nCREATE TABLE t (id int PRIMARY KEY, code text);\nCREATE INDEX t_code ON t (code);\n"
        "-- DOWN\nDROP TABLE t;\n",
        encoding="utf-8",
    )
    return folder


def test_reading_a_saved_result_imports_no_rule(tmp_path: Path) -> None:
    """`pgpreflight report FILE.json` renders from the saved text: every format, the page and
    the comment import no rule module, except SARIF, which documents the rules the result names
    (two here, of the ninety) and imports those only."""
    folder = _one_migration(tmp_path)
    saved = tmp_path / "result.json"
    selected = ["require-concurrent-index", "missing-audit-columns"]
    args = ["lint", str(folder), "--select", ",".join(selected), "--no-cache", "-q"]
    main([*args, "--exit-zero", "--json", str(saved), "--output", str(tmp_path / "out.txt")])
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["enabled_rules"] == sorted(selected) and data["findings"]
    code = (
        "import json, sys\n"
        "from pgpreflight.linter.cli import main\n"
        "loaded = {}\n"
        f"for f in {[*sorted(set(FORMATS) - {'sarif'}), 'sarif']!r}:\n"
        f"    args = ['report', {str(saved)!r}, '--format', f, '-o', {str(tmp_path / 'o')!r}]\n"
        "    if f == 'text':\n"
        f"        args += ['--html', {str(tmp_path / 'r.html')!r}, "
        f"'--markdown', {str(tmp_path / 'r.md')!r}]\n"
        "    assert main(args) == 0, f\n"
        "    loaded[f] = sorted(m for m in sys.modules if m.startswith('pgpreflight.rules.'))\n"
        "print(json.dumps(loaded))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    assert (tmp_path / "r.html").exists() and (tmp_path / "r.md").exists()
    assert sorted(loaded) == sorted(FORMATS)
    named = sorted(f"pgpreflight.rules.{r.replace('-', '_')}" for r in selected)
    for f, modules in loaded.items():  # sarif last: what it imports is not counted for others
        assert modules == (named if f == "sarif" else []), (f, modules)


# What a cold `lint` of plain migrations (no application queries, one process, no cache, text
# output) has no use for; each was once imported on every run.
NOT_ON_THE_LINT_PATH = (
    "hashlib",  # the lint cache's keys (OpenSSL: 2.5 ms and 4 MiB)
    "pickle",  # the results of forked workers
    "json",  # saved results, the cache, PL/pgSQL bodies (pglast gives their tree as JSON)
    "pgpreflight.linter.ruledoc",  # rule documentation: shown by no text finding
    "pgpreflight.linter.queries.predicates",  # application queries, with sqlglot
    "pgpreflight.linter.queries.coverage",
    "sqlglot",
    "jinja2",
    "psycopg",
    "pgpreflight.linter.check",
    "pgpreflight.linter.report.html",
)


def test_a_cold_lint_of_plain_migrations_imports_only_what_it_uses(tmp_path: Path) -> None:
    """A plain `pgpreflight lint --no-cache` pays at every start for each module it imports:
    the modules above stay out of it (they are imported where they are used)."""
    _one_migration(tmp_path)  # the command below lints it
    code = (
        "import sys\n"  # not json: it is one of the modules looked for
        "from pgpreflight.linter.cli import main\n"
        "code = main(['lint', 'migrations', '--no-cache', '-q', '--no-color'])\n"
        "print(repr([code, sorted(sys.modules)]), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    code, loaded = ast.literal_eval(proc.stderr.splitlines()[-1])
    assert code == 1 and "missing-audit-columns" in proc.stdout, proc.stdout + proc.stderr
    assert "pgpreflight.rules.missing_audit_columns" in loaded
    unwanted = [
        m for m in loaded if any(m == n or m.startswith(n + ".") for n in NOT_ON_THE_LINT_PATH)
    ]
    assert unwanted == []
