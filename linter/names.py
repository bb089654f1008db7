"""Object names as PostgreSQL resolves them, so `public.users` and `users` are one table."""

from __future__ import annotations

from typing import Any

DEFAULT_SCHEMA = "public"


def qualified(schema: str | None, name: str) -> str:
    return f"{schema or DEFAULT_SCHEMA}.{name}"


def relation_name(rangevar: Any) -> str:
    """`schema.name` of a pglast RangeVar (the parser already folded unquoted names to lower case)."""
    return qualified(getattr(rangevar, "schemaname", None), rangevar.relname)


def short(name: str) -> str:
    """`users` for `public.users`: what messages show for the default schema."""
    schema, _, rel = name.partition(".")
    return rel if schema == DEFAULT_SCHEMA and rel else name


def list_name(names: Any) -> str:
    """`schema.name` of a pglast name list (tuple of String nodes), as in DROP or types."""
    parts = [getattr(n, "sval", str(n)) for n in names or ()]
    if not parts:
        return ""
    if len(parts) == 1:
        return qualified(None, parts[0])
    return ".".join(parts[-2:])
