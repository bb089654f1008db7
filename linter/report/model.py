"""The HTML page's view model: what its templates read, every field always there.

The page renders a result dict, a fresh run's `to_dict()` or a saved file that an older
pgpreflight, another command or a hand may have written with keys left out. Rather than guard
each read in the templates, the parts the templates read are read once through the dataclass
that writes them (`filled`): a missing field takes that dataclass's default, so the defaults
live in one place, next to the code that produces the data, and the templates run with
`jinja2.StrictUndefined`: a name a template reads that the view model does not carry is an
error, not an empty string.

The rows the page itself builds (listing lines, the EXPLAIN section's header) are dataclasses
here.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any


def filled(cls: type, value: dict[str, Any]) -> dict[str, Any]:
    """`value` with every field of the dataclass `cls` present, at every depth the type hints
    name a dataclass (`X`, `X | None`, `list[X]`, `dict[str, X]`): a missing field takes its
    default (a nested dataclass default as its dict), and so does a null where the type admits
    none; a required field missing is None. Keys `cls` does not declare are kept as they are;
    `value` itself is not changed."""
    hints = _hints(cls)
    out = dict(value)
    for f in dataclasses.fields(cls):
        if f.name in out and (out[f.name] is not None or _admits_none(hints[f.name])):
            out[f.name] = _fill(hints[f.name], out[f.name])
        elif f.default is not dataclasses.MISSING:
            out[f.name] = _plain(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = _plain(f.default_factory())
        elif f.name not in out:
            out[f.name] = None
    return out


def _admits_none(hint: Any) -> bool:
    if hint is Any or hint is type(None):
        return True
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in (
        typing.get_args(hint)
    )


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _fill(hint: Any, value: Any) -> Any:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return filled(hint, value) if isinstance(value, dict) else value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        kinds = [a for a in args if a is not type(None)]
        return _fill(kinds[0], value) if len(kinds) == 1 else value
    if origin is list and args and isinstance(value, list):
        return [_fill(args[0], v) for v in value]
    if origin is dict and len(args) == 2 and isinstance(value, dict):
        return {k: _fill(args[1], v) for k, v in value.items()}
    return value


def _plain(value: Any) -> Any:
    """A default as the dict `to_dict()` would have written (a dataclass default as a dict)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass
class RuleText:
    """A rule's documentation as a result saves it (`registry.Rule.to_dict`, the result
    schema's `rule`), as far as the page shows it; `why` is optional in a saved result."""

    id: str
    severity: str = "warning"
    summary: str = ""
    why: str = ""


@dataclass
class SourceLine:
    """One row of a listing: a source line with the findings shown under it, or (`gap`) the
    run of lines `no`..`last` an excerpt leaves out."""

    no: int
    html: Any = ""  # markupsafe.Markup: the highlighted line
    findings: list[dict[str, Any]] = field(default_factory=list)
    gap: bool = False
    last: int = 0


@dataclass
class ExplainInfo:
    """The EXPLAIN section's header: what the measurements ran on. `recorded`: the check kept
    EXPLAIN evidence in its own form (`check.explain` a dict), so there is a header to show."""

    recorded: bool = False
    data_source: str | None = None
    data_kind: str = "the migrations' own rows"
    synthesized: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unsupported: list[dict[str, Any]] = field(default_factory=list)
    runs: int | None = None
    elapsed_s: float | None = None
