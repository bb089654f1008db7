"""The secrets of one run, redacted by value wherever they would otherwise be printed or saved.

Pattern redaction (`linter.redact`) catches text shaped like a credential (`password=...`, a URI's
user part). It cannot catch the secret itself: a test command that prints `$API_TOKEN`, or an
error message that quotes the password alone. So the CLI builds one `Secrets` at start from every
secret pgpreflight knows (the password of each connection string it was given, `PGPASSWORD`, and
the variables named by the `secret-env` setting), removes those variables from the process
environment so no child process inherits them, and hands the object down to where the result
data is built: every string of the result is redacted by value and by pattern before any
renderer sees it.

Values shorter than `MIN_LENGTH` (4) characters are not redacted by value: replacing every "ab"
in a report would turn it into character soup while hiding next to nothing (such a password is
guessed faster than read). Pattern redaction still removes them from `password=` pairs and URIs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from pgpreflight.linter.redact import redact

MIN_LENGTH = 4
MASK = "***"
# Variables that hold a target connection string (and so a password): `--database` falls back to
# the first; the second is what most applications (and `--test-command`) read.
DSN_ENV = ("PGPREFLIGHT_DATABASE_URL", "DATABASE_URL")
PASSWORD_ENV = "PGPASSWORD"


def dsn_password(dsn: str) -> str | None:
    """The password of a libpq connection string (URI or key=value); parsed here, without psycopg,
    because `lint` collects secrets too and must start fast."""
    text = dsn.strip()
    if re.match(r"^postgres(?:ql)?://", text, re.I):
        parts = urlsplit(text)
        userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
        if ":" in userinfo:
            return unquote(userinfo.partition(":")[2]) or None
        for key, value in parse_qsl(parts.query):
            if key == "password":
                return value or None
        return None
    for m in re.finditer(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", text):
        if m.group(1).lower() == "password":
            value = m.group(2)
            if value.startswith("'"):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            return value or None
    return None


@dataclass(frozen=True)
class Secrets:
    """Secret values (longest first) and the variables taken out of the environment."""

    values: tuple[str, ...] = ()
    # The secret-bearing variables removed from os.environ, for the code that still needs them
    # (the check reads the target's connection string and PGPASSWORD from here).
    taken: Mapping[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, values: Iterable[str | None], taken: Mapping[str, str] | None = None) -> Secrets:
        """Secrets from raw values: short and empty ones dropped, each also in its URL-encoded
        form (a password appears encoded inside a URI)."""
        found: set[str] = set()
        for value in values:
            if value and len(value) >= MIN_LENGTH:
                found.add(value)
                found.add(quote(value, safe=""))
        return cls(tuple(sorted(found, key=lambda v: (-len(v), v))), dict(taken or {}))

    @classmethod
    def take(
        cls,
        environ: MutableMapping[str, str],
        *,
        dsns: Iterable[str | None] = (),
        names: Iterable[str] = (),
    ) -> Secrets:
        """Collect the secrets of `dsns` and of the environment, and remove the secret-bearing
        variables (PGPASSWORD, the DSN variables and `names`) from `environ`."""
        taken: dict[str, str] = {}
        for name in (PASSWORD_ENV, *DSN_ENV, *names):
            if name in environ:
                taken[name] = environ.pop(name)
        values: list[str | None] = [taken.get(PASSWORD_ENV)]
        values += [taken[n] for n in names if n in taken]
        for dsn in [*dsns, *(taken.get(n) for n in DSN_ENV)]:
            if dsn:
                values.append(dsn_password(dsn))
        return cls.of(values, taken)

    def redact(self, text: str) -> str:
        """`text` without any secret value, and without credential-shaped text."""
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return redact(text)

    def redact_all(self, value: Any) -> Any:
        """`value` (JSON-like data: dicts, lists, strings) with every string, key included,
        passed through `redact`."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {
                (self.redact(k) if isinstance(k, str) else k): self.redact_all(v)
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.redact_all(v) for v in value]
        return value

    def redact_object(self, obj: Any, *names: str) -> Any:
        """A copy of a dataclass instance with its string fields `names` redacted (`obj`
        itself when nothing needed it: thousands of findings hold no secret)."""
        changes = {}
        for name in names:
            current = getattr(obj, name)
            if isinstance(current, str):
                clean = self.redact(current)
                if clean != current:
                    changes[name] = clean
        return replace(obj, **changes) if changes else obj


class RedactingFilter(logging.Filter):
    """Redacts every log record (message and arguments, formatted once) before a handler
    writes it: `--debug` output quotes connection errors and commands."""

    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.secrets.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self.secrets.redact(
                logging.Formatter().formatException(record.exc_info)
            )
        elif record.exc_text:
            record.exc_text = self.secrets.redact(record.exc_text)
        record.exc_info = None
        return True
