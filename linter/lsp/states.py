"""Replay states kept in memory by the language server, between two lints of one project.

The lint cache keeps them on disk for the next CLI run (linter/cache.py); an editor asks again
on every keystroke, in one process, so the states stay as objects: no pickling, and the
statements their models point to keep their parse trees. Both are `replay.StateStore`s, keyed by
`replay.chain_keys`: the content of the history before the edited migration names its state.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgpreflight.linter.replay import ReplayState


@dataclass
class MemoryStates:
    """The newest `most` states, the least recently used dropped first. An edited migration
    keeps one prefix (the history before it) and makes a new state after it on every keystroke."""

    most: int = 8
    _states: OrderedDict[str, ReplayState] = field(default_factory=OrderedDict)

    def seed(self, config_values: dict[str, Any], config_path: Path | None) -> str:
        # pgpreflight's code and pglast cannot change under a running server: the configuration
        # is all a state depends on besides the history.
        return json.dumps([config_values, str(config_path)], sort_keys=True, default=str)

    def load_state(self, keys: Sequence[str]) -> tuple[int, ReplayState] | None:
        for i in range(len(keys) - 1, 0, -1):
            state = self._states.get(keys[i])
            if state is not None:
                self._states.move_to_end(keys[i])
                # the replay goes on from the model it is given: a copy (copy-on-write, cheap)
                return i, ReplayState(state.model.copy(), dict(state.defaults))
        return None

    def store_state(self, key: str, state: ReplayState) -> None:
        self._states[key] = state
        self._states.move_to_end(key)
        while len(self._states) > self.most:
            self._states.popitem(last=False)

    def __len__(self) -> int:
        return len(self._states)
