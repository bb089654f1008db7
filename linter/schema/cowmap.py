"""`CowMap`: a mapping whose `copy()` costs a few dozen pointer copies, whatever its size.

The engine keeps a snapshot of the schema model before and after every migration. With plain
dicts each snapshot would copy (and keep alive) every name in the schema, which makes a long
history quadratic in time and memory. A `CowMap` spreads its entries over a fixed number of
small dicts (buckets); a copy shares the buckets and each side clones a bucket the first time
it writes to it, so a migration pays for the buckets it touches, not for the schema.

Iteration follows insertion order, like a dict, whatever the hash seed: entries carry the
number of their insertion, and iterating sorts by it.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from typing import TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")

_BUCKETS = 64
_MASK = _BUCKETS - 1
_ALL = (1 << _BUCKETS) - 1
_MISSING = object()


class CowMap(MutableMapping[K, V]):
    __slots__ = ("_buckets", "_len", "_next", "_owned")

    def __init__(self) -> None:
        # key -> (insertion number, value)
        self._buckets: list[dict[K, tuple[int, V]]] = [{} for _ in range(_BUCKETS)]
        # bit i set: bucket i is this map's own, to change in place (a bit mask, not a list
        # of flags: a copy then resets it for free, and models are copied before every
        # statement of the sections provenance replays)
        self._owned = _ALL
        self._len = 0
        self._next = 0

    def copy(self) -> CowMap[K, V]:
        new: CowMap[K, V] = CowMap.__new__(CowMap)
        new._buckets = list(self._buckets)
        new._len = self._len
        new._next = self._next
        # every bucket is now shared: both sides clone one before writing to it
        new._owned = 0
        self._owned = 0
        return new

    def __getstate__(self) -> tuple[int, list[tuple[int, K, V]]]:
        """Entries, not buckets: a bucket is chosen by `hash(key)`, and the hash of a string
        differs from one process to the next (the lint cache saves models to disk)."""
        entries = [(n, key, value) for b in self._buckets for key, (n, value) in b.items()]
        return self._next, entries

    def __setstate__(self, state: tuple[int, list[tuple[int, K, V]]]) -> None:
        self._next, entries = state
        self._buckets = [{} for _ in range(_BUCKETS)]
        self._owned = _ALL
        self._len = len(entries)
        for n, key, value in entries:
            self._buckets[hash(key) & _MASK][key] = (n, value)

    def _writable(self, key: K) -> dict[K, tuple[int, V]]:
        i = hash(key) & _MASK
        if not self._owned & (1 << i):
            self._buckets[i] = dict(self._buckets[i])
            self._owned |= 1 << i
        return self._buckets[i]

    def __getitem__(self, key: K) -> V:
        return self._buckets[hash(key) & _MASK][key][1]

    @overload
    def get(self, key: K, /) -> V | None: ...
    @overload
    def get(self, key: K, default: V | T, /) -> V | T: ...
    def get(self, key: K, default: object = None) -> object:
        entry = self._buckets[hash(key) & _MASK].get(key)
        return default if entry is None else entry[1]

    def __contains__(self, key: object) -> bool:
        return key in self._buckets[hash(key) & _MASK]

    def __setitem__(self, key: K, value: V) -> None:
        bucket = self._writable(key)
        entry = bucket.get(key)
        if entry is None:
            self._len += 1
            bucket[key] = (self._next, value)
            self._next += 1
        else:  # a replaced value keeps its place, as in a dict
            bucket[key] = (entry[0], value)

    def __delitem__(self, key: K) -> None:
        if key not in self._buckets[hash(key) & _MASK]:
            raise KeyError(key)
        del self._writable(key)[key]
        self._len -= 1

    def pop(self, key: K, default: object = _MISSING) -> V:
        bucket = self._buckets[hash(key) & _MASK]
        entry = bucket.get(key)
        if entry is None:
            if default is _MISSING:
                raise KeyError(key)
            return default  # type: ignore[return-value]
        del self._writable(key)[key]
        self._len -= 1
        return entry[1]

    def differing_keys(self, other: CowMap[K, V]) -> set[K]:
        """Keys whose entries may differ from `other`'s: those of buckets not shared with it.
        For two copies of one map this costs what changed since, not the size of the map."""
        keys: set[K] = set()
        for mine, theirs in zip(self._buckets, other._buckets, strict=True):
            if mine is not theirs:
                # A cloned bucket still holds the very entry objects it was cloned with: only
                # entries replaced, added or removed since are candidates, not the whole bucket
                # (which grows with the schema and made long histories superlinear).
                keys.update(k for k, entry in mine.items() if theirs.get(k) is not entry)
                keys.update(k for k in theirs if k not in mine)
        return keys

    def __iter__(self) -> Iterator[K]:
        entries = [(entry[0], key) for bucket in self._buckets for key, entry in bucket.items()]
        entries.sort(key=lambda pair: pair[0])
        return iter([key for _, key in entries])

    def __len__(self) -> int:
        return self._len

    def __repr__(self) -> str:
        return f"CowMap({dict(self.items())!r})"


class AppendLog(Sequence[T]):
    """An append-only list whose copies share storage: a copy remembers its length, and appends
    in place while it is the longest, so snapshots of a growing log cost nothing."""

    __slots__ = ("_items", "_len")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._len = 0

    def copy(self) -> AppendLog[T]:
        new: AppendLog[T] = AppendLog.__new__(AppendLog)
        new._items = self._items
        new._len = self._len
        return new

    def append(self, item: T) -> None:
        if self._len != len(self._items):
            self._items = self._items[: self._len]  # another copy appended first: fork
        self._items.append(item)
        self._len += 1

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self._items[: self._len][index]

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[T]:
        return iter(self._items[: self._len])

    def __repr__(self) -> str:
        return f"AppendLog({self._items[: self._len]!r})"
