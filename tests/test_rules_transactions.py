"""Edge cases of the transaction and robustness rules: runner wrapping per convention and config,
explicit BEGIN/COMMIT boundaries, files run without a transaction, and the other type and
identifier rules of issue 4."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import lint_findings

TX = ["nested-transaction", "unclosed-transaction", "commit-in-wrapped-file"]


def lines(
    sql: str, rules: list[str] | str, tmp_path: Path, **config: object
) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in lint_findings(sql, rules, tmp_path, **config)]


# ---------------------------------------------------------------- BEGIN / COMMIT


def test_begin_commit_in_a_file_the_runner_wraps(tmp_path: Path) -> None:
    sql = (
        "-- +goose Up\n"
        "BEGIN;\n"
        "CREATE TABLE a (id bigint);\n"
        "COMMIT;\n"
        "-- +goose Down\n"
        "DROP TABLE a;\n"
    )
    assert lines(sql, TX, tmp_path) == [("nested-transaction", 2), ("commit-in-wrapped-file", 4)]


def test_same_file_without_runner_transaction_is_fine(tmp_path: Path) -> None:
    sql = "-- +goose Up\n-- +goose NO TRANSACTION\nBEGIN;\nCREATE TABLE a (id bigint);\nCOMMIT;\n"
    assert lines(sql, TX, tmp_path) == []
    assert (
        lines(
            sql.replace("-- +goose NO TRANSACTION\n", ""), TX, tmp_path / "none", transaction="none"
        )
        == []
    )


def test_golang_migrate_files_may_manage_their_own_transaction(tmp_path: Path) -> None:
    sql = (
        "-- file: 1_init.up.sql\n"
        "BEGIN;\n"
        "CREATE TABLE a (id bigint);\n"
        "COMMIT;\n"
        "-- file: 1_init.down.sql\n"
        "DROP TABLE a;\n"
    )
    assert lines(sql, TX, tmp_path) == []


def test_nested_begin_inside_an_explicit_transaction(tmp_path: Path) -> None:
    sql = (
        "BEGIN;\n"
        "CREATE TABLE a (id bigint);\n"
        "START TRANSACTION;\n"
        "CREATE TABLE b (id bigint);\n"
        "COMMIT;\n"
        "COMMIT;\n"
    )
    assert lines(sql, "nested-transaction", tmp_path, transaction="none") == [
        ("nested-transaction", 3)
    ]


def test_a_second_transaction_after_commit_is_not_nested(tmp_path: Path) -> None:
    sql = (
        "BEGIN;\n"
        "CREATE TABLE a (id bigint);\n"
        "COMMIT;\n"
        "BEGIN;\n"
        "CREATE TABLE b (id bigint);\n"
        "COMMIT;\n"
    )
    assert lines(sql, TX, tmp_path, transaction="none") == []


def test_begin_without_commit(tmp_path: Path) -> None:
    sql = "-- UP\nBEGIN;\nCREATE TABLE a (id bigint);\n-- DOWN\nBEGIN;\nDROP TABLE a;\nROLLBACK;\n"
    found = lint_findings(sql, "unclosed-transaction", tmp_path, transaction="none")
    assert [(f.rule, f.line, f.section) for f in found] == [("unclosed-transaction", 2, "up")]


def test_rollback_in_wrapped_file_says_the_work_is_discarded(tmp_path: Path) -> None:
    [f] = lint_findings(
        "CREATE TABLE a (id bigint);\nROLLBACK;\n", "commit-in-wrapped-file", tmp_path
    )
    assert f.line == 2 and "discards" in f.message


# ---------------------------------------------------------------- re-runnable files


NO_TX = "-- +goose Up\n-- +goose NO TRANSACTION\n"


def test_robust_statements_only_matter_without_a_transaction(tmp_path: Path) -> None:
    body = (
        "ALTER TABLE users ADD COLUMN locale text;\n"
        "CREATE INDEX CONCURRENTLY users_locale_idx ON users (locale);\n"
    )
    assert lines(NO_TX + body, "prefer-robust-statements", tmp_path) == [
        ("prefer-robust-statements", 3),
        ("prefer-robust-statements", 4),
    ]
    assert lines("-- +goose Up\n" + body, "prefer-robust-statements", tmp_path / "tx") == []


def test_robust_forms_pass(tmp_path: Path) -> None:
    body = (
        "SET lock_timeout = '2s';\n"
        "CREATE TABLE IF NOT EXISTS a (id bigint);\n"
        "ALTER TABLE users ADD COLUMN IF NOT EXISTS locale text;\n"
        "ALTER TABLE users DROP CONSTRAINT IF EXISTS users_locale_check;\n"
        "ALTER TABLE users ADD CONSTRAINT users_locale_check CHECK (locale <> '') NOT VALID;\n"
        "DROP INDEX CONCURRENTLY IF EXISTS users_locale_idx;\n"
        "CREATE INDEX CONCURRENTLY users_locale_idx ON users (locale);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_tz_idx ON users (tz);\n"
        "DROP TABLE IF EXISTS old;\n"
    )
    assert lines(NO_TX + body, "prefer-robust-statements", tmp_path) == []


def test_single_statement_file_cannot_half_apply(tmp_path: Path) -> None:
    sql = NO_TX + (
        "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY users_locale_idx ON users (locale);\n"
    )
    assert lines(sql, "prefer-robust-statements", tmp_path) == []


def test_statements_in_the_files_own_transaction_are_atomic(tmp_path: Path) -> None:
    body = (
        "BEGIN;\n"
        "CREATE TABLE a (id bigint);\n"
        "ALTER TABLE users ADD COLUMN b text;\n"
        "COMMIT;\n"
        "DROP TABLE c;\n"
    )
    assert lines(NO_TX + body, "prefer-robust-statements", tmp_path) == [
        ("prefer-robust-statements", 7)
    ]


def test_if_not_exists_on_concurrent_index_is_opt_in_info(tmp_path: Path) -> None:
    sql = NO_TX + "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_tz_idx ON users (tz);\n"
    found = lint_findings(
        sql, None, tmp_path / "x", extend_select=["concurrent-index-if-not-exists"]
    )
    mine = [f for f in found if f.rule == "concurrent-index-if-not-exists"]
    assert [(f.line, f.severity) for f in mine] == [(3, "info")]
    default = lint_findings(sql, None, tmp_path / "d")
    assert "concurrent-index-if-not-exists" not in {f.rule for f in default}


# ---------------------------------------------------------------- types and identifiers


def test_int_members_of_a_composite_key_that_generate_nothing(tmp_path: Path) -> None:
    # nakama's groups: PRIMARY KEY (disable_time, lang_tag, edge_count, id), edge_count a count
    sql = (
        "CREATE TABLE g (PRIMARY KEY (t, edge_count, id), id uuid, edge_count int, t timestamptz);\n"
        "CREATE TABLE h (n int GENERATED ALWAYS AS IDENTITY, k text, PRIMARY KEY (k, n));\n"
    )
    assert lines(sql, "prefer-bigint-keys", tmp_path) == [("prefer-bigint-keys", 2)]


def test_int_keys(tmp_path: Path) -> None:
    sql = (
        "CREATE TABLE a (id integer PRIMARY KEY);\n"
        "CREATE TABLE b (id smallint, PRIMARY KEY (id));\n"
        # a_id matches a.id: fine
        "CREATE TABLE c (id bigint PRIMARY KEY, a_id integer REFERENCES a (id));\n"
        "CREATE TABLE d (id bigint PRIMARY KEY, c_id integer REFERENCES c (id));\n"  # int -> bigint
        "CREATE TABLE e (id bigint PRIMARY KEY, c_id int, FOREIGN KEY (c_id) REFERENCES c);\n"
        "CREATE TABLE f (id serial PRIMARY KEY, n integer);\n"  # serial: serial-column's business
    )
    assert lines(sql, "prefer-bigint-keys", tmp_path) == [
        ("prefer-bigint-keys", 1),
        ("prefer-bigint-keys", 2),
        ("prefer-bigint-keys", 4),
        ("prefer-bigint-keys", 5),
    ]
    # squawk's scope: every integer column (n of f), foreign keys that match stay quiet (c)
    every = lint_findings(
        sql + "ALTER TABLE a ADD COLUMN qty smallint;\n",
        "prefer-bigint-keys",
        tmp_path / "all",
        rules={"prefer-bigint-keys": {"all-integer-columns": True}},
    )
    assert [(f.rule, f.line) for f in every] == [
        ("prefer-bigint-keys", 1),
        ("prefer-bigint-keys", 2),
        ("prefer-bigint-keys", 4),
        ("prefer-bigint-keys", 5),
        ("prefer-bigint-keys", 6),
        ("prefer-bigint-keys", 7),
    ]


def test_json_columns(tmp_path: Path) -> None:
    sql = (
        "CREATE TABLE a (id bigint, doc json, ok jsonb, arr json[]);\n"
        "ALTER TABLE a ADD COLUMN extra json;\n"
        "ALTER TABLE a ALTER COLUMN ok TYPE json;\n"
    )
    found = lint_findings(sql, "prefer-jsonb", tmp_path)
    assert [(f.line, f.message.split(" is ")[0]) for f in found] == [
        (1, "column a.doc"),
        (1, "column a.arr"),
        (2, "column a.extra"),
        (3, "column a.ok"),
    ]


def test_identifier_length_is_in_bytes(tmp_path: Path) -> None:
    ascii_63 = "a" * 63
    accented_32 = "é" * 32  # 64 bytes in UTF-8
    sql = (
        f"CREATE TABLE {ascii_63} (id bigint);\n"
        f'CREATE TABLE "{accented_32}" (id bigint);\n'
        f"CREATE INDEX {'i' * 64} ON t (x);\n"
    )
    found = lint_findings(sql, "identifier-too-long", tmp_path)
    assert [(f.line, f.column) for f in found] == [(2, 14), (3, 14)]
    assert "64 bytes" in found[0].message


def test_long_identifiers_the_fewest_characters_can_make(tmp_path: Path) -> None:
    """The rule scans only statements with a run long enough for such a name: sixteen 4-byte
    characters, or a quoted name written mostly as doubled quotes, must still be found."""
    emoji_16 = "\N{GRINNING FACE}" * 16  # 64 bytes
    quotes_64 = "a" + '"' * 63  # 64 characters, written `"a""""..."`: no long unquoted run
    written = quotes_64.replace('"', '""')
    sql = (
        f'CREATE TABLE "{emoji_16[:-1]}" (id bigint);\n'  # 60 bytes: fine
        f'CREATE TABLE "{emoji_16}" (id bigint);\n'
        f'CREATE TABLE "{written}" (id bigint);\n'
    )
    found = lint_findings(sql, "identifier-too-long", tmp_path)
    assert [(f.line, f.column) for f in found] == [(2, 14), (3, 14)]
    assert [m for f in found for m in ("64 bytes",) if m in f.message] == ["64 bytes"] * 2


def test_quoted_identifiers(tmp_path: Path) -> None:
    sql = (
        'CREATE TABLE "Order" ("userId" bigint, "user" text, "plain" int, "user" text);\n'
        'SELECT "Order".* FROM "Order";\n'
    )
    found = lint_findings(sql, "quoted-identifier", tmp_path)
    assert [(f.line, f.column) for f in found] == [(1, 14), (1, 23), (1, 40)]
    assert all(f.severity == "info" for f in found)


def test_auto_mode_wraps_files_without_non_transactional_statements(tmp_path: Path) -> None:
    wrapped = "CREATE TABLE a (id bigint);\nCOMMIT;\n"
    assert lines(wrapped, TX, tmp_path / "w", transaction="auto") == [("commit-in-wrapped-file", 2)]
    autocommit = (
        "BEGIN;\nCREATE TABLE a (id bigint);\nCOMMIT;\n"
        "CREATE INDEX CONCURRENTLY a_id_idx ON a (id);\n"
    )
    assert lines(autocommit, TX, tmp_path / "a", transaction="auto") == []


# ---------------------------------------------------------------- runner fidelity (issue 13)


def test_commit_then_begin_reopens_the_runners_transaction(tmp_path: Path) -> None:
    # nakama: COMMIT; CREATE INDEX CONCURRENTLY ...; BEGIN; inside a sql-migrate file
    sql = (
        "-- +migrate Up\n"
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
        "COMMIT;\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_idx ON users (name);\n"
        "BEGIN;\n"
        "-- +migrate Down\n"
        "ALTER TABLE users ADD COLUMN role smallint;\n"
        "COMMIT;\n"
        "BEGIN;\n"
        "UPDATE users SET role = 1;\n"
    )
    found = lint_findings(sql, [*TX, "concurrently-in-transaction"], tmp_path)
    assert [(f.rule, f.line) for f in found] == [
        ("commit-in-wrapped-file", 3),
        ("commit-in-wrapped-file", 8),
    ]
    assert "BEGIN after it opens a new transaction" in found[0].message


def test_begin_after_commit_still_nested_when_a_transaction_is_open(tmp_path: Path) -> None:
    sql = "-- +migrate Up\nCOMMIT;\nBEGIN;\nSELECT 1;\nBEGIN;\nSELECT 2;\n"
    assert lines(sql, "nested-transaction", tmp_path) == [("nested-transaction", 5)]


def test_pop_postgres_and_generic_files_are_one_migration(tmp_path: Path) -> None:
    sql = (
        "-- file: 20150100000001000000_networks.postgres.up.sql\n"
        "CREATE TABLE networks (id uuid PRIMARY KEY);\n"
        "-- file: 20150100000001000000_networks.cockroach.up.sql\n"
        "CREATE TABLE networks (id UUID PRIMARY KEY);\n"
        "-- file: 20150100000001000000_networks.mysql.up.sql\n"
        "CREATE TABLE networks (id CHAR(36) PRIMARY KEY);\n"
        "-- file: 20150100000001000000_networks.down.sql\n"
        "DROP TABLE networks;\n"
        "-- file: 20220420102701000000_metadata.up.sql\n"
        "ALTER TABLE networks ADD COLUMN meta jsonb;\n"
        "-- file: 20220420102701000000_metadata.postgres.up.sql\n"
        "ALTER TABLE networks ADD COLUMN meta jsonb;\n"
        "-- file: 20220420102701000000_metadata.down.sql\n"
        "ALTER TABLE networks DROP COLUMN meta;\n"
    )
    rules = ["duplicate-version", "missing-down-section", "down-does-not-revert"]
    assert lines(sql, rules, tmp_path) == []


def test_pop_autocommit_files_run_without_a_transaction(tmp_path: Path) -> None:
    sql = (
        "-- file: 1_t.up.sql\nCREATE TABLE t (id bigint);\n"
        "-- file: 2_idx.autocommit.up.sql\nCREATE INDEX CONCURRENTLY t_id_idx ON t (id);\n"
        "-- file: 3_idx.postgres.up.sql\nCREATE INDEX CONCURRENTLY t_id2_idx ON t (id);\n"
    )
    found = lint_findings(sql, "concurrently-in-transaction", tmp_path)
    assert [f.path.rsplit("/", 1)[-1] for f in found] == ["3_idx.postgres.up.sql"]


def test_sql_migrate_files_sharing_a_timestamp_are_not_duplicates(tmp_path: Path) -> None:
    body = "-- +migrate Up\nSELECT 1;\n-- +migrate Down\nSELECT 1;\n"
    sql = f"-- file: 20230222172540-uid-1.sql\n{body}-- file: 20230222172540-uid-2.sql\n{body}"
    assert lines(sql, "duplicate-version", tmp_path) == []
    goose = body.replace("+migrate", "+goose")
    twice = f"-- file: 20230222172540_a.sql\n{goose}-- file: 20230222172540_b.sql\n{goose}"
    assert lines(twice, "duplicate-version", tmp_path / "goose") == [
        ("duplicate-version", 1),
        ("duplicate-version", 1),
    ]


def test_golang_migrate_typo_in_a_down_name_is_not_a_duplicate(tmp_path: Path) -> None:
    sql = (
        "-- file: 1554469235_add_new_inputs_to_jobs.up.sql\nALTER TABLE jobs ADD a int;\n"
        "-- file: 1554469235_add_new_inputs_to_job.down.sql\nALTER TABLE jobs DROP a;\n"
    )
    assert lines(sql, ["duplicate-version", "missing-down-section"], tmp_path) == []


def test_flyway_runs_a_concurrent_index_outside_a_transaction(tmp_path: Path) -> None:
    sql = (
        "-- file: V1__t.sql\nCREATE TABLE t (id bigint);\n"
        "-- file: V2__idx.sql\nCREATE INDEX CONCURRENTLY t_id_idx ON t (id);\n"
    )
    assert lines(sql, "concurrently-in-transaction", tmp_path) == []
    goose = "-- +goose Up\nCREATE INDEX CONCURRENTLY t_id_idx ON t (id);\n"
    assert lines(goose, "concurrently-in-transaction", tmp_path / "goose") == [
        ("concurrently-in-transaction", 2)
    ]


def test_flyway_execute_in_transaction_false(tmp_path: Path) -> None:
    sql = "-- file: V1__t.sql\nCREATE TABLE t (id bigint);\nCOMMIT;\n"
    assert lines(sql, "commit-in-wrapped-file", tmp_path) == [("commit-in-wrapped-file", 2)]
    conf = tmp_path / "off" / "migrations" / "V1__t.sql.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("executeInTransaction=false\n")
    assert lines(sql, "commit-in-wrapped-file", tmp_path / "off") == []


def test_flyway_repeatable_scripts_are_linted_after_the_versioned_ones(tmp_path: Path) -> None:
    sql = (
        "-- file: R__index.sql\nCREATE INDEX t_v_idx ON t (v);\n"
        "-- file: V2__t.sql\nCREATE TABLE t (id bigint PRIMARY KEY, v text);\n"
    )
    found = lint_findings(sql, "require-concurrent-index", tmp_path)
    # after V2 created t, t is not new to R__index: its index is built without CONCURRENTLY
    assert [(f.path.rsplit("/", 1)[-1], f.line) for f in found] == [("R__index.sql", 1)]
