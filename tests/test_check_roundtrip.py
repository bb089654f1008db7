"""UP -> DOWN -> UP on the scratch server: named differences, pg_dump diff, data loss,
post-conditions, baseline and pending selection."""

from __future__ import annotations

import itertools
from pathlib import Path

import psycopg
import pytest
from pgpreflight.linter.check.result import CheckResult
from pgpreflight.linter.check.runner import CheckOptions, check_on_server, select_pending
from pgpreflight.linter.pgserver import ScratchServer

from tests.check_support import migration

_runs = itertools.count(1)

USERS = (
    "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL CHECK (email ~ '@'),"
    " role text NOT NULL CHECK (role IN ('admin', 'member')));"
)


def _check(server: ScratchServer, migrations: list, **options: object) -> CheckResult:
    opts = CheckOptions(db_prefix=f"rt{next(_runs)}", **options)  # type: ignore[arg-type]
    result = CheckResult(mode="scratch", server=None)
    first = select_pending(migrations, opts)
    return check_on_server(server, migrations, first, opts, result)


def _no_leftover_databases(server: ScratchServer) -> None:
    with psycopg.connect(server.dsn) as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
    assert not [n for n in names if n.startswith("rt")], names


def test_down_that_leaves_a_column_behind_fails_and_names_it(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    base = migration(tmp_path, USERS, "DROP TABLE users;", name="202401010000__users")
    bad = migration(
        tmp_path,
        "ALTER TABLE users ADD COLUMN nickname text;\nALTER TABLE users ADD COLUMN bio text;",
        "ALTER TABLE users DROP COLUMN bio;",
        name="202401020000__profile",
    )
    result = _check(pg_server, [base, bad])
    check = result.migrations[1]
    assert check.status == "round-trip failed"
    rt = check.round_trip
    assert rt.verdict == "fail" and rt.down_restores is False
    assert [(d.kind, d.name, d.change) for d in rt.down_differences] == [
        ("column", "users.nickname", "extra")
    ]
    assert "users.nickname" in (rt.reason or "")
    assert "nickname" in rt.pg_dump_diff and rt.pg_dump_diff.startswith("---")
    # UP again fails on the left-behind column: reported, not hidden
    assert check.up_again is not None and check.up_again.status == "error"
    assert check.up_again.statements[0].error is not None
    assert check.up_again.statements[0].error.sqlstate == "42701"
    assert result.failed
    _no_leftover_databases(pg_server)


def test_down_that_restores_everything_passes(pg_server: ScratchServer, tmp_path: Path) -> None:
    m = migration(
        tmp_path,
        USERS + "\nCREATE INDEX users_email ON users (lower(email));\n"
        "CREATE TYPE mood AS ENUM ('ok', 'meh');\nALTER TABLE users ADD COLUMN mood mood;\n"
        "CREATE SEQUENCE s START 5;\nCOMMENT ON TABLE users IS 'people';",
        "DROP SEQUENCE s;\nDROP TABLE users;\nDROP TYPE mood;",
    )
    result = _check(pg_server, [m])
    check = result.migrations[0]
    assert check.status == "passed", check.round_trip
    assert check.round_trip.verdict == "pass"
    assert check.round_trip.down_restores and check.round_trip.up_again_matches
    assert check.round_trip.pg_dump_diff == ""
    assert [s.status for s in check.down.statements] == ["ok", "ok", "ok"]
    assert not result.failed
    # the probe put a row into the new table, and DROP TABLE is where it is lost
    assert [(d.object, d.kind, d.line) for d in check.data_loss] == [("users", "table", 11)]
    assert check.data_loss[0].rows_lost == 1


def test_changed_definition_is_named(pg_server: ScratchServer, tmp_path: Path) -> None:
    base = migration(
        tmp_path, "CREATE TABLE t (id int PRIMARY KEY, a int DEFAULT 1);", name="202401010000__t"
    )
    m = migration(
        tmp_path,
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT 2;",
        "ALTER TABLE t ALTER COLUMN a SET DEFAULT 3;",
        name="202401020000__default",
    )
    result = _check(pg_server, [base, m])
    diffs = result.migrations[1].round_trip.down_differences
    assert [(d.kind, d.name, d.change) for d in diffs] == [("column", "t.a", "changed")]
    assert diffs[0].expected == {"default": "1"} and diffs[0].actual == {"default": "3"}


def test_failed_up_marks_the_migration_and_the_run_goes_on(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    a = migration(tmp_path, "CREATE TABLE a (id int);", "DROP TABLE a;", name="202401010000__a")
    b = migration(
        tmp_path, "ALTER TABLE nope ADD COLUMN x int;", "SELECT 1;", name="202401020000__b"
    )
    c = migration(tmp_path, "CREATE TABLE c (id int);", "DROP TABLE c;", name="202401030000__c")
    result = _check(pg_server, [a, b, c])
    statuses = [m.status for m in result.migrations]
    assert statuses == ["passed", "failed", "passed"]
    err = result.migrations[1].up.statements[0].error
    assert err is not None and err.sqlstate == "42P01" and err.line == 2
    assert result.migrations[1].round_trip.verdict == "not run"
    _no_leftover_databases(pg_server)


def test_since_selects_pending_and_baseline(pg_server: ScratchServer, tmp_path: Path) -> None:
    a = migration(
        tmp_path, "CREATE TABLE a (id int PRIMARY KEY);", "DROP TABLE a;", name="202401010000__a"
    )
    b = migration(
        tmp_path,
        "CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a (id));",
        "DROP TABLE b;",
        name="202401020000__b",
    )
    result = _check(pg_server, [a, b], since="202401020000")
    assert result.baseline == ["202401010000__a"] and result.pending == ["202401020000__b"]
    assert [m.id for m in result.migrations] == ["202401020000__b"]
    assert result.migrations[0].status == "passed"
    kinds = {(p.kind, p.object) for p in result.postconditions}
    assert ("fk-without-index", "b.b_a_id_fkey") in kinds


def test_postconditions(pg_server: ScratchServer, tmp_path: Path) -> None:
    m = migration(
        tmp_path,
        "CREATE TABLE p (id int PRIMARY KEY);\n"
        "CREATE TABLE c (id int, pid int, v int);\n"
        "ALTER TABLE c ADD CONSTRAINT c_pid_fk FOREIGN KEY (pid) REFERENCES p (id) NOT VALID;\n"
        "CREATE INDEX c_v1 ON c (v);\nCREATE INDEX c_v2 ON c (v);",
        "DROP TABLE c;\nDROP TABLE p;",
    )
    result = _check(pg_server, [m])
    kinds = {(p.kind, p.object) for p in result.postconditions}
    assert ("fk-without-index", "c.c_pid_fk") in kinds
    assert ("not-valid-constraint", "c.c_pid_fk") in kinds
    assert ("duplicate-index", "c_v2") in kinds
    assert all(p.hint for p in result.postconditions)


def test_result_is_json_serialisable_and_versioned(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    import json

    m = migration(tmp_path, USERS, "DROP TABLE users;")
    data = _check(pg_server, [m]).to_dict()
    again = json.loads(json.dumps(data))
    assert again == data
    assert data["version"] == 1
    st = data["migrations"][0]["up"]["statements"][0]
    assert {"line", "sql", "locks", "rewrites", "catalog_changes", "duration_ms", "status"} <= set(
        st
    )


@pytest.mark.parametrize("mode", ["per-file", "auto", "none"])
def test_transaction_modes_give_same_round_trip(
    pg_server: ScratchServer, tmp_path: Path, mode: str
) -> None:
    m = migration(tmp_path, USERS + "\nALTER TABLE users ADD COLUMN x int;", "DROP TABLE users;")
    result = _check(pg_server, [m], transaction_mode=mode)
    assert result.migrations[0].status == "passed"
    expected = "statement" if mode == "none" else "runner"
    assert {s.transaction for s in result.migrations[0].up.statements} == {expected}


def test_data_file_runs_after_the_baseline(pg_server: ScratchServer, tmp_path: Path) -> None:
    base = migration(tmp_path, USERS, "DROP TABLE users;", name="202401010000__users")
    not_null = migration(
        tmp_path,
        "ALTER TABLE users ADD COLUMN phone text NOT NULL;",
        "ALTER TABLE users DROP COLUMN phone;",
        name="202401020000__phone",
    )
    data = tmp_path / "seed.sql"
    data.write_text(
        "INSERT INTO users SELECT g, 'u' || g || '@x', 'member' FROM generate_series(1, 10) g;\n"
    )
    result = _check(pg_server, [base, not_null], since="202401020000", data_file=data)
    assert result.data == str(data)
    check = result.migrations[0]
    assert check.status == "failed"  # with rows, NOT NULL without DEFAULT fails, as in production
    err = check.up.statements[0].error
    assert err is not None and err.sqlstate == "23502" and err.line == 2


def test_pending_selection(tmp_path: Path) -> None:
    ms = [migration(tmp_path, "SELECT 1;", name=f"20240101000{i}__m{i}") for i in range(4)]
    assert select_pending(ms, CheckOptions()) == 0
    assert select_pending(ms, CheckOptions(since="202401010002")) == 2
    assert select_pending(ms, CheckOptions(since="209901010000")) == 4
    changed = {ms[1].id, ms[3].id}
    # from the first changed migration on: later ones run on top of it, as they would deploy
    assert select_pending(ms, CheckOptions(changed=lambda m: m.id in changed)) == 1


def test_pending_selection_in_diesel_order(tmp_path: Path) -> None:
    from pgpreflight.linter.discovery import discover

    for folder in ("20140924113530_a", "2017-08-31-230457_b", "2025-11-19-091444-0000_c"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "up.sql").write_text("SELECT 1;")
    ms = discover([tmp_path])
    assert select_pending(ms, CheckOptions(since="2017-08-31-230457")) == 1
    assert select_pending(ms, CheckOptions(since="20170831230457")) == 1
    assert select_pending(ms, CheckOptions(since="2025-01-01-000000")) == 2


def test_each_section_starts_with_fresh_session_settings(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    m = migration(
        tmp_path,
        "SET lock_timeout = '3s';\nCREATE TABLE t (id int);",
        "DROP TABLE t;\nSET lock_timeout = '7s';",
    )
    check = _check(pg_server, [m]).migrations[0]
    assert [s.lock_timeout for s in check.up.statements] == ["0", "3s"]
    assert [s.lock_timeout for s in check.down.statements] == ["0", "0"]
    assert check.up_again is not None
    assert [s.lock_timeout for s in check.up_again.statements] == ["0", "3s"]


def test_data_loss_probe_fills_a_new_nullable_column_of_a_table_with_rows(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    base = migration(
        tmp_path,
        USERS + "\nINSERT INTO users VALUES (1, 'a@x', 'admin'), (2, 'b@x', 'member');",
        "DROP TABLE users;",
        name="202401010000__users",
    )
    m = migration(
        tmp_path,
        "ALTER TABLE users ADD COLUMN nickname text;",
        "ALTER TABLE users DROP COLUMN nickname;",
        name="202401020000__nickname",
    )
    check = _check(pg_server, [base, m], since="202401020000").migrations[0]
    assert [(d.object, d.kind, d.line, d.rows_lost) for d in check.data_loss] == [
        ("users.nickname", "column", 5, 1)
    ]
    assert check.round_trip.verdict == "pass"


def test_probe_rows_reference_parent_rows_so_a_down_that_revalidates_a_foreign_key_passes(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    base = migration(
        tmp_path, "CREATE TABLE owner (id int PRIMARY KEY);", name="202401010000__owner"
    )
    widen = migration(
        tmp_path,
        "CREATE TABLE item (id int PRIMARY KEY, owner_id int NOT NULL REFERENCES owner (id));\n"
        "ALTER TABLE owner ALTER COLUMN id TYPE bigint;\n"
        "ALTER TABLE item ALTER COLUMN owner_id TYPE bigint;",
        "ALTER TABLE item ALTER COLUMN owner_id TYPE int;\n"
        "ALTER TABLE owner ALTER COLUMN id TYPE int;\nDROP TABLE item;",
        name="202401020000__widen",
    )
    result = _check(pg_server, [base, widen])
    check = result.migrations[1]
    # the probe row of item references an owner row (synthesised: owner is empty), as real data
    # would; before, it referenced no row and the DOWN's revalidated foreign key failed on it
    assert check.down is not None and check.down.status == "ok", [
        s.error for s in check.down.statements
    ]
    assert check.status == "passed", check.round_trip
    assert [(d.object, d.kind) for d in check.data_loss] == [("item", "table")]


def test_a_probe_row_that_cannot_reference_a_parent_is_removed_before_down(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    base = migration(
        tmp_path,
        "CREATE TABLE owner (id int PRIMARY KEY, kind text NOT NULL CHECK (kind <> kind));",
        name="202401010000__owner",
    )
    m = migration(
        tmp_path,
        "CREATE TABLE item (id int PRIMARY KEY, owner_id int NOT NULL REFERENCES owner (id));",
        "ALTER TABLE item ALTER COLUMN owner_id TYPE bigint;\nDROP TABLE item;",
        name="202401020000__item",
    )
    result = _check(pg_server, [base, m])
    check = result.migrations[1]
    assert check.down is not None and check.down.status == "ok", [
        s.error for s in check.down.statements
    ]
    assert check.status == "passed", check.round_trip
    assert any("item" in n and "removed" in n for n in check.notes), check.notes


# -- cosmetic catalog differences (issue 14, item 4) -------------------------------------------

COUNT_V1 = """CREATE FUNCTION bump(x int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  IF x > 0 AND x < 10 THEN
    RETURN x + 1;
  END IF;
  RETURN 0;
END $$;"""


def _graded(check: object) -> list[tuple[str, str, str, str]]:
    rt = check.round_trip  # type: ignore[attr-defined]
    return [
        (d.kind, d.name, d.change, d.grade) for d in rt.down_differences + rt.up_again_differences
    ]


def test_a_function_body_restored_with_other_whitespace_comments_and_parentheses_is_cosmetic(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    base = migration(tmp_path, COUNT_V1, "DROP FUNCTION bump(int);", name="202401010000__bump")
    m = migration(
        tmp_path,
        "CREATE OR REPLACE FUNCTION bump(x int) RETURNS int LANGUAGE plpgsql AS $$\n"
        "BEGIN RETURN x + 2; END $$;",
        # the DOWN restores the first body, written by another hand
        "CREATE OR REPLACE FUNCTION bump(x int) RETURNS int LANGUAGE plpgsql AS $$\n"
        "  BEGIN  -- restored\n    IF (x > 0 AND (x < 10)) THEN RETURN (x + 1); END IF;\n"
        "    /* otherwise */ RETURN 0;\n  END\n$$;",
        name="202401020000__bump2",
    )
    result = _check(pg_server, [base, m])
    check = result.migrations[1]
    assert check.status == "passed", check.round_trip.reason
    assert check.round_trip.verdict == "pass" and check.round_trip.down_restores
    assert _graded(check) == [("function", "bump(x integer)", "changed", "cosmetic")]
    assert "same parse tree" in (check.round_trip.down_differences[0].why or "")
    from pgpreflight.linter.report.check_text import render_check

    text = render_check(result.to_dict())
    assert "cosmetic after DOWN: function bump(x integer): same parse tree" in text


def test_a_function_body_that_really_differs_still_fails(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    base = migration(tmp_path, COUNT_V1, "DROP FUNCTION bump(int);", name="202401010000__bump")
    m = migration(
        tmp_path,
        "CREATE OR REPLACE FUNCTION bump(x int) RETURNS int LANGUAGE plpgsql AS $$\n"
        "BEGIN RETURN x + 2; END $$;",
        COUNT_V1.replace("CREATE", "CREATE OR REPLACE").replace("x < 10", "x < 11"),
        name="202401020000__bump2",
    )
    check = _check(pg_server, [base, m]).migrations[1]
    assert check.status == "round-trip failed"
    assert _graded(check) == [("function", "bump(x integer)", "changed", "real")]


def test_a_check_restored_with_other_and_nesting_is_cosmetic(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    base = migration(
        tmp_path,
        "CREATE TABLE t (a int, b int, c int, CONSTRAINT t_ck CHECK (a > 0 AND b > 0 AND c > 0));",
        name="202401010000__t",
    )
    m = migration(
        tmp_path,
        "ALTER TABLE t DROP CONSTRAINT t_ck;\n"
        "ALTER TABLE t ADD CONSTRAINT t_ck CHECK (a > 0 AND b > 0);",
        "ALTER TABLE t DROP CONSTRAINT t_ck;\n"
        "ALTER TABLE t ADD CONSTRAINT t_ck CHECK (a > 0 AND (b > 0 AND c > 0));",
        name="202401020000__ck",
    )
    check = _check(pg_server, [base, m]).migrations[1]
    assert check.status == "passed", check.round_trip.reason
    assert _graded(check) == [("constraint", "t.t_ck", "changed", "cosmetic")]


def test_a_view_that_freezes_now_is_cosmetic_after_up_again(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    base = migration(tmp_path, "CREATE TABLE ev (at timestamptz);", name="202401010000__ev")
    m = migration(
        tmp_path,
        "CREATE VIEW recent AS SELECT at FROM ev WHERE at > 'now'::timestamptz;\n"
        "CREATE TABLE seen (at timestamp DEFAULT 'now');",
        "DROP TABLE seen;\nDROP VIEW recent;",
        name="202401020000__recent",
    )
    check = _check(pg_server, [base, m]).migrations[1]
    assert check.status == "passed", check.round_trip.reason
    assert ("view", "recent", "changed", "cosmetic") in _graded(check)
    assert ("column", "seen.at", "changed", "cosmetic") in _graded(check)
    assert all(d.grade == "cosmetic" for d in check.round_trip.up_again_differences)
    assert "'now'" in (check.round_trip.up_again_differences[0].why or "")


def test_a_serial_sequence_renamed_by_a_table_rebuild_is_cosmetic(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    base = migration(tmp_path, "CREATE TABLE t (id serial, v text);", name="202401010000__t")
    m = migration(
        tmp_path,
        "ALTER TABLE t RENAME TO t_old;\nCREATE TABLE t (id serial, v text, w int);\n"
        "INSERT INTO t (id, v) SELECT id, v FROM t_old;\nDROP TABLE t_old;",
        "ALTER TABLE t DROP COLUMN w;",
        name="202401020000__rebuild",
    )
    check = _check(pg_server, [base, m]).migrations[1]
    assert check.status == "passed", check.round_trip.reason
    down = [(d.kind, d.name, d.change, d.grade) for d in check.round_trip.down_differences]
    assert down == [
        ("column", "t.id", "changed", "cosmetic"),
        ("sequence", "t_id_seq", "missing", "cosmetic"),
        ("sequence", "t_id_seq1", "extra", "cosmetic"),
    ]
    # UP again rebuilds the table once more: the name flips back, as cosmetic
    assert {d.grade for d in check.round_trip.up_again_differences} == {"cosmetic"}
    assert "t_id_seq1 instead of t_id_seq" in (check.round_trip.down_differences[1].why or "")


def test_an_extension_up_creates_only_if_missing_may_stay_after_down(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    # nakama, kratos, concourse: DOWN keeps a shared extension, as down-does-not-revert advises
    base = migration(tmp_path, "CREATE TABLE users (name text);", name="202401010000__users")
    m = migration(
        tmp_path,
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
        "CREATE INDEX users_name_trgm ON users USING gin (name gin_trgm_ops);",
        "DROP INDEX users_name_trgm;",
        name="202401020000__trgm",
    )
    check = _check(pg_server, [base, m]).migrations[1]
    assert check.status == "passed", check.round_trip.reason
    assert _graded(check) == [("extension", "pg_trgm", "extra", "cosmetic")]
    assert "IF NOT EXISTS" in (check.round_trip.down_differences[0].why or "")


def test_an_extension_up_creates_unconditionally_must_be_dropped_by_down(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    m = migration(tmp_path, "CREATE EXTENSION pg_trgm;", "SELECT 1;", name="202401020000__trgm")
    check = _check(pg_server, [m]).migrations[0]
    assert check.status == "round-trip failed"
    assert ("extension", "pg_trgm", "extra", "real") in _graded(check)


_PLPGSQL = "CREATE FUNCTION public.f(x integer) RETURNS integer LANGUAGE plpgsql AS $function$"


@pytest.mark.parametrize(
    ("kind", "attr", "a", "b", "why"),
    [
        (
            "function",
            "definition",
            _PLPGSQL + "DECLARE y int; BEGIN y := x + 1; RETURN y; END$function$",
            _PLPGSQL + "declare y int;\nbegin\n  y := (x + 1);  -- c\n  return y;\nend$function$",
            "same parse tree",
        ),
        (
            "function",
            "definition",
            _PLPGSQL + "BEGIN RETURN 1; END$function$",
            _PLPGSQL + "BEGIN /* one */ RETURN 1;\n END$function$",
            "whitespace or comments",
        ),
        (
            "function",
            "definition",
            _PLPGSQL + "BEGIN RAISE 'a  b'; END$function$",
            _PLPGSQL + "BEGIN RAISE 'a b'; END$function$",
            None,
        ),
        (
            "function",
            "definition",
            _PLPGSQL + "BEGIN RETURN x + 1; END$function$",
            _PLPGSQL + "BEGIN RETURN x + 2; END$function$",
            None,
        ),
        (  # hatchet: a comment inside the dynamic SQL a function EXECUTEs (a string)
            "function",
            "definition",
            _PLPGSQL + "BEGIN EXECUTE format('SELECT 1\n  FROM %I LIMIT 2', 't'); END$function$",
            _PLPGSQL + "BEGIN EXECUTE format('SELECT 1\n  FROM %I\n  -- why two\n  LIMIT 2',"
            " 't'); END$function$",
            "whitespace or comments",
        ),
        (  # the SQL in a string is still compared token by token
            "function",
            "definition",
            _PLPGSQL + "BEGIN EXECUTE format('SELECT 1 FROM %I LIMIT 2', 't'); END$function$",
            _PLPGSQL + "BEGIN EXECUTE format('SELECT 1 FROM %I LIMIT 3', 't'); END$function$",
            None,
        ),
        (  # a string that is no SQL statement keeps its whitespace
            "function",
            "definition",
            _PLPGSQL + "BEGIN RETURN format('%s  %s', 1, 2); END$function$",
            _PLPGSQL + "BEGIN RETURN format('%s %s', 1, 2); END$function$",
            None,
        ),
        (
            "function",
            "definition",
            "CREATE FUNCTION public.g() RETURNS integer LANGUAGE sql AS $function$ SELECT 1 "
            "WHERE (true) $function$",
            "CREATE FUNCTION public.g() RETURNS integer LANGUAGE sql AS $function$select 1 "
            "where true$function$",
            "same parse tree",
        ),
        (
            "constraint",
            "definition",
            "CHECK (((a > 0) OR ((b > 0) OR (c > 0))))",
            "CHECK (((a > 0) OR (b > 0) OR (c > 0)))",
            "same parse tree",
        ),
        (
            "constraint",
            "definition",
            "CHECK (((a > 0) OR ((b > 0) AND (c > 0))))",
            "CHECK ((((a > 0) OR (b > 0)) AND (c > 0)))",
            None,
        ),
        ("column", "default", "'2020-01-01'::date", "'2021-01-01'::date", None),
    ],
)
def test_cosmetic_same_text(kind: str, attr: str, a: str, b: str, why: str | None) -> None:
    from pgpreflight.linter.check.cosmetic import same_text

    got = same_text(kind, attr, a, b)
    assert (got is None) if why is None else (why in (got or "")), got


def test_cosmetic_frozen_now_is_only_about_today() -> None:
    import datetime

    from pgpreflight.linter.check.cosmetic import FROZEN_NOW, same_text

    today = datetime.date.today()
    a = f"'{today} 10:00:00.12+00'::timestamp with time zone"
    b = f"'{today} 10:00:01.5+00'::timestamp with time zone"
    assert same_text("column", "default", a, b) == FROZEN_NOW
    assert same_text("column", "default", a, "'2001-01-01 10:00:00+00'::timestamptz") is None


# -- missing prerequisites and failures caused by earlier ones (issue 14, item 5) --------------


def _files(tmp_path: Path, files: dict[str, str]) -> list:
    from pgpreflight.linter.discovery import discover

    folder = tmp_path / "history"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return discover([folder])


@pytest.mark.parametrize(
    ("files", "reads"),
    [
        (
            {"1_a.up.sql": "CREATE TABLE a (id int);", "1_a.down.sql": "DROP TABLE a;"},
            "SELECT version, dirty FROM schema_migrations",
        ),
        (
            {"2024-01-01-000000_a/up.sql": "CREATE TABLE a (id int);"},
            "SELECT version, run_on FROM __diesel_schema_migrations",
        ),
        (
            {"20240101000000_a.sql": "-- +goose Up\nCREATE TABLE a (id int);\n"},
            "SELECT version_id, is_applied, tstamp FROM goose_db_version",
        ),
        (
            {"V1__a.sql": "CREATE TABLE a (id int);"},
            "SELECT installed_rank, version, success FROM flyway_schema_history",
        ),
        (
            {"1_a.sql": "-- +migrate Up\nCREATE TABLE a (id int);\n"},
            "SELECT id, applied_at FROM gorp_migrations",
        ),
        (
            {"20240101000000_a.sql": "-- migrate:up\nCREATE TABLE a (id int);\n"},
            "SELECT version FROM schema_migrations",
        ),
        (
            {"20240101000000_a.postgres.up.sql": "CREATE TABLE a (id int);"},
            "SELECT version FROM schema_migration",
        ),
    ],
    ids=["golang-migrate", "diesel", "goose", "flyway", "sql-migrate", "dbmate", "pop"],
)
def test_the_runners_history_table_is_there_as_the_runner_creates_it(
    pg_server: ScratchServer, tmp_path: Path, files: dict[str, str], reads: str
) -> None:
    # the second migration reads (or, like harbor's 0030, alters) the runner's own table
    second = {
        "1_a.up.sql": ("2_b.up.sql", f"CREATE VIEW applied AS {reads};"),
        "2024-01-01-000000_a/up.sql": (
            "2024-01-02-000000_b/up.sql",
            f"CREATE VIEW applied AS {reads};",
        ),
        "20240101000000_a.sql": (
            "20240102000000_b.sql",
            files["20240101000000_a.sql"].split("\n")[0] + f"\nCREATE VIEW applied AS {reads};\n",
        )
        if "20240101000000_a.sql" in files
        else None,
        "V1__a.sql": ("V2__b.sql", f"CREATE VIEW applied AS {reads};"),
        "1_a.sql": ("2_b.sql", f"-- +migrate Up\nCREATE VIEW applied AS {reads};\n"),
        "20240101000000_a.postgres.up.sql": (
            "20240102000000_b.postgres.up.sql",
            f"CREATE VIEW applied AS {reads};",
        ),
    }[next(iter(files))]
    assert second is not None
    migrations = _files(tmp_path, {**files, second[0]: second[1]})
    result = _check(pg_server, migrations)
    assert [m.status for m in result.migrations] == ["passed", "passed"], [
        (m.id, m.up.statements[0].error) for m in result.migrations
    ]
    assert any("history table" in n for n in result.notes), result.notes


def test_a_history_that_creates_its_runners_table_itself_gets_none_made_for_it(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    migrations = _files(
        tmp_path,
        {
            "1_a.up.sql": "CREATE TABLE schema_migrations (version text PRIMARY KEY);",
            "1_a.down.sql": "DROP TABLE schema_migrations;",
        },
    )
    result = _check(pg_server, migrations)
    assert result.migrations[0].status == "passed"
    assert not any("history table" in n for n in result.notes)


NEEDS_AUTH = {
    "202401010000__users": (
        "CREATE TABLE auth.users (id int PRIMARY KEY);\nGRANT SELECT ON auth.users TO auth_reader;",
        "DROP TABLE auth.users;",
    ),
    "202401020000__email": (
        "ALTER TABLE auth.users ADD COLUMN email text;",
        "ALTER TABLE auth.users DROP COLUMN email;",
    ),
    "202401030000__sessions": (
        "CREATE TABLE auth.sessions (id int PRIMARY KEY, user_id int REFERENCES auth.users (id));",
        "DROP TABLE auth.sessions;",
    ),
    "202401040000__notes": ("CREATE TABLE notes (id int);", "DROP TABLE notes;"),
}


def _needs_auth(tmp_path: Path) -> list:
    return [migration(tmp_path, up, down, name=name) for name, (up, down) in NEEDS_AUTH.items()]


def test_one_missing_schema_is_one_root_cause_with_its_dependants_under_it(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    result = _check(pg_server, _needs_auth(tmp_path))
    users, email, sessions, notes = result.migrations
    assert [m.status for m in result.migrations] == ["failed", "failed", "failed", "passed"]
    assert users.caused_by is None
    assert users.dependants == ["202401020000__email", "202401030000__sessions"]
    assert email.caused_by == sessions.caused_by == "202401010000__users"
    assert notes.caused_by is None and notes.dependants == []
    # the root cause says how to provide what the history assumes
    assert any('schema "auth"' in n and "--setup" in n for n in users.notes), users.notes
    from pgpreflight.linter.report.check_text import render_check

    text = render_check(result.to_dict())
    assert "1 root cause" in text.splitlines()[-1], text.splitlines()[-1]
    assert "202401020000__email  FAILED" not in text  # reported once, under its root cause
    assert "root cause of 2 later failures" in text


def test_a_failure_that_needs_what_an_earlier_failed_migration_creates_is_its_dependant(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    first = migration(
        tmp_path,
        "CREATE TABLE tag (id int PRIMARY KEY);\nCREATE TABLE bad (id int REFERENCES nope (id));",
        "SELECT 1;",
        name="202401010000__tag",
    )
    uses = migration(tmp_path, "ALTER TABLE tag ADD COLUMN label text;", name="202401020000__b")
    again = migration(tmp_path, "CREATE INDEX ON tag (label);", name="202401030000__c")
    own = migration(tmp_path, "ALTER TABLE nothere ADD COLUMN x int;", name="202401040000__d")
    result = _check(pg_server, [first, uses, again, own])
    assert [m.caused_by for m in result.migrations] == [
        None,
        "202401010000__tag",
        "202401010000__tag",  # through 202401020000__b, which the root cause explains too
        None,  # names nothing an earlier failure would have made: a root cause of its own
    ]
    assert result.migrations[0].dependants == ["202401020000__b", "202401030000__c"]
    assert not any("--setup" in n for n in result.migrations[0].notes)  # a table: not setup's


def test_setup_runs_once_as_superuser_before_the_baseline_and_its_schemas_are_handed_over(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    setup = tmp_path / "setup.sql"
    setup.write_text("CREATE SCHEMA auth;\nCREATE ROLE auth_reader;\n", encoding="utf-8")
    try:
        result = _check(pg_server, _needs_auth(tmp_path), setup_file=setup)
        assert [m.status for m in result.migrations] == ["passed"] * 4, [
            (m.id, m.notes) for m in result.migrations
        ]
        assert result.setup == str(setup)
        with psycopg.connect(pg_server.dsn) as conn:  # roles are the cluster's: made once
            roles = conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'auth_reader'")
            assert roles.fetchone() == (1,)
    finally:
        with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS auth_reader")


def test_a_failing_setup_file_stops_the_check_naming_file_and_line(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    from pgpreflight.linter.errors import PgPreflightError

    setup = tmp_path / "setup.sql"
    setup.write_text("CREATE SCHEMA auth;\n\nCREATE EXTENSION no_such_ext;\n", encoding="utf-8")
    with pytest.raises(PgPreflightError) as err:
        _check(pg_server, _needs_auth(tmp_path), setup_file=setup)
    assert err.value.exit_code == 2
    assert f"{setup}:3:1: setup file failed" in err.value.message
    _no_leftover_databases(pg_server)


def test_data_file_in_a_changed_since_run(pg_server: ScratchServer, tmp_path: Path) -> None:
    base = migration(tmp_path, USERS, "DROP TABLE users;", name="202401010000__users")
    later = migration(
        tmp_path,
        "ALTER TABLE users ADD COLUMN phone text;",
        "ALTER TABLE users DROP COLUMN phone;",
        name="202401020000__phone",
    )
    data = tmp_path / "seed.sql"
    data.write_text("INSERT INTO users VALUES (1, 'a@x', 'admin');\n")
    result = _check(pg_server, [base, later], changed=lambda m: m.id == later.id, data_file=data)
    assert result.baseline == [base.id] and result.data == str(data)
    assert result.migrations[0].status == "passed"
    # the probe found the seeded row: the column it filled is lost by DOWN
    assert [(d.object, d.rows_lost) for d in result.migrations[0].data_loss] == [("users.phone", 1)]


def test_a_state_no_later_migration_starts_from_is_dropped_on_the_way(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """One template per migration would pile up (a full history keeps hundreds of databases,
    in memory when the scratch directory is): only the baseline and the current state stay."""
    ms = [
        migration(
            tmp_path,
            f"CREATE TABLE t{i} (id int);",
            f"DROP TABLE t{i};",
            name=f"20240101000{i}__t{i}",
        )
        for i in range(5)
    ]
    alive: list[int] = []

    def count(message: str) -> None:
        with psycopg.connect(pg_server.dsn) as conn:
            row = conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'rt%'")
            alive.append(int(row.fetchone()[0]))

    result = _check(pg_server, ms, progress=count)
    assert [m.status for m in result.migrations] == ["passed"] * 5
    assert max(alive) == 2, alive  # the baseline and the state the next migration starts from
    _no_leftover_databases(pg_server)


def test_a_migration_split_into_one_file_per_statement_is_not_round_tripped_file_by_file(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """ory's histories (kratos) split a migration into one pop file per statement, and their
    DOWN files revert the group as a whole, not the UP file of the same number: a round trip
    per file fails where nothing is wrong. An empty UP file of the group applies trivially."""
    migrations = _files(
        tmp_path,
        {
            "20200101000000000000_things.postgres.up.sql": "CREATE TABLE a (id int);",
            "20200101000000000000_things.postgres.down.sql": "DROP TABLE b;",
            "20200101000000000001_things.postgres.up.sql": "CREATE TABLE b (id int);",
            "20200101000000000001_things.postgres.down.sql": "DROP TABLE a;",
            "20200101000000000002_things.postgres.up.sql": "",
            "20200101000000000002_things.postgres.down.sql": "SELECT 1;",
            "20200101000000000003_things.postgres.up.sql": "--\n",
            "20200101000000000003_things.postgres.down.sql": "SELECT 2;",
        },
    )
    assert len(migrations) == 4
    result = _check(pg_server, migrations)
    assert [m.status for m in result.migrations] == ["passed"] * 4, [
        (m.id, m.notes, m.round_trip.reason) for m in result.migrations
    ]
    assert "the UP file has no statement: it applies trivially" in result.migrations[2].notes
    assert "the UP file has no statement: it applies trivially" in result.migrations[3].notes
    assert {m.round_trip.verdict for m in result.migrations} == {"not run"}
    assert "split" in (result.migrations[0].round_trip.reason or "")
    assert not result.failed


def test_probe_rows_are_gone_before_up_runs_again(pg_server: ScratchServer, tmp_path: Path) -> None:
    """crates.io's `ADD COLUMN gh_login varchar NOT NULL` on an empty table: the probe row that
    shows the DOWN destroys the column's data must not stay behind for UP again, which would
    then fail on a row the table did not have when UP ran."""
    base = migration(tmp_path, "CREATE TABLE users (id int);", name="202401010000__users")
    m = migration(
        tmp_path,
        "ALTER TABLE users ADD COLUMN gh_login varchar NOT NULL;",
        "ALTER TABLE users DROP COLUMN gh_login;",
        name="202401020000__login",
    )
    check = _check(pg_server, [base, m]).migrations[1]
    assert check.status == "passed", check.round_trip.reason
    assert [(d.object, d.rows_lost) for d in check.data_loss] == [("users.gh_login", 1)]


def test_a_go_up_migration_is_not_traced_and_does_not_fail_the_check(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """concourse runs `NAME.up.go` between its SQL files: pgpreflight cannot run Go, so the
    migration is "not traced" (the next ones run on the schema before it), not failed."""
    migrations = _files(
        tmp_path,
        {
            "1_init.up.sql": "CREATE TABLE resources (id int PRIMARY KEY);\n",
            "1_init.down.sql": "DROP TABLE resources;\n",
            "2_add_type.up.go": "package migrations\n",
            "2_add_type.down.sql": "ALTER TABLE resources DROP COLUMN type;\n",
            "3_name.up.sql": "ALTER TABLE resources ADD COLUMN name text;\n",
            "3_name.down.sql": "ALTER TABLE resources DROP COLUMN name;\n",
            "4_users.up.go": "package migrations\n",
            "4_users.down.go": "package migrations\n",
        },
    )
    result = _check(pg_server, migrations)
    statuses = ["passed", "not traced", "passed", "not traced"]
    assert [m.status for m in result.migrations] == statuses
    go = result.migrations[1]
    assert go.round_trip.verdict == "not run" and "Go" in (go.round_trip.reason or "")
    assert any("2_add_type.up.go" in n for n in go.notes), go.notes
    assert "the next migrations run on the schema before this one" in go.notes
    assert not result.failed


def test_a_failure_that_needs_what_a_go_migration_makes_is_not_traced_under_it(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """hatchet: a goose Go migration makes `t_new`, the next SQL file locks it. pgpreflight
    cannot run the Go code, so that failure is the harness's gap, not the migration's: listed
    under the Go migration, not traced, not failed."""
    go = (
        "package migrations\n\nfunc init() { goose.AddMigrationNoTxContext(up, down) }\n\n"
        "const mirror = `CREATE TABLE t_new (LIKE t)`\n"
    )
    migrations = _files(
        tmp_path,
        {
            "001_init.sql": "-- +goose Up\nCREATE TABLE t (id int);\n-- +goose Down\nDROP TABLE t;\n",
            "002_mirror.go": go,
            "003_swap.sql": "-- +goose Up\nLOCK TABLE t_new;\n-- +goose Down\nSELECT 1;\n",
            "004_more.sql": "-- +goose Up\nCREATE TABLE u (id int);\n-- +goose Down\nDROP TABLE u;\n",
            "005_bad.sql": "-- +goose Up\nLOCK TABLE nowhere;\n-- +goose Down\nSELECT 1;\n",
        },
    )
    result = _check(pg_server, migrations)
    statuses = [(m.id, m.status) for m in result.migrations]
    assert statuses == [
        ("001__init", "passed"),
        ("002__mirror", "not traced"),
        ("003__swap", "not traced"),
        ("004__more", "passed"),
        ("005__bad", "failed"),
    ], statuses
    swap = result.migrations[2]
    assert swap.caused_by == "002__mirror" and result.migrations[1].dependants == ["003__swap"]
    assert swap.notes[0].startswith("not traced: caused by 002__mirror"), swap.notes
    assert result.migrations[4].caused_by is None
    assert result.failed  # 005 fails on its own


def test_a_down_that_fails_only_on_probe_rows_says_so(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    """lemmy's comment_ltrees: DOWN derives a number from the new column of every row, which
    fails on the value the data-loss probe chose (here 'probe'; there the column's default)
    though the table may never hold one. DOWN runs again on a clone without probe rows: the
    migration still fails (the table may hold such rows), and says that DOWN runs without them
    and what the rest of the round trip found."""
    base = migration(tmp_path, "CREATE TABLE comment (id int);", name="202401010000__comment")
    m = migration(
        tmp_path,
        "ALTER TABLE comment ADD COLUMN path text NOT NULL DEFAULT '0';\n"
        "CREATE VIEW comment_view AS SELECT * FROM comment;",
        "DROP VIEW comment_view;\n"
        "ALTER TABLE comment ADD COLUMN parent_id int;\n"
        "UPDATE comment SET parent_id = split_part(path, '.', 2)::int;\n"
        "ALTER TABLE comment DROP COLUMN path;",
        name="202401020000__ltree",
    )
    check = _check(pg_server, [base, m]).migrations[1]
    assert check.status == "round-trip failed"
    reason = check.round_trip.reason or ""
    update = next(
        i for i, text in enumerate(m.down.source.text.splitlines(), 1) if "UPDATE" in text
    )
    assert reason.startswith(f"DOWN failed on the data-loss probe rows (line {update}: "), reason
    assert "invalid input syntax for type integer" in reason
    # what the probe failure hid: DOWN leaves parent_id behind
    assert "without them DOWN runs; without them: column comment.parent_id" in reason, reason
    assert [s.status for s in check.down.statements][-2:] == ["error", "not run"]
    _no_leftover_databases(pg_server)


def test_a_down_that_fails_without_probe_rows_too_still_fails(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    base = migration(tmp_path, "CREATE TABLE comment (id int);", name="202401010000__comment")
    m = migration(
        tmp_path,
        "ALTER TABLE comment ADD COLUMN path text;",
        "ALTER TABLE comment DROP COLUMN nope;",
        name="202401020000__broken",
    )
    check = _check(pg_server, [base, m]).migrations[1]
    assert check.status == "round-trip failed"
    assert check.round_trip.reason == "DOWN failed"
    assert not [n for n in check.notes if "probe row" in n], check.notes


def test_up_failing_again_after_down_names_its_line_and_error(
    pg_server: ScratchServer, tmp_path: Path
) -> None:
    m = migration(
        tmp_path,
        "CREATE TABLE kept (id int);",
        "SELECT 1;",
        name="202401010000__kept",
    )
    check = _check(pg_server, [m]).migrations[0]
    assert check.status == "round-trip failed"
    line = next(
        i for i, text in enumerate(m.up.source.text.splitlines(), 1) if "CREATE TABLE" in text
    )
    reason = check.round_trip.reason or ""
    assert f'UP failed when run again after DOWN at line {line}: relation "kept" already' in reason
