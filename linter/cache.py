"""The lint cache: a run whose inputs are byte for byte those of an earlier run reuses its result.

Like ruff's, it lives in a folder of the project (`.pgpreflight_cache/`, beside the
configuration, with a `CACHEDIR.TAG` and a `.gitignore` of its own so that backup tools and git
pass it by), and it is only ever an optimisation: `--no-cache` skips it, `pgpreflight clean`
removes it, and an entry that is unreadable, partial, of another format or written by another
pgpreflight is ignored and written again, never trusted.

The key covers everything a finding can depend on: pgpreflight's own code (its version and the
size and modification time of each of its source files, so an edited checkout never reads a
stale entry), pglast's version (the grammar), the configuration, which files are reported and
which changed, and the path and content of every file under the linted folders and of the
application query files. A run therefore either reads a whole result or computes a whole one:
findings are identical with and without the cache (tested).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pgpreflight.linter.replay import ReplayState

FOLDER = ".pgpreflight_cache"
FORMAT = 1
"""Changes when the layout of an entry changes."""

_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by pgpreflight.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
_PACKAGE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class LintCache:
    directory: Path
    known_header: dict[str, Any] | None = None
    """The run's `header`, when the caller computed it already (it walks pgpreflight's files)."""

    @classmethod
    def beside(cls, root: Path, known_header: dict[str, Any] | None = None) -> LintCache:
        """The cache of the project whose configuration (or working folder) is `root`."""
        return cls(root / FOLDER, known_header)

    def seed(self, config_values: dict[str, Any], config_path: Path | None) -> str:
        """What every replay state key starts from (`header`, as JSON)."""
        base = self.known_header or header(config_values, config_path)
        return json.dumps(base, sort_keys=True, default=str)

    def entry(self, key: str) -> Path:
        return self.directory / "lint" / f"{key}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        """The result saved under `key`, or None when there is none or it cannot be trusted."""
        try:
            with open(self.entry(key), encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or data.get("key") != key or data.get("format") != FORMAT:
            return None
        result = data.get("result")
        return result if isinstance(result, dict) else None

    def store(self, key: str, result: dict[str, Any]) -> None:
        """Save atomically (a temporary file renamed into place), so that concurrent runs and a
        run killed half-way never leave a partial entry; a cache that cannot be written is no
        error."""
        target = self.entry(key)
        try:
            self._prepare()
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    # dumps, not dump: json.dump streams through the pure-Python encoder,
                    # five times slower than the C one dumps uses on a long history's result
                    f.write(json.dumps({"format": FORMAT, "key": key, "result": result}))
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return
        self._prune(keep=target)

    def state_entry(self, key: str) -> Path:
        return self.directory / "state" / f"{key}.pickle"

    def load_state(self, keys: Sequence[str]) -> tuple[int, ReplayState] | None:
        """The saved replay state after the longest history prefix of `keys` (`keys[i]` names
        the first i migrations) as (i, state), or None. An entry that does not load is skipped."""
        try:
            saved = {p.stem for p in (self.directory / "state").glob("*.pickle")}
        except OSError:
            return None
        for i in range(len(keys) - 1, 0, -1):
            if keys[i] not in saved:
                continue
            state = _load_state(self.state_entry(keys[i]), keys[i])
            if state is not None:
                # pruning keeps the newest entries: the state every edit of the newest
                # migration resumes from must count as new each time it is used
                with contextlib.suppress(OSError):
                    os.utime(self.state_entry(keys[i]))
                return i, state
        return None

    def store_state(self, key: str, state: ReplayState) -> None:
        """Save a replay state like a result: atomically, keeping the newest few."""
        from pgpreflight.linter.migration import Statement
        from pgpreflight.linter.replay import StatementRef

        target = self.state_entry(key)

        class _Pickler(pickle.Pickler):
            # A statement is saved as where it is: its parse tree would make the entry five
            # times larger and slower to read than replaying the statement again.
            def reducer_override(self, obj: Any) -> Any:
                if isinstance(obj, Statement):
                    return StatementRef, astuple(StatementRef.of(obj))
                return NotImplemented

        try:
            self._prepare()
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".pickle")
            try:
                with os.fdopen(fd, "wb") as f:
                    _Pickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump((FORMAT, key, state))
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, pickle.PicklingError, RecursionError):
            return
        self._prune(keep=target, pattern="*.pickle", most=8)

    def _prepare(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tag = self.directory / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text(_TAG, encoding="utf-8")
        ignore = self.directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Automatically created by pgpreflight.\n*\n", encoding="utf-8")

    def _prune(self, keep: Path, pattern: str = "*.json", most: int = 32) -> None:
        """Keep the newest entries only: every edit of a migration makes a new key."""
        try:
            entries = sorted(
                (p for p in keep.parent.glob(pattern) if p != keep),
                key=lambda p: p.stat().st_mtime,
                reverse=True,
            )
            for stale in entries[most - 1 :]:
                stale.unlink(missing_ok=True)
        except OSError:
            return

    def clean(self) -> bool:
        """Remove the cache folder; True when there was one."""
        import shutil

        if not (self.directory / "CACHEDIR.TAG").is_file():
            return False  # never remove a folder pgpreflight did not make
        shutil.rmtree(self.directory, ignore_errors=True)
        return True


# Everything a saved replay state may hold: the schema model's own classes and the reference
# that stands for a statement. Nothing else is ever loaded: a cache folder is project data that a
# pull request could plant, and a pickle naming any other callable could run it.
_STATE_MODULES = (
    "pgpreflight.linter.schema.",
    "pgpreflight.linter.replay",
)
_MAX_STATE_BYTES = 256 << 20


class _StateUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.startswith(_STATE_MODULES) or module in _STATE_MODULES:
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        if (module, name) == ("builtins", "frozenset"):
            return frozenset
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a replay state")


def _load_state(path: Path, key: str) -> ReplayState | None:
    from pgpreflight.linter.replay import ReplayState

    try:
        if path.stat().st_size > _MAX_STATE_BYTES:
            return None
        with open(path, "rb") as f:
            loaded = _StateUnpickler(f).load()
    except Exception:  # any unreadable entry is only a cache miss
        return None
    if (
        not isinstance(loaded, tuple)
        or len(loaded) != 3
        or loaded[:2] != (FORMAT, key)
        or not isinstance(loaded[2], ReplayState)
    ):
        return None
    return loaded[2]


def run_key(
    files: Iterable[Path],
    base: dict[str, Any],
    *,
    only: Sequence[Path] | None,
    changes: Any,
) -> str:
    """The key of one lint run (`base` is `header`); see the module docstring for what it
    covers."""
    h = hashlib.sha256()
    header = {
        **base,
        "only": sorted(str(p.resolve()) for p in only) if only is not None else None,
        "changes": None
        if changes is None
        else [
            changes.ref,
            sorted(map(str, changes.changed)),
            sorted(map(str, changes.at_ref)),
        ],
    }
    h.update(json.dumps(header, sort_keys=True, default=str).encode())
    for path in files:
        h.update(b"\0" + os.fsencode(path) + b"\0")
        try:
            h.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError as exc:
            h.update(f"unreadable {exc.errno}".encode())
    return h.hexdigest()[:40]


def header(config_values: dict[str, Any], config_path: Path | None) -> dict[str, Any]:
    """What every key covers: pgpreflight's code, pglast's version (the grammar) and the
    configuration."""
    return {
        "format": FORMAT,
        "code": _code_stamp(),
        "pglast": _version("pglast"),
        "config": config_values,
        "config_path": str(config_path) if config_path else None,
    }


def input_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Every regular file under `paths` (folders walked in sorted order, hidden folders and the
    cache itself skipped): a superset of what discovery reads, so any change to a migration, a
    `metadata.toml` or a runner's configuration changes the key."""
    for path in paths:
        if path.is_file():
            yield path
            continue
        for folder, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != FOLDER)
            for name in sorted(names):
                candidate = Path(folder, name)
                if candidate.is_file():
                    yield candidate


def _version(package: str) -> str:
    """The package's `__version__`, read from its `__init__.py` without importing it: a run whose
    whole result comes from the cache never loads pglast (a third of a warm run's imports), and
    importlib.metadata costs as much again."""
    import importlib.util
    import re

    spec = importlib.util.find_spec(package)
    try:
        text = Path(spec.origin).read_text("utf-8") if spec and spec.origin else ""
    except OSError:
        text = ""
    found = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
    return found.group(1) if found else "unknown"


def _code_stamp() -> list[Any]:
    """pgpreflight's version and its source files' sizes and times: an edited checkout (an
    editable install, a rule written locally) changes the key."""
    from pgpreflight.linter import __version__

    stamp: list[Any] = [__version__]
    for top in (_PACKAGE, _PACKAGE.parent / "rules"):
        for folder, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                if name.endswith((".py", ".json", ".j2")):
                    st = os.stat(os.path.join(folder, name))
                    stamp.append((name, st.st_size, st.st_mtime_ns))
    return stamp
