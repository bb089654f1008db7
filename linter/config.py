"""Configuration: `[tool.pgpreflight]` in pyproject.toml or a `pgpreflight.toml`, found by walking
up from the current directory, then CLI flags on top.

Vocabulary follows ruff and flake8 (`select`, `ignore`, `extend-select`, `per-file-ignores`,
`severity`) so that nobody has to learn a new one. Every key and every rule option is validated
here, in one place: an unknown key, rule id or a value of the wrong type stops the run with
exit code 2 and names the culprit.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from pgpreflight.linter.errors import ConfigError
from pgpreflight.linter.findings import SEVERITIES

CONFIG_FILES = ("pgpreflight.toml", "pyproject.toml")
# How the migration runner uses transactions: wraps each file; never; wraps a file unless it holds
# a statement that cannot run in one (Flyway); runs each statement on its own (autocommit).
TRANSACTION_MODES = ("per-file", "none", "auto", "per-statement")
# Languages of the comments `pgpreflight new` writes: English, and the guide's Portuguese.
TEMPLATE_LANGUAGES = ("en", "pt")
DEFAULT_FILENAME_PATTERN = r"^\d{12}__[a-z0-9][a-z0-9_]*\.sql$"


class PgVersion(NamedTuple):
    """Target server version; compare with tuples: `ctx.pg_version >= (12,)`."""

    major: int
    minor: int = 99  # unknown minor: assume the latest, where bugs are fixed

    def __str__(self) -> str:
        return str(self.major) if self.minor == 99 else f"{self.major}.{self.minor}"


def parse_pg_version(value: object, where: str = "pg-version") -> PgVersion:
    text = str(value).strip()
    m = re.fullmatch(r"(\d+)(?:\.(\d+))?", text)
    if not m or isinstance(value, bool):
        raise ConfigError(
            f"{where}: expected a PostgreSQL version such as 15 or 14.2, got {value!r}"
        )
    major = int(m.group(1))
    if not 9 <= major <= 30:
        raise ConfigError(f"{where}: PostgreSQL {major} is not a version pgpreflight knows")
    return PgVersion(major, int(m.group(2)) if m.group(2) is not None else 99)


def parse_duration(value: object, where: str = "duration") -> float:
    """'30s', '2 s', '500ms', '1min', '60' (seconds) -> seconds; ConfigError (exit 2) otherwise."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*", str(value))
    if not m or isinstance(value, bool):
        raise ConfigError(f"{where}: invalid duration {value!r}: use e.g. 30s, 500ms, 2min")
    number, unit = float(m.group(1)), m.group(2) or "s"
    return number * {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0}[unit]


# Bounds of the numeric and duration keys: a value outside them is a typo or an attack on the
# machine (explain-runs = 99999999999999999 never finishes), refused when the file is read.
INT_RANGES: dict[str, tuple[int, int]] = {
    "explain-runs": (1, 100),
    "sample-rows": (0, 10_000_000),
    "max-file-mib": (1, 1024),
    "synthesize-rows": (0, 10_000_000),
}
DURATION_RANGES: dict[str, tuple[float, float]] = {
    "statement-timeout": (0.001, 24 * 3600.0),
    "lock-timeout": (0.001, 3600.0),
    "idle-in-transaction-timeout": (0.001, 24 * 3600.0),
}

# key -> default; the default's type is the type a value must have.
KEYS: dict[str, Any] = {
    "migrations": [],
    "convention": "auto",
    "pg-version": 15,
    # the rule set before select/ignore: "guide" (house conventions and safety) or "safety"
    "preset": "guide",
    "select": [],
    "extend-select": [],
    "ignore": [],
    "severity": {},
    "per-file-ignores": {},
    "filename-pattern": DEFAULT_FILENAME_PATTERN,
    "fail-on": "error",
    "transaction": "per-file",
    # the lock_timeout the runner sets on its connection ("2s"); empty: it sets none
    "runner-lock-timeout": "",
    "large-tables": [],
    # largest migration file read, in MiB (linter/discovery.py MAX_FILE_BYTES is the default)
    "max-file-mib": 20,
    "queries": [],
    "rules": {},
    # language of the comments in the file `pgpreflight new` writes (linter/scaffold.py)
    "template-language": "en",
    # database check
    "history-table": "",
    "history-version-column": "version",
    "statement-timeout": "30s",
    "lock-timeout": "2s",
    "idle-in-transaction-timeout": "60s",
    "sample-rows": 100000,
    "explain-runs": 3,
    "synthesize-rows": 0,
    # the scratch server's sandbox (linter.check.sandbox): untrusted extensions the superuser
    # creates for migrations, and the opt-out that runs migrations as the superuser
    "scratch-extensions": [],
    "scratch-superuser": False,
    # SQL run once by the scratch server's superuser before the baseline: the roles, schemas and
    # extensions the history assumes (relative to the configuration file); never on a target
    "setup": "",
    # thresholds of plan lint and index verdicts, checked by linter/explain/thresholds.py
    "explain-thresholds": {},
    # environment variables whose values are secrets: redacted from every output by value and
    # removed from the environment of child processes (linter/secrets.py)
    "secret-env": [],
}


@dataclass
class Config:
    root: Path = field(default_factory=Path.cwd)
    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        return self.values.get(key, KEYS[key])

    @property
    def pg_version(self) -> PgVersion:
        return parse_pg_version(self.get("pg-version"))

    @property
    def max_file_bytes(self) -> int:
        return int(self.get("max-file-mib")) * 1024 * 1024

    @property
    def fail_on(self) -> str:
        return str(self.get("fail-on"))

    @property
    def setup_file(self) -> Path | None:
        """The `setup` file, relative to the configuration file's folder; None when unset."""
        value = str(self.get("setup"))
        return self.root / value if value else None

    def migration_paths(self) -> list[Path]:
        """Configured migration folders/globs, relative to the config file's folder."""
        paths: list[Path] = []
        for entry in self.get("migrations"):
            if any(ch in entry for ch in "*?["):
                paths.extend(sorted(self.root.glob(entry)))
            else:
                paths.append(self.root / entry)
        return paths

    def is_enabled(
        self, rule_id: str, opt_in: bool, presets: tuple[str, ...] = ("guide", "safety")
    ) -> bool:
        """The preset picks the default rules; `select` replaces them (`ALL`: every rule of the
        preset that is not opt-in), `extend-select` adds and `ignore` removes."""
        if rule_id in self.get("ignore"):
            return False
        select = self.get("select")
        if rule_id in self.get("extend-select"):
            return True
        in_preset = str(self.get("preset")) in presets and not opt_in
        if select:
            return rule_id in select or ("ALL" in select and in_preset)
        return in_preset

    def severity_for(self, rule_id: str, default: str) -> str:
        return str(self.get("severity").get(rule_id, default))

    def rule_options(self, rule_id: str, defaults: dict[str, Any]) -> dict[str, Any]:
        merged = dict(defaults)
        merged.update(self.get("rules").get(rule_id, {}))
        return merged

    def ignored_for_file(self, display_path: str, rule_id: str) -> bool:
        for pattern, ids in self.get("per-file-ignores").items():
            named = rule_id in ids or "ALL" in ids
            if named and (
                fnmatch.fnmatch(display_path, pattern)
                or fnmatch.fnmatch(Path(display_path).name, pattern)
            ):
                return True
        return False


def find_config(start: Path) -> Path | None:
    """The nearest pgpreflight.toml, or pyproject.toml with a [tool.pgpreflight] table."""
    for directory in [start, *start.parents]:
        for name in CONFIG_FILES:
            candidate = directory / name
            if candidate.is_file():
                tool = _read_toml(candidate).get("tool", {}) if name == "pyproject.toml" else {}
                if name == "pyproject.toml" and not (
                    isinstance(tool, dict) and "pgpreflight" in tool
                ):
                    continue
                return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):  # imported here: most runs read no configuration file
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as err:
        raise ConfigError(f"{path}: cannot read configuration: {err.strerror or err}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from err
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply to read") from None


def load_config(path: Path | None = None, start: Path | None = None) -> Config:
    """Read and validate the configuration; without a file, the defaults (the guide's rules)."""
    if path is None:
        path = find_config(start or Path.cwd())
        if path is None:
            return Config(root=(start or Path.cwd()).resolve())
    elif not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        data = tool.get("pgpreflight", {}) if isinstance(tool, dict) else {}
        if not isinstance(data, dict):
            raise ConfigError(
                f"{path}: [tool.pgpreflight] must be a table of settings, got {_type_name(data)}"
            )
    config = Config(root=path.resolve().parent, path=path)
    config.values = validate(data, where=str(path))
    return config


def _type_name(value: Any) -> str:
    return {
        list: "a list",
        dict: "a table",
        str: "a string",
        int: "an integer",
        bool: "true or false",
        float: "a number",
    }.get(type(value), type(value).__name__)


def _check_type(key: str, value: Any, default: Any, where: str) -> None:
    if key == "pg-version":
        parse_pg_version(value, f"{where}: pg-version")
        return
    ok = isinstance(value, type(default)) and not (
        isinstance(value, bool) and not isinstance(default, bool)
    )
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        raise ConfigError(f"{where}: '{key}' must be {_type_name(default)}, got {value!r}")
    if isinstance(default, list) and not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")


def validate(data: dict[str, Any], where: str) -> dict[str, Any]:
    from pgpreflight.linter.conventions import CONVENTIONS
    from pgpreflight.linter.registry import PRESET_NAMES, load_rule, rule_ids

    rules = rule_ids()
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in KEYS:
            raise ConfigError(
                f"{where}: unknown key '{key}' (known keys: {', '.join(sorted(KEYS))})"
            )
        _check_type(key, value, KEYS[key], where)
        out[key] = value
    for key in ("select", "extend-select", "ignore"):
        for rule_id in out.get(key, []):
            if rule_id != "ALL" and rule_id not in rules:
                raise ConfigError(f"{where}: '{key}' names unknown rule '{rule_id}'")
    for rule_id, level in out.get("severity", {}).items():
        if rule_id not in rules:
            raise ConfigError(f"{where}: 'severity' names unknown rule '{rule_id}'")
        if level not in SEVERITIES:
            raise ConfigError(
                f"{where}: severity of '{rule_id}' must be one of {', '.join(SEVERITIES)}, got {level!r}"
            )
    for pattern, ids in out.get("per-file-ignores", {}).items():
        if not isinstance(ids, list):
            raise ConfigError(f"{where}: per-file-ignores['{pattern}'] must be a list of rule ids")
        for rule_id in ids:
            if rule_id != "ALL" and rule_id not in rules:
                raise ConfigError(
                    f"{where}: per-file-ignores['{pattern}'] names unknown rule '{rule_id}'"
                )
    for rule_id, options in out.get("rules", {}).items():
        if rule_id not in rules:
            raise ConfigError(f"{where}: [rules] names unknown rule '{rule_id}'")
        if not isinstance(options, dict):
            raise ConfigError(f"{where}: rules.{rule_id} must be a table of options")
        defaults = load_rule(rule_id).options
        for name, value in options.items():
            if name not in defaults:
                known = ", ".join(sorted(defaults)) or "none"
                raise ConfigError(
                    f"{where}: rule '{rule_id}' has no option '{name}' (options: {known})"
                )
            _check_type(f"rules.{rule_id}.{name}", value, defaults[name], where)
    if out.get("convention", "auto") not in CONVENTIONS:
        raise ConfigError(f"{where}: 'convention' must be one of {', '.join(CONVENTIONS)}")
    if out.get("preset", "guide") not in PRESET_NAMES:
        raise ConfigError(f"{where}: 'preset' must be one of {', '.join(PRESET_NAMES)}")
    if out.get("fail-on", "error") not in SEVERITIES:
        raise ConfigError(f"{where}: 'fail-on' must be one of {', '.join(SEVERITIES)}")
    if out.get("transaction", "per-file") not in TRANSACTION_MODES:
        raise ConfigError(f"{where}: 'transaction' must be one of {', '.join(TRANSACTION_MODES)}")
    if out.get("template-language", "en") not in TEMPLATE_LANGUAGES:
        raise ConfigError(
            f"{where}: 'template-language' must be one of {', '.join(TEMPLATE_LANGUAGES)}"
        )
    for name in out.get("secret-env", []):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError(f"{where}: 'secret-env' names {name!r}, not an environment variable")
    for key, (low, high) in INT_RANGES.items():
        if key in out and not low <= out[key] <= high:
            raise ConfigError(f"{where}: '{key}' must be from {low} to {high}, got {out[key]!r}")
    for key, (low_s, high_s) in DURATION_RANGES.items():
        if key in out:
            seconds = parse_duration(out[key], f"{where}: '{key}'")
            if not low_s <= seconds <= high_s:
                raise ConfigError(
                    f"{where}: '{key}' must be from {low_s * 1000:g}ms to {high_s / 3600:g}h, "
                    f"got {out[key]!r}"
                )
    if out.get("runner-lock-timeout"):
        from pgpreflight.linter.facts import duration_ms

        if duration_ms(out["runner-lock-timeout"]) is None:
            raise ConfigError(
                f"{where}: 'runner-lock-timeout' must be a duration such as '2s' or 500, got "
                f"{out['runner-lock-timeout']!r}"
            )
    if "explain-thresholds" in out:
        from pgpreflight.linter.explain.thresholds import Thresholds

        Thresholds.from_config(out["explain-thresholds"], where=f"{where}: explain-thresholds")
    for name in out.get("scratch-extensions", []):
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name):
            raise ConfigError(f"{where}: 'scratch-extensions' names no extension: {name!r}")
    if "filename-pattern" in out:
        try:
            re.compile(out["filename-pattern"])
        except re.error as err:
            raise ConfigError(
                f"{where}: 'filename-pattern' is not a valid regular expression: {err}"
            ) from err
    return out


def apply_overrides(config: Config, overrides: dict[str, Any]) -> Config:
    """CLI flags win over the file for one run; validated like the file."""
    merged = dict(config.values)
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "severity":
            merged["severity"] = {**merged.get("severity", {}), **value}
        else:
            merged[key] = value
    config.values = validate(merged, where="command line" if not config.path else str(config.path))
    return config
