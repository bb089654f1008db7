"""Volatility of the expressions migrations put in DEFAULT clauses.

PostgreSQL 11 adds a column with a non-volatile DEFAULT without rewriting the table: it evaluates
the default once and stores it in the catalog. A volatile default (`random()`,
`gen_random_uuid()`, `clock_timestamp()`, `nextval()`) must be evaluated per row, which rewrites
the table under ACCESS EXCLUSIVE. The lists below are the built-in functions' `provolatile` as
`pg_proc` records it (PostgreSQL 15, checked with `SELECT proname, provolatile FROM pg_proc`);
a function not listed is treated as volatile, which is what `CREATE FUNCTION` defaults to.
"""

from __future__ import annotations

from typing import Any

from pglast import ast
from pgpreflight.linter.schema.names import nodes_of

IMMUTABLE = "immutable"
STABLE = "stable"
VOLATILE = "volatile"
_RANK = {IMMUTABLE: 0, STABLE: 1, VOLATILE: 2}

VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "random_normal",
        "setseed",
        "gen_random_uuid",
        "gen_random_bytes",
        "gen_salt",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "currval",
        "lastval",
        "setval",
        "txid_current",
        "pg_current_xact_id",
        "pg_sleep",
    }
)
STABLE_FUNCTIONS = frozenset(
    {
        "now",
        "transaction_timestamp",
        "statement_timestamp",
        "current_setting",
        "current_schema",
        "current_database",
        "current_user",
        "session_user",
        "to_char",
        "to_timestamp",
        "age",
        "format",
        "concat",
        "concat_ws",
        "to_json",
        "to_jsonb",
        "json_build_object",
        "jsonb_build_object",
        "json_build_array",
        "jsonb_build_array",
        "row_to_json",
        "date_part",
        "extract",
        "inet_client_addr",
        "pg_backend_pid",
        "version",
    }
)
IMMUTABLE_FUNCTIONS = frozenset(
    {
        "lower",
        "upper",
        "btrim",
        "ltrim",
        "rtrim",
        "trim",
        "length",
        "char_length",
        "octet_length",
        "substr",
        "substring",
        "left",
        "right",
        "replace",
        "md5",
        "sha256",
        "abs",
        "round",
        "trunc",
        "floor",
        "ceil",
        "ceiling",
        "greatest",
        "least",
        "coalesce",
        "nullif",
        "make_date",
        "make_interval",
        "make_time",
        "date_trunc",
        "jsonb_object",
        "array_length",
        "cardinality",
        "int4",
        "int8",
        "numeric",
        "text",
        "bool",
        "to_tsvector",
        "digest",
        "encode",
        "decode",
        "lpad",
        "rpad",
        "repeat",
        "split_part",
        "regexp_replace",
        "pi",
    }
)


def function_volatility(name: str) -> str:
    """Volatility of a function by its (unqualified, lower-case) name; unknown ones are volatile."""
    if name in IMMUTABLE_FUNCTIONS:
        return IMMUTABLE
    if name in STABLE_FUNCTIONS:
        return STABLE
    return VOLATILE


def _name(call: ast.FuncCall) -> str:
    """The unqualified, lower-case name of a function call."""
    return str(getattr((call.funcname or ("",))[-1], "sval", "")).lower()


def volatile_functions(expr: Any) -> list[str]:
    """Names of the volatile (or unknown) functions an expression calls."""
    found = []
    for node in nodes_of(expr, ast.Node):
        if isinstance(node, ast.FuncCall):
            name = _name(node)
            if function_volatility(name) == VOLATILE:
                found.append(name)
        elif isinstance(node, ast.SubLink):
            found.append("(subquery)")
    return found


def volatility(expr: Any) -> str:
    """The highest volatility of anything in `expr` (constants and casts are immutable)."""
    worst = IMMUTABLE
    for node in nodes_of(expr, ast.Node):
        if isinstance(node, ast.FuncCall):
            level = function_volatility(_name(node))
        elif isinstance(node, ast.SQLValueFunction):
            level = STABLE  # CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_USER, LOCALTIMESTAMP ...
        elif isinstance(node, ast.SubLink):
            level = VOLATILE
        else:
            continue
        if _RANK[level] > _RANK[worst]:
            worst = level
    return worst
