from __future__ import annotations

from pgpreflight.linter.cli import run

run()
