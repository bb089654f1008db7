"""Progress appears on a terminal only, and is erased before the report."""

from __future__ import annotations

import io

from pgpreflight.linter.progress import Progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal_or_quiet() -> None:
    pipe = io.StringIO()
    Progress.for_terminal(quiet=False, stream=pipe)("working", True)
    tty = Tty()
    Progress.for_terminal(quiet=True, stream=tty)("working", True)
    assert pipe.getvalue() == "" and tty.getvalue() == ""


def test_status_line_overwritten_and_erased() -> None:
    tty = Tty()
    p = Progress.for_terminal(quiet=False, stream=tty)
    p("linting 1000 migrations…", True)
    p("step", True)
    p.done()
    out = tty.getvalue()
    assert out.startswith("\rlinting 1000 migrations…")
    assert "\rstep" in out and out.endswith("\r") and "\n" not in out
