"""Edge cases of the index rules: foreign-key-without-index, duplicate-index, index-naming,
trigram-index-needs-extension."""

from __future__ import annotations

from pathlib import Path

from pgpreflight.linter.findings import Finding

from tests.helpers import lint_findings


def at(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return [(f.rule, f.line, f.column) for f in findings]


def where(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return [(Path(f.path).name, f.line, f.column) for f in findings]


PARENTS = (
    "CREATE TABLE users (id bigint PRIMARY KEY);\nCREATE TABLE posts (id bigint PRIMARY KEY);\n"
)

# ---------------------------------------------------------------- foreign-key-without-index


def test_fk_reported_at_the_constraint_unless_an_index_leads_with_it(tmp_path: Path) -> None:
    sql = (
        "-- UP\n" + PARENTS + "CREATE TABLE comments (\n"
        "    id bigint PRIMARY KEY,\n"
        "    post_id bigint NOT NULL REFERENCES posts (id),\n"
        "    user_id bigint NOT NULL CONSTRAINT fk_comments_user REFERENCES users (id),\n"
        "    editor_id bigint REFERENCES users (id),\n"
        "    reviewer_id bigint REFERENCES users (id),\n"
        "    UNIQUE (post_id, user_id)\n"
        ");\n"
        "CREATE INDEX idx_comments_editor ON comments (editor_id) WHERE editor_id IS NOT NULL;\n"
        "CREATE INDEX idx_comments_lower ON comments ((reviewer_id + 0));\n"
        "CREATE INDEX idx_comments_recent ON comments (reviewer_id) WHERE id > 1000;\n"
    )
    findings = lint_findings(sql, "foreign-key-without-index", tmp_path)
    # post_id leads the UNIQUE index, user_id is second in it; the partial index that keeps
    # every non-NULL editor_id counts, the expression index and the one that drops some keys
    # (WHERE id > 1000) do not
    assert at(findings) == [
        ("foreign-key-without-index", 7, 29),
        ("foreign-key-without-index", 9, 24),
    ]
    assert findings[0].message == (
        "foreign key comments(user_id) has no index: every delete or key update on users "
        "scans comments"
    )


def test_fk_index_created_in_a_later_migration_counts(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\n"
        + PARENTS
        + "CREATE TABLE comments (id bigint PRIMARY KEY, post_id bigint, user_id bigint);\n"
        "ALTER TABLE comments ADD CONSTRAINT fk_comments_post FOREIGN KEY (post_id) "
        "REFERENCES posts (id),\n"
        "    ADD CONSTRAINT fk_comments_user FOREIGN KEY (user_id) REFERENCES users (id);\n"
        "-- file: 202401020000__b.sql\n"
        "CREATE INDEX CONCURRENTLY idx_comments_post_id ON public.comments (post_id, id);\n"
    )
    findings = lint_findings(sql, "foreign-key-without-index", tmp_path)
    assert where(findings) == [("202401010000__a.sql", 5, 9)]
    assert "comments(user_id)" in findings[0].message


def test_composite_fk_needs_its_columns_leading_in_any_order(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TABLE p (a int, b int, PRIMARY KEY (a, b));\n"
        "CREATE TABLE c (id int PRIMARY KEY, a int, b int, FOREIGN KEY (a, b) REFERENCES p);\n"
        "CREATE TABLE d (id int PRIMARY KEY, a int, b int, FOREIGN KEY (a, b) REFERENCES p);\n"
        "CREATE INDEX idx_c_b_a ON c (b, a);\n"
        "CREATE INDEX idx_d_a ON d (a);\n"
    )
    assert at(lint_findings(sql, "foreign-key-without-index", tmp_path)) == [
        ("foreign-key-without-index", 4, 51)
    ]


def test_fk_dropped_later_or_on_a_dropped_table_is_not_reported(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\n" + PARENTS + "CREATE TABLE a (id bigint PRIMARY KEY,\n"
        "    user_id bigint CONSTRAINT fk_a_user REFERENCES users);\n"
        "CREATE TABLE b (id bigint PRIMARY KEY, user_id bigint REFERENCES users);\n"
        "-- file: 202401020000__b.sql\n"
        "ALTER TABLE a DROP CONSTRAINT fk_a_user;\n"
        "DROP TABLE b;\n"
    )
    assert lint_findings(sql, "foreign-key-without-index", tmp_path) == []


def test_fk_suppressed_with_reason(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        + PARENTS
        + "-- pgpreflight: ignore[foreign-key-without-index] users are never deleted\n"
        "ALTER TABLE posts ADD COLUMN author_id bigint REFERENCES users (id);\n"
    )
    rules = ["foreign-key-without-index", "unused-suppression", "suppression-without-reason"]
    assert lint_findings(sql, rules, tmp_path) == []


# ---------------------------------------------------------------- duplicate-index


def test_duplicate_index_prefix_and_exact(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\n"
        "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int, c text);\n"
        "CREATE INDEX idx_t_a_b ON t (a, b);\n"
        "-- file: 202401020000__b.sql\n"
        "CREATE INDEX idx_t_a ON public.t (a);\n"
        "CREATE INDEX idx_t_a_desc ON t (a DESC);\n"
        "CREATE INDEX idx_t_a_partial ON t (a) WHERE a > 0;\n"
        "CREATE INDEX idx_t_c_hash ON t USING hash (c);\n"
        "CREATE INDEX idx_t_c_hash2 ON t USING hash (c);\n"
        "CREATE UNIQUE INDEX uq_t_a ON t (a);\n"
        "CREATE UNIQUE INDEX uq_t_id ON t (id);\n"
    )
    findings = lint_findings(sql, "duplicate-index", tmp_path)
    assert where(findings) == [
        ("202401020000__b.sql", 1, 1),
        ("202401020000__b.sql", 5, 1),
        ("202401020000__b.sql", 6, 1),
        ("202401020000__b.sql", 7, 1),
    ]
    assert findings[0].message == "index idx_t_a (a) duplicates idx_t_a_b (a, b) on t"
    assert findings[1].message == "index idx_t_c_hash2 (c) duplicates idx_t_c_hash (c) on t"
    # a unique index serves every lookup of the plain one, not the other way round
    assert findings[2].message == "index uq_t_a (a) makes idx_t_a (a) on t redundant"
    assert findings[3].message == "index uq_t_id (id) duplicates t_pkey (id) on t"


def test_new_wider_index_makes_an_older_one_redundant(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\n"
        "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int);\n"
        "CREATE INDEX idx_t_a ON t (a);\n"
        "-- file: 202401020000__b.sql\n"
        "CREATE INDEX idx_t_a_b ON t (a, b);\n"
        "CREATE INDEX idx_t_id_a ON t (id, a);\n"
    )
    findings = lint_findings(sql, "duplicate-index", tmp_path)
    assert where(findings) == [("202401020000__b.sql", 1, 1)]
    assert findings[0].message == "index idx_t_a_b (a, b) makes idx_t_a (a) on t redundant"


def test_replacing_an_index_in_one_migration_is_not_a_duplicate(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\n"
        "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int);\n"
        "CREATE INDEX idx_t_a ON t (a);\n"
        "-- file: 202401020000__b.sql\n"
        "CREATE INDEX idx_t_a_b ON t (a, b);\n"
        "DROP INDEX idx_t_a;\n"
    )
    assert lint_findings(sql, "duplicate-index", tmp_path) == []


# ---------------------------------------------------------------- index-naming


def test_index_naming_defaults_accept_both_styles(tmp_path: Path) -> None:
    sql = (
        "-- UP\n" + PARENTS + "CREATE TABLE orders (\n"
        "    id bigint CONSTRAINT pk_orders PRIMARY KEY,\n"
        "    user_id bigint CONSTRAINT orders_user_id_fkey REFERENCES users,\n"
        "    post_id bigint CONSTRAINT fk_orders_post REFERENCES posts,\n"
        "    total int CONSTRAINT ck_orders_total CHECK (total > 0),\n"
        "    code text CONSTRAINT orders_code_key UNIQUE\n"
        ");\n"
        "CREATE INDEX idx_orders_user_id ON orders (user_id);\n"
        "CREATE INDEX orders_post_id_idx ON orders (post_id);\n"
        "CREATE INDEX ON orders (total);\n"
        "CREATE UNIQUE INDEX uq_orders_lower_code ON orders (lower(code));\n"
        "CREATE INDEX idx_orders_code_trgm ON orders USING gin (code gin_trgm_ops);\n"
    )
    assert lint_findings(sql, "index-naming", tmp_path) == []


def test_index_naming_reports_names_off_the_convention(tmp_path: Path) -> None:
    sql = (
        "-- UP\n" + PARENTS + "CREATE TABLE orders (\n"
        "    id bigint CONSTRAINT orders_primary PRIMARY KEY,\n"
        "    user_id bigint CONSTRAINT user_ref REFERENCES users\n"
        ");\n"
        "CREATE INDEX orders_by_user ON public.orders (user_id);\n"
        "CREATE INDEX idx_users_user_id ON orders (user_id);\n"
        "ALTER TABLE orders ADD CONSTRAINT positive CHECK (id > 0);\n"
    )
    findings = lint_findings(sql, "index-naming", tmp_path)
    assert at(findings) == [
        ("index-naming", 5, 15),
        ("index-naming", 6, 20),
        ("index-naming", 8, 1),
        ("index-naming", 9, 1),
        ("index-naming", 10, 24),
    ]
    assert findings[2].message == (
        "index orders_by_user on orders does not follow the naming convention (idx_orders_user_id*)"
    )
    assert findings[1].message == (
        "foreign key user_ref on orders does not follow the naming convention (fk_orders_*)"
    )


def test_index_naming_configured_patterns(tmp_path: Path) -> None:
    sql = (
        "-- UP\nCREATE INDEX orders_user_id_ix ON orders (user_id);\n"
        "CREATE INDEX idx_orders_user_id ON orders (user_id);\n"
    )
    options = {"index-naming": {"index-patterns": ["<table>_<columns>_ix"]}}
    assert at(lint_findings(sql, "index-naming", tmp_path, rules=options)) == [
        ("index-naming", 3, 1)
    ]


# ---------------------------------------------------------------- trigram-index-needs-extension


def test_trigram_extension_from_an_earlier_migration_or_earlier_statement(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\n"
        "CREATE INDEX idx_a_name_trgm ON a USING gin (name gin_trgm_ops);\n"
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
        "CREATE INDEX idx_b_name_trgm ON b USING gist (name gist_trgm_ops);\n"
        "-- file: 202401020000__b.sql\n"
        "CREATE INDEX idx_c_name_trgm ON public.c USING gin (name public.gin_trgm_ops);\n"
    )
    findings = lint_findings(sql, "trigram-index-needs-extension", tmp_path)
    assert where(findings) == [("202401010000__a.sql", 1, 1)]
    assert "gin_trgm_ops" in findings[0].message


def test_trigram_extension_dropped_before_or_declared_installed(tmp_path: Path) -> None:
    sql = (
        "-- file: 202401010000__a.sql\n"
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
        "-- file: 202401020000__b.sql\n"
        "DROP EXTENSION pg_trgm;\n"
        "-- file: 202401030000__c.sql\n"
        "CREATE INDEX idx_c_name_trgm ON c USING gin (name gin_trgm_ops);\n"
    )
    findings = lint_findings(sql, "trigram-index-needs-extension", tmp_path)
    assert where(findings) == [("202401030000__c.sql", 1, 1)]
    options = {"trigram-index-needs-extension": {"installed": ["pg_trgm"]}}
    assert lint_findings(sql, "trigram-index-needs-extension", tmp_path / "b", rules=options) == []


def test_duplicate_index_reports_once_naming_the_closest_twin(tmp_path: Path) -> None:
    sql = (
        "-- UP\n"
        "CREATE TABLE t (id bigint PRIMARY KEY, a int, b int, c int);\n"
        "CREATE INDEX idx_t_a_b_c ON t (a, b, c);\n"
        "CREATE INDEX idx_t_a_c ON t (a, c);\n"
        "CREATE INDEX idx_t_a ON t (a);\n"
    )
    findings = lint_findings(sql, "duplicate-index", tmp_path)
    assert [(f.line, f.message) for f in findings] == [
        (5, "index idx_t_a (a) duplicates idx_t_a_c (a, c) and 1 more on t")
    ]


def test_fk_partial_index_on_non_null_keys_counts_for_composite_keys(tmp_path: Path) -> None:
    sql = (
        "-- UP\nCREATE TABLE p (a int, b int, PRIMARY KEY (a, b));\n"
        "CREATE TABLE c (id bigint PRIMARY KEY, a int, b int, FOREIGN KEY (a, b) REFERENCES p);\n"
        "CREATE INDEX ix ON c (b, a) WHERE a IS NOT NULL AND b IS NOT NULL;\n"
    )
    assert lint_findings(sql, "foreign-key-without-index", tmp_path / "ok") == []
    partial = sql.replace("AND b IS NOT NULL", "AND id > 0")
    assert len(lint_findings(partial, "foreign-key-without-index", tmp_path / "no")) == 1
