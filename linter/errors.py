"""The errors a user can cause, each turned into one line and an exit code at the CLI boundary.

A traceback tells a user nothing they can act on; these carry a message that names the file,
option or server at fault and the exit code the documentation promises.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class PgPreflightError(Exception):
    """Base of every error the user can cause; `exit_code` is what the CLI returns."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class ConfigError(PgPreflightError):
    """An unknown key, rule id or a value of the wrong type in the configuration or on the CLI."""


class InputError(PgPreflightError):
    """A path that does not exist or cannot be read."""


class TargetSessionError(PgPreflightError):
    """A target session is not what pgpreflight asked for (not read-only, no timeouts), or the
    target stopped answering: going on would be unsafe or hang. Readers that turn ordinary target
    errors into notes (workload, HypoPG) let this one through."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=EXIT_USAGE)
