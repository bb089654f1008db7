"""Results for the report tests: linted from real migration files, checked on the project's
scratch server, with EXPLAIN evidence built from plans recorded on PostgreSQL 15
(tests/fixtures/report/plans_pg15.json)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from pgpreflight.linter.config import Config
from pgpreflight.linter.engine import lint
from pgpreflight.linter.result import RunResult

ROOT = Path(__file__).resolve().parents[1]
PLANS = Path(__file__).parent / "fixtures" / "report" / "plans_pg15.json"
_runs = itertools.count(1)

BASE = """-- Oficinas: the table the next migration indexes.
-- UP
CREATE TABLE oficinas (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nome text NOT NULL,
    gratuita boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO oficinas (nome) SELECT 'Oficina ' || g FROM generate_series(1, 2000) g;

-- DOWN
DROP TABLE oficinas;
"""

CHANGE = """-- Search by name; a column the DOWN forgets.
-- UP
ALTER TABLE oficinas ADD COLUMN cidade text;
ALTER TABLE oficinas ADD COLUMN estado text NOT NULL DEFAULT 'SP';
CREATE INDEX idx_oficinas_nome ON oficinas (nome);

-- DOWN
DROP INDEX idx_oficinas_nome;
ALTER TABLE oficinas DROP COLUMN cidade;
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def lint_folder(folder: Path, **values: Any) -> RunResult:
    return lint([folder], Config(values=dict(values)))


def checked_result(server: Any, tmp_path: Path) -> RunResult:
    """Two migrations linted, then the second checked for real on `server` (the pg_server
    fixture), with EXPLAIN evidence for its new index from the recorded plans."""
    from pgpreflight.linter.check.result import CheckResult, ServerInfo
    from pgpreflight.linter.check.runner import CheckOptions, check_on_server

    folder = write(
        tmp_path / "migrations",
        {
            "202401010000__criar_oficinas.sql": BASE,
            "202401020000__buscar_oficinas.sql": CHANGE,
        },
    )
    result = lint_folder(folder)
    opts = CheckOptions(db_prefix=f"rep{next(_runs)}")
    check = CheckResult(
        mode="scratch",
        server=ServerInfo(
            role="scratch", version=str(server.major_version), major=server.major_version
        ),
    )
    check_on_server(server, result.migrations, 1, opts, check)
    data = check.to_dict()
    data["explain"] = [
        explain_entry("idx_oficinas_nome", "public.oficinas", "202401020000__buscar_oficinas")
    ]
    result.check = data
    return result


# Two migrations of a schema no migration creates: the first fails, and the second only
# because of it (a root cause and its dependant).
MISSING_SCHEMA = {
    "202401010000__users.sql": "-- UP\nCREATE TABLE auth.users (id int);\n"
    "-- DOWN\nDROP TABLE auth.users;\n",
    "202401020000__email.sql": "-- UP\nALTER TABLE auth.users ADD COLUMN email text;\n"
    "-- DOWN\nALTER TABLE auth.users DROP COLUMN email;\n",
}


def checked_from_start(server: Any, folder: Path) -> RunResult:
    """Every migration of `folder` linted, then checked on `server` (the pg_server fixture)
    from the first one, without EXPLAIN."""
    from pgpreflight.linter.check.result import CheckResult
    from pgpreflight.linter.check.runner import CheckOptions, check_on_server

    result = lint_folder(folder)
    check = CheckResult(mode="scratch", server=None)
    opts = CheckOptions(db_prefix=f"rep{next(_runs)}")
    check_on_server(server, result.migrations, 0, opts, check)
    result.check = check.to_dict()
    return result


def explain_entry(index: str, table: str, migration: str) -> dict[str, Any]:
    plans = json.loads(PLANS.read_text(encoding="utf-8"))
    trgm = plans["trgm"]
    return {
        "index": index,
        "table": table,
        "migration": migration,
        "verdict": "helps",
        "reason": "execution time drops ×5 with the index",
        "queries": [
            {
                "sql": trgm["query"],
                "source": "queries/oficinas.sql:1",
                "before": trgm["before"],
                "after": trgm["after"],
            }
        ],
    }
