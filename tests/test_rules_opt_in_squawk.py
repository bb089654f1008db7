"""The opt-in rules matching squawk's ban-duplicate-column-assignments and require-table-schema."""

from __future__ import annotations

from pathlib import Path

from pgpreflight.linter.registry import all_rules

from tests.helpers import lint_findings


def lines(sql: str, rule: str, tmp_path: Path) -> list[int]:
    return [f.line for f in lint_findings(sql, rule, tmp_path)]


def test_both_are_opt_in() -> None:
    rules = all_rules()
    assert rules["duplicate-column-assignment"].opt_in
    assert rules["require-schema-qualified-name"].opt_in


def test_duplicate_column_assignment(tmp_path: Path) -> None:
    sql = (
        "UPDATE t SET a = 1, b = 2 WHERE id = 1;\n"
        "UPDATE t SET a = 1, (b, a) = (2, 3);\n"
        "UPDATE t SET addr.city = 'x', addr.zip = 'y';\n"
        "INSERT INTO t (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 1, a = 2;\n"
        "UPDATE t SET arr[1] = 1, arr[2] = 2;\n"
    )
    assert lines(sql, "duplicate-column-assignment", tmp_path) == [2, 4]


def test_require_schema_qualified_name(tmp_path: Path) -> None:
    sql = (
        "CREATE TABLE public.a (id bigint PRIMARY KEY);\n"
        "CREATE TABLE b (id bigint PRIMARY KEY, a_id bigint REFERENCES public.a);\n"
        "CREATE INDEX ix ON public.a (id);\n"
        "CREATE VIEW public.v AS SELECT * FROM a;\n"  # the query reads: not judged
        "DROP TABLE c;\n"
        "CREATE TEMP TABLE scratch (x int);\n"
        "ALTER TABLE public.a ADD COLUMN b_id bigint REFERENCES b;\n"
    )
    assert lines(sql, "require-schema-qualified-name", tmp_path) == [2, 5, 7]
