"""Where a command's output goes: a file written whole or not at all, or standard output, in
colour only where a person reads it. Shared by every command, so that no command module has to
import the top-level CLI (and the CLI the command back)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from pgpreflight.linter.errors import PgPreflightError


def write_output(text: str, destination: Path | None) -> None:
    """Write all or nothing: a report file is never left half-written."""
    if destination is None:
        sys.stdout.write(text)
        return
    if destination.exists() and not destination.is_file():
        # a device or a pipe (`--output /dev/null`, /dev/stdout, a FIFO) is written to: renaming
        # a file over it would put a regular file in its place (as root, /dev/null for everyone)
        try:
            with destination.open("w", encoding="utf-8", errors="backslashreplace") as out:
                out.write(text)
        except OSError as err:
            raise PgPreflightError(
                f"{destination}: cannot write report: {err.strerror or err}"
            ) from err
        return
    tmp = destination.with_name(f".{destination.name}.tmp{os.getpid()}")
    try:
        # A stray undecodable name (from the command line, a saved result) is escaped, never a
        # UnicodeEncodeError half-way through a report.
        tmp.write_text(text, encoding="utf-8", errors="backslashreplace")
        os.replace(tmp, destination)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise PgPreflightError(
            f"{destination}: cannot write report: {err.strerror or err}"
        ) from err


def use_color(args: argparse.Namespace, stream: Any = None) -> bool:
    if getattr(args, "color", None) is not None:
        return bool(args.color)
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = stream or sys.stdout
    return (
        bool(getattr(stream, "isatty", lambda: False)()) and getattr(args, "output", None) is None
    )
