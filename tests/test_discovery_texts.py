"""Discovery with texts in place of files (`discover(..., texts=)`): an editor's unsaved buffers
and `lint -` are read exactly as the files they stand for, whether or not these exist yet."""

from __future__ import annotations

from pathlib import Path

from pgpreflight.linter.discovery import discover


def test_a_text_replaces_the_file_on_disk(tmp_path: Path) -> None:
    (tmp_path / "202401010000__a.sql").write_text("-- UP\nSELECT 1;\n-- DOWN\n")
    (tmp_path / "202401020000__b.sql").write_text("-- UP\nSELECT 2;\n-- DOWN\n")
    edited = tmp_path / "202401020000__b.sql"
    [a, b] = discover([tmp_path], texts={edited: "-- UP\nCREATE TABLE t (id int);\n-- DOWN\n"})
    assert "SELECT 1" in a.source.text
    assert b.source.text.startswith("-- UP\nCREATE TABLE t")
    assert [type(s.node).__name__ for s in b.up.statements] == ["CreateStmt"]
    assert edited.read_text().startswith("-- UP\nSELECT 2")  # the disk is never written


def test_an_unsaved_new_file_joins_its_folder_and_its_pair(tmp_path: Path) -> None:
    """A new diesel folder whose up.sql exists only in the editor pairs with the down.sql on
    disk; a file outside the folders given is not read."""
    folder = tmp_path / "migrations"
    (folder / "2024-01-01-000000_a").mkdir(parents=True)
    (folder / "2024-01-01-000000_a" / "up.sql").write_text("CREATE TABLE a (id int);\n")
    (folder / "2024-01-01-000000_a" / "down.sql").write_text("DROP TABLE a;\n")
    (folder / "2024-02-01-000000_b").mkdir()
    (folder / "2024-02-01-000000_b" / "down.sql").write_text("DROP TABLE b;\n")
    up = folder / "2024-02-01-000000_b" / "up.sql"
    elsewhere = tmp_path / "scratch.sql"
    found = discover([folder], texts={up: "CREATE TABLE b (id int);\n", elsewhere: "SELECT 1;\n"})
    assert [(m.version, m.convention) for m in found] == [
        ("2024-01-01-000000", "dir-pair"),
        ("2024-02-01-000000", "dir-pair"),
    ]
    new = found[1]
    assert [s.path.name for s in new.sources] == ["up.sql", "down.sql"]
    assert new.up.source.text == "CREATE TABLE b (id int);\n"


def test_a_text_for_a_path_given_alone(tmp_path: Path) -> None:
    """`lint - --stdin-filename NAME` outside the migration folders: NAME need not exist."""
    name = tmp_path / "000002_index.up.sql"
    (tmp_path / "000002_index.down.sql").write_text("DROP INDEX IF EXISTS i;\n")
    [migration] = discover(
        [name, tmp_path / "000002_index.down.sql"], texts={name: "CREATE INDEX i ON t (c);\n"}
    )
    assert migration.convention == "golang-migrate"
    assert migration.down is not None and "DROP INDEX" in migration.down.source.text


def test_a_text_is_judged_like_a_file(tmp_path: Path) -> None:
    """The byte checks of a file apply to a text: NUL bytes make it binary, not SQL."""
    path = tmp_path / "202401010000__a.sql"
    [migration] = discover([path], texts={path: "SELECT 1;\x00\n"})
    assert [p.kind for p in migration.problems] == ["binary"]
