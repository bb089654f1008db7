"""`pgpreflight lsp`: start the language server on standard input and output.

This module is what the command line imports for `lsp`; pygls is imported only once the command
runs, so that pgpreflight without the `lsp` extra still starts, and says what to install."""

from __future__ import annotations

import argparse

from pgpreflight.linter.errors import EXIT_USAGE, PgPreflightError

INSTALL = "pip install 'pgpreflight[lsp]'"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdio",
        action="store_true",
        help="speak LSP on standard input and output (the default and only transport; "
        "accepted because VS Code's language clients pass it)",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until the editor says exit. The configuration is read per document (the nearest
    pgpreflight.toml or pyproject.toml), not here: a broken one is told in the editor."""
    try:
        import pygls  # noqa: F401
    except ImportError:
        raise PgPreflightError(
            f"the language server needs pygls, which is not installed: {INSTALL}", EXIT_USAGE
        ) from None
    from pgpreflight.linter.lsp.server import serve

    return serve()
