"""Progress for long runs: a status line on a terminal; for `check`, one line per step elsewhere.

A person at a terminal sees which migration and which step is running, on one line that is
overwritten. `lint` is quick, so a CI log or a pipe gets nothing from it. `check` can run for
minutes: a CI log gets one line per step on standard error (`for_phases`), so a job that looks
stuck says where it is, and the report on standard output stays clean.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(
        self, enabled: bool, stream: TextIO | None = None, min_interval: float = 0.1
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self._last = 0.0
        self._width = 0
        self._min_interval = min_interval
        self._lines = False  # one line per message instead of a status line (for_phases)

    @classmethod
    def for_terminal(cls, quiet: bool, stream: TextIO | None = None) -> Progress:
        stream = stream or sys.stderr
        return cls(not quiet and bool(getattr(stream, "isatty", lambda: False)()), stream)

    @classmethod
    def for_phases(cls, quiet: bool, stream: TextIO | None = None) -> Progress:
        """A status line on a terminal, one line per step elsewhere (CI logs); nothing if quiet."""
        progress = cls.for_terminal(quiet, stream)
        if not quiet and not progress.enabled:
            progress.enabled, progress._lines = True, True
        return progress

    def __call__(self, message: str, force: bool = False) -> None:
        if not self.enabled:
            return
        if self._lines:
            from pgpreflight.linter.printable import printable

            self.stream.write(printable(message)[:200] + "\n")
            self.stream.flush()
            return
        now = time.monotonic()
        if not force and now - self._last < self._min_interval:
            return
        self._last = now
        from pgpreflight.linter.printable import printable

        line = printable(message)[:120]  # migration names are user content
        self.stream.write("\r" + line + " " * max(0, self._width - len(line)))
        self.stream.flush()
        self._width = len(line)

    def done(self) -> None:
        """Erase the status line so the report starts on a clean line."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
