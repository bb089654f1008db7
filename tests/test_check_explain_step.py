"""The EXPLAIN step inside `pgpreflight check`: it runs beside the traces, on its own clone (or after
them on its own server when the pending migrations change cluster-wide objects), and an index it
cannot drop for the *before* side is skipped with a note instead of losing all the evidence."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from pgpreflight.linter.check.result import CheckResult
from pgpreflight.linter.check.runner import CheckOptions, check_on_server
from pgpreflight.linter.check.sandbox import Sandbox
from pgpreflight.linter.explain.runner import ExplainOptions, run_explain, schema_after
from pgpreflight.linter.migration import Migration
from pgpreflight.linter.pgserver import ScratchServer

from tests.check_support import migration
from tests.helpers import make_config

_runs = itertools.count(1)


def _explain(tmp_path: Path, history: list[Migration]) -> Callable[..., dict[str, Any]]:
    config = make_config(tmp_path)
    options = ExplainOptions(runs=1, synthesize_rows=200)

    def explain(factory: Any, pending: list[Migration], _result: CheckResult) -> dict[str, Any]:
        evidence = run_explain(
            factory, pending, schema_after(history), config, history=history, options=options
        )
        return evidence.to_dict()

    return explain


def _check(
    server: ScratchServer, tmp_path: Path, history: list[Migration], **options: Any
) -> CheckResult:
    opts = CheckOptions(
        db_prefix=f"ex{next(_runs)}", explain=_explain(tmp_path, history), **options
    )
    result = CheckResult(mode="scratch", server=None)
    return check_on_server(server, history, len(history) - 1, opts, result)


def _roles(server: ScratchServer) -> set[str]:
    with psycopg.connect(server.dsn) as conn:
        return {str(r[0]) for r in conn.execute("SELECT rolname FROM pg_roles")}


def test_a_pending_create_role_is_traced_before_explain_and_explain_gets_its_own_server(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    role = f"app_reader_{uuid.uuid4().hex[:8]}"
    base = migration(tmp_path, "CREATE TABLE t (id int, code text);", name="202401010000__t")
    m = migration(
        tmp_path,
        f"CREATE ROLE {role};\nCREATE INDEX t_code ON t (code);",
        f"DROP INDEX t_code;\nDROP ROLE {role};",
        name="202401020000__reader",
    )
    # CREATE ROLE needs CREATEROLE, which the migration role has only from PostgreSQL 16
    result = _check(pg_server, tmp_path, [base, m], sandbox=Sandbox(superuser=True))
    check = result.migrations[0]
    # the trace met no role left behind by the EXPLAIN step
    assert check.up.status == "ok", [s.error for s in check.up.statements]
    assert check.status == "passed", check.round_trip
    assert any("server of its own" in n and "202401020000__reader" in n for n in result.notes)
    assert result.explain is not None
    assert not [n for n in result.explain["notes"] if "skipped" in n], result.explain["notes"]
    assert [i["index"] for i in result.explain["indexes"]] == ["t_code"]
    # the EXPLAIN server is gone; the traced server holds only what the trace left (UP again)
    assert role in _roles(pg_server)


def test_an_index_a_foreign_key_depends_on_is_skipped_with_a_note(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    base = migration(tmp_path, "CREATE TABLE p (id int, code text);", name="202401010000__p")
    m = migration(
        tmp_path,
        "CREATE UNIQUE INDEX p_code ON p (code);\nCREATE INDEX p_id ON p (id);\n"
        "CREATE TABLE c (id int, code text REFERENCES p (code));",
        "DROP TABLE c;\nDROP INDEX p_id;\nDROP INDEX p_code;",
        name="202401020000__fk",
    )
    result = _check(pg_server, tmp_path, [base, m])
    assert not [n for n in result.notes if "EXPLAIN step failed" in n], result.notes
    assert result.explain is not None
    notes = result.explain["notes"]
    assert any(n.startswith("p_code: not measured, it cannot be dropped") for n in notes), notes
    assert [i["index"] for i in result.explain["indexes"]] == ["p_id"]


def test_the_explain_step_runs_beside_the_traces_on_a_server_of_its_own(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """It needs nothing the traces produce: it runs while they are traced (the last scenario
    waits until the step has started, and would wait in vain if the step came after it), on a
    server of its own holding the baseline, and its evidence is recorded once they are done."""
    import threading

    base = migration(tmp_path, "CREATE TABLE t (id int, code text);", name="202401010000__t")
    m = migration(
        tmp_path, "CREATE INDEX t_code ON t (code);", "DROP INDEX t_code;", name="202401020000__i"
    )
    history = [base, m]
    measure = _explain(tmp_path, history)
    prefix = f"ex{next(_runs)}"
    started, seen = threading.Event(), {}

    def explain(factory: Any, pending: list[Migration], result: CheckResult) -> dict[str, Any]:
        started.set()
        with factory() as conn:
            seen["host"] = conn.info.host
            seen["baseline"] = conn.execute("SELECT to_regclass('t_code') IS NULL").fetchone()[0]
        return measure(factory, pending, result)

    def progress(message: str) -> None:
        if message == f"trace {m.id}":
            seen["beside"] = started.wait(timeout=30)

    opts = CheckOptions(db_prefix=prefix, explain=explain, progress=progress, explain_beside=True)
    result = check_on_server(pg_server, history, 1, opts, CheckResult(mode="scratch", server=None))
    assert seen["beside"] is True
    assert seen["baseline"] is True
    assert seen["host"] != str(pg_server.socket_dir), "a server of its own"
    assert result.migrations[0].status == "passed", result.migrations[0].round_trip
    assert result.explain is not None
    assert [i["index"] for i in result.explain["indexes"]] == ["t_code"]
    assert not [n for n in result.notes if "EXPLAIN" in n], result.notes


def test_the_explain_step_goes_beside_the_traces_when_their_length_hides_its_server() -> None:
    from pgpreflight.linter.check.runner import explain_beside_pays

    assert explain_beside_pays(0, 156)  # a whole history (concourse)
    assert explain_beside_pays(40, 10)
    assert not explain_beside_pays(150, 2)  # --since with two pending: clone after the traces
    assert not explain_beside_pays(0, 3)  # a server start would not be hidden


def test_when_its_own_server_fails_to_start_the_step_runs_after_the_traces(
    pg_server: ScratchServer, tmp_path: Path, monkeypatch: Any
) -> None:
    """initdb sometimes fails on a crowded machine: the evidence is then taken after the
    traces, on a clone of the baseline, instead of being lost."""
    import pgpreflight.linter.pgserver as pgserver
    from pgpreflight.linter.errors import PgPreflightError

    class NoServer:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def __enter__(self) -> Any:
            raise PgPreflightError("initdb failed: no room", exit_code=2)

        def __exit__(self, *exc: object) -> None:
            pass

    monkeypatch.setattr(pgserver, "ScratchServer", NoServer)
    base = migration(tmp_path, "CREATE TABLE t (id int, code text);", name="202401010000__t")
    m = migration(
        tmp_path, "CREATE INDEX t_code ON t (code);", "DROP INDEX t_code;", name="202401020000__i"
    )
    history = [base, m]
    opts = CheckOptions(
        db_prefix=f"ex{next(_runs)}", explain=_explain(tmp_path, history), explain_beside=True
    )
    result = check_on_server(pg_server, history, 1, opts, CheckResult(mode="scratch", server=None))
    assert result.explain is not None
    assert [i["index"] for i in result.explain["indexes"]] == ["t_code"]
    assert not [n for n in result.notes if "EXPLAIN step failed" in n], result.notes
