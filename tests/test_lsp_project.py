"""The language server's project: a document's unsaved text linted against the history it keeps
parsed, resumed from the replay state before it, with exactly the findings `lint -` gives the
same text; what changes on disk meanwhile is read again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pgpreflight.linter.config import load_config
from pgpreflight.linter.findings import Finding
from pgpreflight.linter.lsp.project import Project
from pgpreflight.linter.lsp.states import MemoryStates
from pgpreflight.linter.lsp.workspace import Workspace
from pgpreflight.linter.replay import ReplayState
from pgpreflight.linter.schema import SchemaModel
from pgpreflight.linter.stdin import lint_stdin

ORDERS = (
    "-- UP\nSET lock_timeout = '2s';\n"
    "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL,\n"
    "  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),\n"
    "  created_by uuid NOT NULL, updated_by uuid NOT NULL);\n"
    "-- DOWN\nSET lock_timeout = '2s';\nDROP TABLE IF EXISTS orders;\n"
)
INDEX = (
    "-- UP\nSET lock_timeout = '2s';\nSET statement_timeout = '5s';\n"
    "CREATE INDEX idx_orders_customer_id ON orders (customer_id);\n"
    "-- DOWN\nSET lock_timeout = '2s';\nDROP INDEX IF EXISTS idx_orders_customer_id;\n"
)
NOTE = "-- UP\nSELECT 1;\n-- DOWN\nSELECT 1;\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "db"
    db.mkdir()
    (db / "202401010000__orders.sql").write_text(ORDERS)
    (db / "202401020000__note.sql").write_text(NOTE)
    (db / "202401030000__index.sql").write_text("-- UP\n-- DOWN\n")
    (db / "202401040000__later.sql").write_text(NOTE)
    (tmp_path / "pgpreflight.toml").write_text('migrations = ["db"]\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _texts(path: Path, text: str) -> dict[Path, str]:
    return {path.resolve(): text}


def _rules(findings: list[Finding]) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in findings]


def test_findings_are_those_of_lint_stdin(project: Path) -> None:
    """Edit after edit (the later ones resumed from the state kept in memory), the document's
    findings are exactly those `pgpreflight lint - --stdin-filename` gives its text."""
    config = load_config(project / "pgpreflight.toml")
    path = project / "db" / "202401030000__index.sql"
    held = Project(config)
    for text in (INDEX, INDEX.replace("customer_id)", "customer_id, id)"), "-- UP\n-- DOWN\n"):
        document = held.lint(path, _texts(path, text))
        assert document is not None
        expected = lint_stdin(text, "db/202401030000__index.sql", config).findings
        assert document.findings[path.resolve()] == expected
        assert document.sources[path.resolve()].text == text
    assert len(held.states) >= 1  # the state before the edited migration was kept
    [index] = [f for f in held.lint(path, _texts(path, INDEX)).findings[path.resolve()]]  # type: ignore[union-attr]
    assert (index.rule, index.line) == ("require-concurrent-index", 4)
    assert path.read_text() == "-- UP\n-- DOWN\n"


def test_the_disk_is_read_again_when_it_changes(project: Path) -> None:
    """An earlier migration changed on disk (it now makes an index on the same column), then a
    migration added before the edited one (dropping that index): each is seen at the next lint,
    which gives what `lint -` gives."""
    config = load_config(project / "pgpreflight.toml")
    path = project / "db" / "202401030000__index.sql"
    held = Project(config)

    def rules() -> set[str]:
        document = held.lint(path, _texts(path, INDEX))
        assert document is not None
        expected = lint_stdin(INDEX, "db/202401030000__index.sql", config).findings
        assert document.findings[path.resolve()] == expected
        return {f.rule for f in expected}

    assert "duplicate-index" not in rules()
    note = project / "db" / "202401020000__note.sql"
    note.write_text(
        "-- UP\nCREATE INDEX idx_orders_cust ON orders (customer_id);\n"
        "-- DOWN\nDROP INDEX idx_orders_cust;\n"
    )
    stat = note.stat()  # a different time, whatever the file system's clock resolution
    os.utime(note, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert "duplicate-index" in rules()
    (project / "db" / "202401025000__drop.sql").write_text(
        "-- UP\nDROP INDEX idx_orders_cust;\n-- DOWN\nSELECT 1;\n"
    )
    assert "duplicate-index" not in rules()
    assert len(held.migrations) == 5


def test_a_new_migration_not_saved_yet(project: Path) -> None:
    config = load_config(project / "pgpreflight.toml")
    path = project / "db" / "202401050000__new_index.sql"
    held = Project(config)
    document = held.lint(path, _texts(path, INDEX))
    assert document is not None
    assert _rules(document.findings[path.resolve()]) == [("require-concurrent-index", 4)]
    assert not path.exists()
    again = held.lint(path, _texts(path, INDEX.replace("-- DOWN", "SELECT 2;\n-- DOWN")))
    assert again is not None and len(held.migrations) == 5


def test_statements_are_kept_for_suppressions(project: Path) -> None:
    config = load_config(project / "pgpreflight.toml")
    path = project / "db" / "202401030000__index.sql"
    document = Project(config).lint(path, _texts(path, INDEX))
    assert document is not None
    assert document.statements[path.resolve()] == [(2, 2), (3, 3), (4, 4), (6, 6), (7, 7)]


def test_workspace_follows_the_configuration(project: Path) -> None:
    """A file outside the configured folders is no migration (as `lint FILE` skips it); a
    changed configuration is read again; without one, a file is linted alone."""
    workspace = Workspace()
    path = project / "db" / "202401030000__index.sql"
    document = workspace.lint(path, _texts(path, INDEX))
    assert document is not None and document.findings[path.resolve()]
    script = project / "scripts" / "fix.sql"
    script.parent.mkdir()
    assert workspace.lint(script, _texts(script, "DROP TABLE orders;\n")) is None
    (project / "pgpreflight.toml").write_text(
        'migrations = ["db"]\nignore = ["require-concurrent-index"]\n'
    )
    document = workspace.lint(path, _texts(path, INDEX))
    assert document is not None and document.findings[path.resolve()] == []
    alone = project.parent / f"{project.name}-alone" / "202401030000__index.sql"
    alone.parent.mkdir()
    document = workspace.lint(alone, _texts(alone, INDEX))
    assert document is not None
    expected = lint_stdin(INDEX, str(alone), load_config(None, start=alone.parent)).findings
    assert document.findings[alone.resolve()] == expected != []


def test_memory_states_hand_out_copies() -> None:
    """The replay goes on from the model it loads: the kept state must not change with it."""
    states = MemoryStates(most=2)
    model = SchemaModel()
    states.store_state("a", ReplayState(model, {"lock_timeout": None}))
    loaded = states.load_state(["seed", "a"])
    assert loaded is not None and loaded[0] == 1
    assert loaded[1].model is not model
    loaded[1].defaults["lock_timeout"] = "1s"
    assert states.load_state(["seed", "a"])[1].defaults == {"lock_timeout": None}  # type: ignore[index]
    states.store_state("b", ReplayState(model, {}))
    states.store_state("c", ReplayState(model, {}))
    assert states.load_state(["seed", "a"]) is None and len(states) == 2
