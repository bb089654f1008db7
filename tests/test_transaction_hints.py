"""Issue 16 (6): the hint of `require-concurrent-index` is written for the transaction mode in
force. Following it literally on a small history must give a file that has neither
`require-concurrent-index` nor `concurrently-in-transaction`: before, "add CONCURRENTLY" under the
default `transaction = "per-file"` led straight into the second."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pgpreflight.linter.cli import main

RULES = "require-concurrent-index,concurrently-in-transaction,syntax-error"
TABLE = "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL);"
INDEX = "CREATE INDEX idx_orders_customer_id ON orders (customer_id);"
DROP = "DROP INDEX IF EXISTS idx_orders_customer_id;"

# convention -> (first migration's files, second migration's files), {relative path: text}
HISTORIES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "updown": (
        {"202401010000__a.sql": f"-- UP\n{TABLE}\n-- DOWN\nDROP TABLE orders;\n"},
        {"202401020000__b.sql": f"-- UP\n{INDEX}\n-- DOWN\n{DROP}\n"},
    ),
    "goose": (
        {"20240101000000_a.sql": f"-- +goose Up\n{TABLE}\n-- +goose Down\nDROP TABLE orders;\n"},
        {"20240102000000_b.sql": f"-- +goose Up\n{INDEX}\n-- +goose Down\n{DROP}\n"},
    ),
    "dbmate": (
        {"20240101000000_a.sql": f"-- migrate:up\n{TABLE}\n-- migrate:down\nDROP TABLE orders;\n"},
        {"20240102000000_b.sql": f"-- migrate:up\n{INDEX}\n-- migrate:down\n{DROP}\n"},
    ),
    "sql-migrate": (
        {
            "20240101000000_a.sql": f"-- +migrate Up\n{TABLE}\n-- +migrate Down\nDROP TABLE orders;\n"
        },
        {"20240102000000_b.sql": f"-- +migrate Up\n{INDEX}\n-- +migrate Down\n{DROP}\n"},
    ),
    "golang-migrate": (
        {"000001_a.up.sql": f"{TABLE}\n", "000001_a.down.sql": "DROP TABLE orders;\n"},
        {"000002_b.up.sql": f"{INDEX}\n", "000002_b.down.sql": f"{DROP}\n"},
    ),
    "dir-pair": (
        {
            "2024-01-01-000000_a/up.sql": f"{TABLE}\n",
            "2024-01-01-000000_a/down.sql": "DROP TABLE orders;\n",
        },
        {"2024-01-02-000000_b/up.sql": f"{INDEX}\n", "2024-01-02-000000_b/down.sql": f"{DROP}\n"},
    ),
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _lint(capsys: pytest.CaptureFixture[str], root: Path, *extra: str) -> list[dict[str, str]]:
    code = main(["lint", str(root), "--no-cache", "--format", "json", "--select", RULES, *extra])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    findings: list[dict[str, str]] = json.loads(out)["findings"]
    return findings


def _follow(hint: str, root: Path, files: dict[str, str]) -> None:
    """Do what the hint says, reading only the hint: the directive first, then the SQL."""
    how, _, sql = hint.rpartition(", then: ")
    sql = re.sub(r"; and check pg_index\.indisvalid afterwards.*$", ";", sql)
    sql = sql.replace("(...)", "(customer_id)")
    [(up_name, _)] = [(n, t) for n, t in files.items() if INDEX in t]
    up = root / up_name
    text = up.read_text().replace(INDEX, sql)
    if m := re.match(r"add the line '([^']+)' (above '([^']+)'|at the top of the file)", how):
        line, anchor = m.group(1), m.group(3)
        text = text.replace(anchor, f"{line}\n{anchor}", 1) if anchor else f"{line}\n{text}"
    elif m := re.match(r"write the marker as '([^']+)'", how):
        marker = m.group(1)
        text = re.sub(
            r"^" + re.escape(marker.rsplit(" ", 1)[0]) + r"\b.*$",
            marker,
            text,
            count=1,
            flags=re.M | re.I,
        )
    elif how.startswith("add run_in_transaction = false to the migration's metadata.toml"):
        (up.parent / "metadata.toml").write_text("run_in_transaction = false\n")
    elif how.startswith("put the statement alone in a migration of its own"):
        assert ";" not in sql.rstrip(";"), sql  # it is already alone
    else:
        assert not how, f"a hint this test cannot follow: {hint}"
    up.write_text(text)


@pytest.mark.parametrize("convention", sorted(HISTORIES))
def test_following_the_hint_gives_a_clean_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], convention: str
) -> None:
    first, second = HISTORIES[convention]
    _write(tmp_path, first)
    _write(tmp_path, second)
    [finding] = _lint(capsys, tmp_path)
    assert finding["rule"] == "require-concurrent-index"
    _follow(finding["hint"], tmp_path, second)
    assert _lint(capsys, tmp_path) == []


@pytest.mark.parametrize("mode", ["auto", "none", "per-statement"])
def test_hint_under_other_transaction_modes_is_just_the_sql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    first, second = HISTORIES["updown"]
    _write(tmp_path, first)
    _write(tmp_path, second)
    [finding] = _lint(capsys, tmp_path, "--transaction", mode)
    assert finding["hint"].startswith("SET lock_timeout = '2s'; CREATE INDEX CONCURRENTLY")
    _follow(finding["hint"], tmp_path, second)
    assert _lint(capsys, tmp_path, "--transaction", mode) == []
    # the same file under the default per-file mode is the error the hint avoided
    assert [f["rule"] for f in _lint(capsys, tmp_path)] == ["concurrently-in-transaction"]


def test_updown_no_transaction_marker_is_honoured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pgpreflight.linter.discovery import discover

    body = "-- UP\nCREATE INDEX CONCURRENTLY i ON t (c);\n-- DOWN\nDROP INDEX CONCURRENTLY i;\n"
    (tmp_path / "202401010000__x.sql").write_text("-- no transaction\n" + body)
    (tmp_path / "202401020000__y.sql").write_text("-- no transaction needed here\n" + body)
    marked, prose = discover([tmp_path])
    assert not marked.in_transaction and prose.in_transaction
    rules = [f["rule"] for f in _lint(capsys, tmp_path)]
    assert rules == ["concurrently-in-transaction", "concurrently-in-transaction"]
    assert all("202401020000__y" in f["path"] for f in _lint(capsys, tmp_path))


def test_concurrently_in_transaction_hint_names_the_updown_marker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "202401010000__x.sql").write_text(
        "-- UP\nCREATE INDEX CONCURRENTLY i ON t (c);\n-- DOWN\nDROP INDEX IF EXISTS i;\n"
    )
    [finding] = _lint(capsys, tmp_path)
    assert finding["hint"].startswith("add the line '-- NO TRANSACTION' above '-- UP'")


def test_lint_help_lists_transaction_modes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["lint", "--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "--transaction {per-file,none,auto,per-statement}" in out


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        ("REINDEX INDEX idx_orders_customer_id;", "require-concurrent-reindex"),
        ("DROP INDEX idx_orders_customer_id;", "require-concurrent-index-drop"),
    ],
)
def test_other_concurrently_hints_name_the_directive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sql: str, rule: str
) -> None:
    first, _ = HISTORIES["goose"]
    _write(tmp_path, first)
    (tmp_path / "20240101000001_i.sql").write_text(
        f"-- +goose Up\n{INDEX}\n-- +goose Down\n{DROP}\n"
    )
    (tmp_path / "20240102000000_b.sql").write_text(f"-- +goose Up\n{sql}\n-- +goose Down\n")
    [finding] = [f for f in _lint(capsys, tmp_path, "--select", rule) if "_b.sql" in f["path"]]
    assert finding["hint"].startswith(
        "add the line '-- +goose NO TRANSACTION' at the top of the file, then: "
        "SET lock_timeout = '2s'; "
    ), finding
