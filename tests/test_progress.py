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


def test_check_phases_are_lines_in_a_pipe_and_a_status_line_on_a_terminal() -> None:
    pipe = io.StringIO()
    phases = Progress.for_phases(quiet=False, stream=pipe)
    phases("pgpreflight: trace 0001", True)
    phases("pgpreflight: trace 0002", True)
    phases.done()
    assert pipe.getvalue() == "pgpreflight: trace 0001\npgpreflight: trace 0002\n"
    quiet = io.StringIO()
    Progress.for_phases(quiet=True, stream=quiet)("x", True)
    assert quiet.getvalue() == ""
    tty = Tty()
    Progress.for_phases(quiet=False, stream=tty)("step", True)
    assert tty.getvalue() == "\rstep"
