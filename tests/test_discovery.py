"""Every migration convention is detected and split into UP and DOWN at the right places."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pgpreflight.linter.discovery import discover
from pgpreflight.linter.engine import lint
from pgpreflight.linter.errors import InputError

from tests.helpers import make_config


def _write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body)
    return root


def _sql(section) -> list[str]:
    return [s.text for s in section.statements] if section else []


@pytest.mark.parametrize(
    ("convention", "body"),
    [
        ("updown", "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n"),
        ("updown", "-- up: create a\nCREATE TABLE a (id int);\n--Down:\nDROP TABLE a;\n"),
        ("dbmate", "-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\nDROP TABLE a;\n"),
        ("goose", "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n"),
        (
            "sql-migrate",
            "-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE a;\n",
        ),
    ],
)
def test_marker_conventions(tmp_path: Path, convention: str, body: str) -> None:
    _write(tmp_path, {"202401011200__create_a.sql": body})
    [m] = discover([tmp_path])
    assert m.convention == convention
    assert m.version == "202401011200" and m.name == "create_a"
    assert _sql(m.up) == ["CREATE TABLE a (id int)"]
    assert _sql(m.down) == ["DROP TABLE a"]
    assert m.up.statements[0].line == 2 and m.up.statements[0].column == 1
    assert m.down.statements[0].section == "down"


def test_update_comment_is_not_an_up_marker(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {"202401011200__x.sql": "-- Update the users table\nALTER TABLE users ADD c int;\n"},
    )
    [m] = discover([tmp_path])
    assert m.convention == "plain" and m.down is None
    assert _sql(m.up) == ["ALTER TABLE users ADD c int"]


def test_goose_statement_blocks_and_no_transaction(tmp_path: Path) -> None:
    body = (
        "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\n"
        "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql;\n"
        "-- +goose StatementEnd\nCREATE INDEX CONCURRENTLY i ON t (c);\n"
        "-- +goose Down\nDROP INDEX CONCURRENTLY i;\nDROP FUNCTION f();\n"
    )
    _write(tmp_path, {"00002_fn.sql": body})
    [m] = discover([tmp_path])
    assert m.convention == "goose" and not m.in_transaction
    assert len(m.up.statements) == 2 and m.up.statements[0].line == 4
    assert len(m.down.statements) == 2 and m.down.statements[1].line == 9
    assert m.version == "00002" and m.name == "fn"


def test_golang_migrate_pairs(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "000001_create_users.up.sql": "CREATE TABLE users (id int);\n",
            "000001_create_users.down.sql": "DROP TABLE users;\n",
            "000002_add_email.up.sql": "\nALTER TABLE users ADD email text;\n",
        },
    )
    first, second = discover([tmp_path])
    assert (
        first.convention == "golang-migrate"
        and first.version == "000001"
        and first.name == "create_users"
    )
    assert _sql(first.down) == ["DROP TABLE users"]
    assert first.down.statements[0].source.path.name == "000001_create_users.down.sql"
    assert second.down is None and second.up.statements[0].line == 2


def test_directory_pairs_diesel_and_metadata(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "2023-01-01-000000_create_users/up.sql": "CREATE TABLE users (id int);",
            "2023-01-01-000000_create_users/down.sql": "DROP TABLE users;",
            "2023-02-01-000000_idx/up.sql": "CREATE INDEX CONCURRENTLY i ON users (id);",
            "2023-02-01-000000_idx/down.sql": "DROP INDEX CONCURRENTLY i;",
            "2023-02-01-000000_idx/metadata.toml": "run_in_transaction = false\n",
        },
    )
    a, b = discover([tmp_path])
    assert (a.convention, a.version, a.name) == ("dir-pair", "2023-01-01-000000", "create_users")
    assert a.in_transaction and not b.in_transaction
    assert _sql(b.down) == ["DROP INDEX CONCURRENTLY i"]


def test_flyway_with_undo(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "V1__init.sql": "CREATE TABLE a (id int);",
            "U1__init.sql": "DROP TABLE a;",
            "V1.10__later.sql": "CREATE TABLE c (id int);",
            "V1.2__more.sql": "CREATE TABLE b (id int);",
            "R__views.sql": "CREATE OR REPLACE VIEW v AS SELECT 1;",
        },
    )
    ms = discover([tmp_path])
    assert [m.id for m in ms] == ["1__init", "1.2__more", "1.10__later", "R__views"]
    assert ms[0].convention == "flyway" and _sql(ms[0].down) == ["DROP TABLE a"]
    assert ms[1].down is None
    assert ms[3].repeatable and _sql(ms[3].up) == ["CREATE OR REPLACE VIEW v AS SELECT 1"]


def test_order_by_version_not_name(tmp_path: Path) -> None:
    _write(tmp_path, {"10_b.sql": "SELECT 1;", "9_a.sql": "SELECT 1;", "100_c.sql": "SELECT 1;"})
    assert [m.version for m in discover([tmp_path])] == ["9", "10", "100"]


def test_positions_after_multibyte_text(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "202401011200__x.sql": "-- UP: criação\nSELECT 'ação';  CREATE TABLE é (id int);\n-- DOWN\nDROP TABLE é;\n"
        },
    )
    [m] = discover([tmp_path])
    second = m.up.statements[1]
    assert (second.line, second.column) == (2, 17)
    assert second.text == "CREATE TABLE é (id int)"


def test_syntax_error_does_not_hide_other_statements(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "202401011200__x.sql": "-- UP\nCREATE TABLE a (id int);\nCREAT TABLE b (id int);\nCREATE TABLE c (id int);\n-- DOWN\nDROP TABLE c;\n"
        },
    )
    [m] = discover([tmp_path])
    assert _sql(m.up) == ["CREATE TABLE a (id int)", "CREATE TABLE c (id int)"]
    [err] = m.up.syntax_errors
    assert "CREAT" in err.message and err.source.lines.position(err.offset) == (3, 1)


def test_unterminated_string_reported_and_prefix_parsed(tmp_path: Path) -> None:
    _write(tmp_path, {"202401011200__x.sql": "-- UP\nCREATE TABLE a (id int);\nSELECT 'oops;\n"})
    [m] = discover([tmp_path])
    assert _sql(m.up) == ["CREATE TABLE a (id int)"]
    [err] = m.up.syntax_errors
    assert "unterminated" in err.message
    assert err.source.lines.position(err.offset) == (3, 8)


def test_binary_and_invalid_utf8_are_problems_not_crashes(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "202401011200__bin.sql": b"\x00\x01\x02binary",
            "202401011201__latin.sql": "-- UP\nSELECT 'S\xe3o';\n".encode("latin-1"),
        },
    )
    a, b = discover([tmp_path])
    assert [p.kind for p in a.problems] == ["binary"]
    assert [p.kind for p in b.problems] == ["encoding"]
    assert "0xe3" in b.problems[0].message


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        discover([tmp_path / "nope"])


def test_psql_meta_commands_are_blanked_and_reported(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {"202401011200__x.sql": "-- UP\n\\set ON_ERROR_STOP on\nCREATE TABLE a (id int);\n"},
    )
    [m] = discover([tmp_path])
    assert _sql(m.up) == ["CREATE TABLE a (id int)"] and not m.up.syntax_errors
    assert [p.kind for p in m.problems] == ["meta-command"]


def test_begin_commit_are_statements(tmp_path: Path) -> None:
    from pglast import ast

    _write(tmp_path, {"202401011200__x.sql": "-- UP\nBEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n"})
    [m] = discover([tmp_path])
    assert [type(s.node) for s in m.up.statements] == [
        ast.TransactionStmt,
        ast.CreateStmt,
        ast.TransactionStmt,
    ]


def test_meta_command_in_a_down_file_is_reported(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "000001_a.up.sql": "CREATE TABLE a (id int);\n",
            "000001_a.down.sql": "\\set x 1\nDROP TABLE a;\n",
        },
    )
    [m] = discover([tmp_path])
    [problem] = m.problems
    assert (problem.kind, problem.source.path.name, problem.offset) == (
        "meta-command",
        "000001_a.down.sql",
        0,
    )
    assert _sql(m.down) == ["DROP TABLE a"]


# ---------------------------------------------------------------- runner fidelity (issue 13)


def test_diesel_strips_dashes_and_compares_strings(tmp_path: Path) -> None:
    # crates.io: dashed versions came before the 2014 ones, and diesel's newer 18-digit
    # `-0000` versions interleave by date instead of all sorting last.
    for folder in (
        "00000000000000_diesel_initial_setup",
        "2017-08-31-230457_invitations",
        "20140924113530_dumped_migration_1",
        "2025-11-19-091444-0000_trustpub",
        "2026-01-20-162913_oauth",
    ):
        _write(tmp_path, {f"{folder}/up.sql": "SELECT 1;", f"{folder}/down.sql": "SELECT 1;"})
    assert [m.version for m in discover([tmp_path])] == [
        "00000000000000",
        "20140924113530",
        "2017-08-31-230457",
        "2025-11-19-091444-0000",
        "2026-01-20-162913",
    ]


def test_diesel_ignores_loose_files_beside_its_folders(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "2017-08-31-230457_a/up.sql": "SELECT 1;",
            "2017-08-31-230457_a/down.sql": "SELECT 1;",
            "data_oauth_github.sql": "INSERT INTO t SELECT 1;",
        },
    )
    assert [m.id for m in discover([tmp_path])] == ["2017-08-31-230457__a"]


def test_dashed_single_file_versions_are_one_number(tmp_path: Path) -> None:
    _write(tmp_path, {"2017-08-31-230457_b.sql": "SELECT 1;", "20140924113530_a.sql": "SELECT 1;"})
    assert [m.name for m in discover([tmp_path])] == ["a", "b"]


POP = {
    "1_networks.postgres.up.sql": "CREATE TABLE networks (id uuid);",
    "1_networks.postgres.down.sql": "DROP TABLE networks;",
    "1_networks.cockroach.up.sql": "CREATE TABLE networks (id UUID) -- crdb;",
    "1_networks.mysql.up.sql": "CREATE TABLE networks (id CHAR(36));",
    "1_networks.sqlite3.up.sql": "CREATE TABLE networks (id TEXT);",
    "2_tokens.up.sql": "CREATE TABLE generic (id int);",
    "2_tokens.postgres.up.sql": "CREATE TABLE tokens (id int);",
    "2_tokens.down.sql": "DROP TABLE tokens;",
    "2_tokens.sqlite3.down.sql": "DROP TABLE tokens;",
    "3_idx.autocommit.up.sql": "CREATE INDEX CONCURRENTLY i ON tokens (id);",
    "3_idx.autocommit.down.sql": "DROP INDEX CONCURRENTLY i;",
    "4_only_mysql.mysql.up.sql": "SELECT 1;",
}


def test_pop_runs_postgres_files_and_pairs_them_with_generic_downs(tmp_path: Path) -> None:
    _write(tmp_path, POP)
    ms = discover([tmp_path])
    assert [(m.version, m.name, m.convention) for m in ms] == [
        ("1", "networks", "pop"),
        ("2", "tokens", "pop"),
        ("3", "idx", "pop"),
    ]
    one, two, three = ms
    assert [s.path.name for s in one.sources] == [
        "1_networks.postgres.up.sql",
        "1_networks.postgres.down.sql",
    ]
    assert _sql(two.up) == ["CREATE TABLE tokens (id int)"]  # .postgres replaces the generic
    assert two.down is not None and two.down.source.path.name == "2_tokens.down.sql"
    assert one.in_transaction and two.in_transaction and not three.in_transaction


def test_golang_migrate_pairs_by_version_not_name(tmp_path: Path) -> None:
    # concourse: `..._add_new_inputs_to_jobs.up.sql` with `..._add_new_inputs_to_job.down.sql`
    _write(
        tmp_path,
        {
            "1554469235_add_new_inputs_to_jobs.up.sql": "ALTER TABLE jobs ADD a int;",
            "1554469235_add_new_inputs_to_job.down.sql": "ALTER TABLE jobs DROP a;",
        },
    )
    [m] = discover([tmp_path])
    assert (m.version, m.name) == ("1554469235", "add_new_inputs_to_jobs")
    assert _sql(m.down) == ["ALTER TABLE jobs DROP a"]


def test_two_golang_migrate_migrations_on_one_version_stay_two(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "5_job_pauses.up.sql": "SELECT 1;",
            "5_job_pauses.down.sql": "SELECT 2;",
            "5_pipeline_pauses.up.sql": "SELECT 3;",
            "5_pipeline_pauses.down.sql": "SELECT 4;",
        },
    )
    ms = discover([tmp_path])
    assert [(m.name, _sql(m.down)) for m in ms] == [
        ("job_pauses", ["SELECT 2"]),
        ("pipeline_pauses", ["SELECT 4"]),
    ]


def test_sql_migrate_identifies_migrations_by_file_name(tmp_path: Path) -> None:
    body = "-- +migrate Up\nSELECT 1;\n-- +migrate Down\nSELECT 2;\n"
    _write(tmp_path, {"20230222172540-uid-2.sql": body, "20230222172540-uid-1.sql": body})
    a, b = discover([tmp_path])
    assert [a.name, b.name] == ["uid-1", "uid-2"]
    assert a.recorded_as != b.recorded_as


def test_flyway_script_config_turns_the_transaction_off(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "V1__a.sql": "CREATE TABLE a (id int);",
            "V2__b.sql": "VACUUM a;",
            "V2__b.sql.conf": "# per-script config\nexecuteInTransaction=false\n",
            "R__c.sql": "CREATE INDEX CONCURRENTLY i ON a (id);",
            "R__c.sql.conf": "executeInTransaction = false\n",
        },
    )
    a, b, c = discover([tmp_path])
    assert a.in_transaction and not b.in_transaction
    assert c.repeatable and not c.in_transaction


def test_two_histories_in_one_folder_are_an_input_error(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "legacy/20190100000001_identities.up.sql": "SELECT 1;",
            "legacy/20190100000002_creds.up.sql": "SELECT 1;",
            "sql/20190100000002_creds.up.sql": "SELECT 2;",
            "sql/20190100000003_more.up.sql": "SELECT 2;",
        },
    )
    with pytest.raises(InputError, match=r"two migration histories.*legacy.* and .*sql"):
        discover([tmp_path])
    assert len(discover([tmp_path / "sql"])) == 2


def test_subfolders_with_distinct_versions_are_one_history(tmp_path: Path) -> None:
    _write(tmp_path, {"2023/V1__a.sql": "SELECT 1;", "2024/V2__b.sql": "SELECT 1;"})
    assert [m.version for m in discover([tmp_path])] == ["1", "2"]


def test_repeatable_migrations_survive_a_saved_result(tmp_path: Path) -> None:
    from pgpreflight.linter.engine import lint
    from pgpreflight.linter.result import RunResult

    from tests.helpers import make_config

    _write(tmp_path / "m", {"V1__a.sql": "SELECT 1;", "R__views.sql": "SELECT 2;"})
    saved = lint([tmp_path / "m"], make_config(tmp_path)).to_dict()
    loaded = RunResult.from_dict(saved)
    assert [m.id for m in loaded.migrations] == ["1__a", "R__views"]


def test_a_v_prefixed_dotted_version_is_the_number(tmp_path: Path) -> None:
    # authelia's own runner: `V0001.Initial_Schema.up.sql`, ordered by the number
    _write(
        tmp_path,
        {
            "V0010.Later.up.sql": "SELECT 10;",
            "V0002.WebAuthn.up.sql": "SELECT 2;",
            "V0002.WebAuthn.down.sql": "SELECT -2;",
        },
    )
    ms = discover([tmp_path])
    assert [(m.version, m.name) for m in ms] == [("0002", "WebAuthn"), ("0010", "Later")]
    assert _sql(ms[0].down) == ["SELECT -2"]


def test_a_prefix_every_pair_file_shares_is_the_projects_scheme(tmp_path: Path) -> None:
    files = {"V0001.Init.up.sql": "SELECT 1;", "V0002.More.up.sql": "SELECT 2;"}
    _write(tmp_path / "same", files)
    _write(tmp_path / "mixed", {**files, "0003_plain.up.sql": "SELECT 3;"})
    config = make_config(tmp_path, select=["invalid-migration-filename"])
    assert lint([tmp_path / "same"], config).findings == []
    mixed = lint([tmp_path / "mixed"], config).findings
    assert sorted(Path(f.path).name for f in mixed) == ["V0001.Init.up.sql", "V0002.More.up.sql"]


def test_pop_go_template_options_are_read_as_names(tmp_path: Path) -> None:
    # supabase auth: pop renders `{{ index .Options "Namespace" }}` before running the file
    body = (
        'CREATE TABLE {{ index .Options "Namespace" }}.users (id int);\n'
        'COMMENT ON TABLE "{{index .Options "Namespace" }}".users IS \'x\';\n'
        "SELECT '{{1,2},{3,4}}'::int[];\n"
        "DO $$ BEGIN\n"
        '  ALTER TABLE {{ index .Options "Namespace" }}.users ADD PRIMARY KEY (id);\n'
        "END $$;\n"
    )
    _write(tmp_path, {"00_init.up.sql": body, "01_plain.up.sql": "SELECT '{{1}}';"})
    templated, plain = discover([tmp_path])
    assert templated.convention == "pop" and plain.convention == "golang-migrate"
    assert templated.up.syntax_errors == []
    create, comment, array, do = templated.up.statements
    assert create.node.relation.schemaname == "namespace"
    assert (comment.line, comment.column) == (2, 1)
    assert comment.node.object[0].sval == "namespace"  # quoted: the same schema
    assert "'{{1,2},{3,4}}'" in array.text
    [alter] = do.nested
    assert (alter.line, alter.column) == (5, 3)


@pytest.mark.parametrize(
    ("convention", "up", "down"),
    [
        ("updown", "-- UP", "-- DOWN"),
        ("goose", "-- +goose Up", "-- +goose Down"),
        ("dbmate", "-- migrate:up", "-- migrate:down"),
    ],
)
def test_markers_of_a_file_with_windows_line_endings(
    tmp_path: Path, convention: str, up: str, down: str
) -> None:
    """A `-- DOWN\\r\\n` line is a marker: read as SQL, DOWN would be linted as part of UP."""
    body = f"-- NO TRANSACTION\r\n{up}\r\nCREATE TABLE a (id int);\r\n{down}\r\nDROP TABLE a;\r\n"
    (m,) = discover([_write(tmp_path, {"202401011200__a.sql": body.encode()})])
    assert m.convention == convention
    assert _sql(m.up) == ["CREATE TABLE a (id int)"] and _sql(m.down) == ["DROP TABLE a"]
    assert m.in_transaction is (convention != "updown")


# concourse's runner runs `NAME.up.go` / `NAME.down.go` Go migrations between its SQL files
# (atc/db/migration/parser.go: a `.go` name is a Go migration, a `.sql` one is sent as SQL).
GO = "package migrations\n"
CONCOURSE = {
    "1_init.up.sql": "CREATE TABLE resources (id int PRIMARY KEY);\n",
    "1_init.down.sql": "DROP TABLE resources;\n",
    "2_add_type.up.go": GO,
    "2_add_type.down.sql": "ALTER TABLE resources DROP COLUMN type;\nSELECT 1;\n",
    "3_users.up.go": GO,
    "3_users.down.go": GO,
    "4_history.up.sql": "ALTER TABLE resources ADD COLUMN h int;\n",
    "4_history.down.go": GO,
    "migrations.go": GO,
}


def test_a_go_migration_is_the_opaque_half_of_its_pair(tmp_path: Path) -> None:
    ms = discover([_write(tmp_path, CONCOURSE)])
    assert [(m.version, m.up.opaque, m.down is not None and m.down.opaque) for m in ms] == [
        ("1", False, False),
        ("2", True, False),
        ("3", True, True),
        ("4", False, True),
    ]
    two = ms[1]
    assert two.up.statements == [] and two.up.has_code  # there, but unreadable: not empty
    assert _sql(two.down) == ["ALTER TABLE resources DROP COLUMN type", "SELECT 1"]
    assert [s.path.name for s in two.sources] == ["2_add_type.up.go", "2_add_type.down.sql"]


def test_rules_judging_up_against_down_stay_silent_on_a_go_half(tmp_path: Path) -> None:
    _write(tmp_path, CONCOURSE)
    rules = [
        "down-does-not-revert",
        "empty-migration",
        "missing-down-section",
        "empty-down-section",
    ]
    result = lint([tmp_path], make_config(tmp_path, select=rules))
    assert result.findings == []


def test_a_go_migration_is_a_gap_in_the_schema_model(tmp_path: Path) -> None:
    from pgpreflight.linter.replay import replay

    ms = discover([_write(tmp_path, CONCOURSE)])
    after = replay(ms, {}).snapshots
    assert [(u.kind, Path(u.location.path).name) for u in after[-1].unmodelled] == [
        ("CodeMigration", "2_add_type.up.go"),
        ("CodeMigration", "3_users.up.go"),
    ]
    assert list(after[1].unmodelled) == []  # before the first Go migration the model knows it all


# goose runs Go migrations (`<version>_<name>.go`, registered with goose.AddMigration...) between
# its SQL files, in version order (hatchet).
GOOSE_GO = {
    "001_init.sql": "-- +goose Up\nCREATE TABLE t (id int);\n-- +goose Down\nDROP TABLE t;\n",
    "002_mirror.go": "package migrations\n\nfunc init() { goose.AddMigrationNoTxContext(up, down) }\n",
    "003_swap.sql": "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n",
    "002_mirror_test.go": "package migrations\n",
    "migrations.go": "package migrations\n",
}


def test_a_goose_go_migration_takes_its_place_in_the_history(tmp_path: Path) -> None:
    ms = discover([_write(tmp_path, GOOSE_GO)])
    assert [(m.version, m.name, m.up.opaque) for m in ms] == [
        ("001", "init", False),
        ("002", "mirror", True),
        ("003", "swap", False),
    ]
    go = ms[1]
    assert go.convention == "goose" and go.down is not None and go.down.opaque
    assert [s.path.name for s in go.sources] == ["002_mirror.go"]


def test_go_files_beside_other_sql_files_are_no_goose_migrations(tmp_path: Path) -> None:
    files = {"001_init.sql": "-- UP\nCREATE TABLE t (id int);\n", "002_mirror.go": GO}
    assert [m.version for m in discover([_write(tmp_path, files)])] == ["001"]


def test_pop_runs_no_go_files(tmp_path: Path) -> None:
    _write(tmp_path, {**POP, "4_x.up.go": GO})
    assert [m.version for m in discover([tmp_path])] == ["1", "2", "3"]


@pytest.mark.parametrize(
    "given",
    [
        "m/x/up.sql",
        "./m/../m/a.sql",
        "../{here}/m/a.sql",
        "{abs}/m/a.sql",
        "{abs}x/a.sql",
        "{abs}",
        "{abs}/./m//b.sql",
        "/tmp/x.sql",
        "a//b/./c.sql",
        "..x/a.sql",
    ],
)
def test_display_path_is_the_path_relative_to_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """What reports show for a path: `os.path.relpath` from the cwd, found without it where it
    can be."""
    from pgpreflight.linter.discovery import display_path

    monkeypatch.chdir(tmp_path)
    path = Path(given.format(here=tmp_path.name, abs=tmp_path))
    assert display_path(path) == os.path.relpath(path, tmp_path)


def test_a_goose_go_migration_without_a_transaction(tmp_path: Path) -> None:
    files = {
        **GOOSE_GO,
        "004_tx.go": "package m\nfunc init() { goose.AddMigrationContext(u, d) }\n",
    }
    ms = discover([_write(tmp_path, files)])
    assert [(m.version, m.in_transaction) for m in ms if m.up.opaque] == [
        ("002", False),
        ("004", True),
    ]


def test_split_groups_join_files_of_one_stamp_name_and_folder(tmp_path: Path) -> None:
    # kratos: one pop migration per statement. Files join a group only with the same 14-digit
    # stamp, the same name and the same folder; a lone file and a plain version are no group.
    from pgpreflight.linter.migration import split_group, split_groups

    files = {
        "a/20200607165100000001_settings.up.sql": "SELECT 2;",
        "a/20200607165100000000_settings.up.sql": "SELECT 1;",
        "a/20200607165100000002_other.up.sql": "SELECT 3;",
        "a/20200607165199000000_settings.up.sql": "SELECT 4;",
        "a/20200607165199000001_settings.up.sql": "SELECT 5;",
        "b/20200607165100000003_settings.up.sql": "SELECT 6;",
        "a/20200101000000_plain.up.sql": "SELECT 7;",
    }
    root = _write(tmp_path, files)
    history = discover([root / "a", root / "b"], "pop")
    by_file = {m.source.path.name: m for m in history}
    groups = split_groups(history)
    grouped = sorted({tuple(m.source.path.name[:20] for m in g) for g in groups.values()})
    assert grouped == [
        ("20200607165100000000", "20200607165100000001"),
        ("20200607165199000000", "20200607165199000001"),
    ]
    for m in history:  # the one-migration question gives the same answer
        assert split_group(m, history) == groups.get(id(m), [])
    assert split_group(by_file["20200607165100000003_settings.up.sql"], history) == []
    assert split_group(by_file["20200101000000_plain.up.sql"], history) == []
