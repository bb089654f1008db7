"""Users coming from squawk keep their `-- squawk-ignore rule` comments: each silences the rules of
ours whose EQUIVALENTS name that squawk id, and stale or unknown ones are reported as such."""

from __future__ import annotations

from pathlib import Path

from pgpreflight.linter.registry import all_rules

from tests.helpers import lint_findings

BASE = (
    "-- file: 202401010000__base.sql\n"
    "CREATE TABLE users (id bigint PRIMARY KEY, phone text, name text);\n"
)
CHANGE = "-- file: 202401020000__change.sql\n"
RULES = [
    "drop-column",
    "drop-table",
    "rename-column",
    "nested-transaction",
    "commit-in-wrapped-file",
    "unused-suppression",
    "suppression-without-reason",
    "malformed-suppression",
]


def found(body: str, tmp_path: Path) -> list[tuple[str, int]]:
    return [
        (f.rule, f.line)
        for f in lint_findings(BASE + CHANGE + body, RULES, tmp_path)
        if "change" in f.path
    ]


def test_without_comment_the_rules_fire(tmp_path: Path) -> None:
    assert found("ALTER TABLE users DROP COLUMN phone;\n", tmp_path) == [("drop-column", 1)]


def test_squawk_ignore_above_the_statement(tmp_path: Path) -> None:
    body = (
        "-- squawk-ignore ban-drop-column\n"
        "ALTER TABLE users DROP COLUMN phone;\n"
        "ALTER TABLE users DROP COLUMN name;\n"
    )
    assert found(body, tmp_path) == [("drop-column", 3)]  # covers the next statement only


def test_squawk_ignore_on_the_same_line_needs_no_reason(tmp_path: Path) -> None:
    body = "ALTER TABLE users DROP COLUMN phone; -- squawk-ignore ban-drop-column\n"
    assert found(body, tmp_path) == []


def test_squawk_ignore_file(tmp_path: Path) -> None:
    body = (
        "-- squawk-ignore-file ban-drop-column, renaming-column\nALTER TABLE users DROP COLUMN "
        "phone;\n"
        "ALTER TABLE users RENAME COLUMN name TO full_name;\nDROP TABLE users;\n"
    )
    assert found(body, tmp_path) == [("drop-table", 4)]


def test_one_squawk_id_maps_to_every_rule_that_names_it(tmp_path: Path) -> None:
    mapped = sorted(
        r.id
        for r in all_rules().values()
        if "transaction-nesting" in r.equivalents.get("squawk", ())
    )
    assert mapped == ["commit-in-wrapped-file", "nested-transaction"]
    body = (
        "-- squawk-ignore-file transaction-nesting\nBEGIN;\nCREATE TABLE a (id bigint);\nCOMMIT;\n"
    )
    assert found(body, tmp_path) == []


def test_a_rule_with_several_squawk_ids_is_silenced_by_any(tmp_path: Path) -> None:
    sql = (
        BASE
        + CHANGE
        + (
            "-- squawk-ignore ban-drop-view\n"
            "DROP VIEW v;\n"
            "-- squawk-ignore ban-drop-function\n"
            "DROP FUNCTION f();\n"
            "DROP TYPE t;\n"
        )
    )
    assert [
        (f.rule, f.line)
        for f in lint_findings(sql, ["drop-object", "unused-suppression"], tmp_path)
        if "change" in f.path
    ] == [("drop-object", 5)]


def test_squawk_ignore_does_not_silence_other_rules(tmp_path: Path) -> None:
    body = "-- squawk-ignore ban-drop-column\nDROP TABLE users;\n"
    assert found(body, tmp_path) == [("unused-suppression", 1), ("drop-table", 2)]


def test_stale_and_unknown_squawk_ids_are_reported(tmp_path: Path) -> None:
    body = (
        "-- squawk-ignore renaming-column\nALTER TABLE users DROP COLUMN phone; -- squawk-ignore "
        "ban-drop-column\n"
        "-- squawk-ignore no-such-squawk-rule\nSELECT 1;\n"
    )
    findings = [
        f for f in lint_findings(BASE + CHANGE + body, RULES, tmp_path) if "change" in f.path
    ]
    assert [(f.rule, f.line) for f in findings] == [
        ("unused-suppression", 1),
        ("unused-suppression", 3),
    ]
    assert "squawk-ignore of renaming-column silences nothing" in findings[0].message
    assert "unknown rule 'no-such-squawk-rule'" in findings[1].message


def test_every_squawk_id_we_claim_is_a_real_squawk_rule() -> None:
    """Checked against squawk's documented rule list (docs/sidebars.js of sbdchd/squawk)."""
    squawk_rules = {
        "adding-field-with-default",
        "adding-foreign-key-constraint",
        "adding-not-nullable-field",
        "adding-required-field",
        "adding-serial-primary-key-field",
        "ban-char-field",
        "ban-concurrent-index-creation-in-transaction",
        "ban-drop-column",
        "ban-drop-database",
        "ban-drop-default",
        "ban-drop-function",
        "ban-drop-not-null",
        "ban-drop-table",
        "ban-drop-trigger",
        "ban-drop-type",
        "ban-drop-view",
        "changing-column-type",
        "constraint-missing-not-valid",
        "disallowed-unique-constraint",
        "prefer-bigint-over-int",
        "prefer-bigint-over-smallint",
        "prefer-identity",
        "prefer-robust-stmts",
        "prefer-text-field",
        "prefer-timestamptz",
        "renaming-column",
        "renaming-table",
        "require-concurrent-index-creation",
        "require-concurrent-index-deletion",
        "transaction-nesting",
        "ban-create-domain-with-constraint",
        "ban-alter-domain-with-add-constraint",
        "ban-truncate-cascade",
        "syntax-error",
        "require-timeout-settings",
        "require-lock-timeout",
        "require-statement-timeout",
        "ban-uncommitted-transaction",
        "require-enum-value-ordering",
        "require-table-schema",
        "identifier-too-long",
        "require-concurrent-partition-detach",
        "require-concurrent-reindex",
        "prefer-repack",
        "ban-duplicate-column-assignments",
        "ban-drop-schema",
        "ban-drop-sequence",
        "ban-drop-domain",
        "ban-drop-constraint",
        "ban-drop-generated-expression",
        "renaming-object",
        "ban-set-schema",
        "ban-alter-identity",
        "ban-alter-generated-expression",
        "ban-drop-index",
        "ban-set-default",
        "ban-disable-trigger",
        "ban-replica-identity",
        "ban-drop-policy",
        "ban-revoke",
        "ban-replace-view-function",
        "ban-drop-extension",
        "ban-create-policy",
        "ban-alter-policy-condition",
        "ban-alter-policy-roles",
        "ban-alter-function-options",
        "ban-alter-view-options",
        "ban-alter-role-options",
        "ban-alter-database-options",
        "ban-alter-row-level-security",
        "ban-new-write-restriction",
        "ban-add-enum-value",
        "ban-add-composite-attribute",
        "ban-detach-inheritance",
        "ban-alter-sequence-values",
        "ban-alter-system-options",
        "ban-alter-extension",
    }
    claimed = {sq for r in all_rules().values() for sq in r.equivalents.get("squawk", ())}
    assert claimed <= squawk_rules, sorted(claimed - squawk_rules)


def test_safety_assured_block_silences_every_rule_inside_it(tmp_path: Path) -> None:
    body = (
        "-- safety-assured:start\n"
        "ALTER TABLE users DROP COLUMN phone;\n"
        "DROP TABLE users;\n"
        "-- safety-assured:end\n"
        "ALTER TABLE users DROP COLUMN name;\n"
    )
    assert found(body, tmp_path) == [("drop-column", 5)]


def test_safety_assured_block_unclosed_is_reported_unused_is_not(tmp_path: Path) -> None:
    unclosed = "-- safety-assured:start\nALTER TABLE users DROP COLUMN phone;\n"
    assert found(unclosed, tmp_path / "a") == [("malformed-suppression", 1), ("drop-column", 2)]
    unused = "-- safety-assured:start\nSELECT 1;\n-- safety-assured:end\n"
    assert found(unused, tmp_path / "b") == []  # it may be there for diesel-guard's checks
    stray = "-- safety-assured:end\n"
    assert found(stray, tmp_path / "c") == [("malformed-suppression", 1)]


def test_new_squawk_ids_map_to_the_rules_that_cover_them(tmp_path: Path) -> None:
    squawk = {sq: r.id for r in all_rules().values() for sq in r.equivalents.get("squawk", ())}
    assert squawk["prefer-repack"] == "vacuum-full-or-cluster"
    assert squawk["require-concurrent-partition-detach"] == "require-concurrent-detach"
    assert squawk["require-concurrent-reindex"] == "require-concurrent-reindex"
    assert squawk["require-lock-timeout"] == "require-lock-timeout"
    assert squawk["require-statement-timeout"] == "require-statement-timeout"
    body = "-- squawk-ignore prefer-repack\nVACUUM FULL users;\n"
    assert lint_findings(BASE + CHANGE + body, ["vacuum-full-or-cluster"], tmp_path) == []


def test_every_rule_with_a_squawk_equivalent_says_how_it_differs() -> None:
    missing = [
        r.id
        for r in all_rules().values()
        if r.equivalents.get("squawk") and not r.doc.sections.get("Differences from squawk")
    ]
    assert missing == []
