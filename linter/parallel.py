"""Per-migration rule work spread over forked worker processes (`lint --jobs`).

The schema snapshots, facts and parse trees of a run are large and built once; a forked worker
inherits them without copying or pickling anything, checks its share of the migrations and sends
back only its findings. Where `fork` does not exist, or a worker fails, the work is done in this
process instead, so a worker can change the time a run takes and never its result.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def in_workers(
    work: Callable[[Sequence[int]], list[T]], items: Sequence[int], workers: int
) -> list[T]:
    """`work(items)`, done as `work(share)` in up to `workers` forked processes, the results
    concatenated in share order. The shares interleave the items (0, n, 2n, ... to the first), so
    each gets early and late migrations alike."""
    workers = min(workers, len(items))
    if workers <= 1 or not hasattr(os, "fork"):
        return work(items)
    shares = [list(items[k::workers]) for k in range(workers)]
    children: list[tuple[int, int]] = []
    for share in shares[1:]:
        children.append(_fork(work, share))
    results = work(shares[0])  # this process takes a share too
    for (pid, fd), share in zip(children, shares[1:], strict=True):
        results.extend(_collect(pid, fd, work, share))
    return results


def _fork(work: Callable[[Sequence[int]], list[T]], share: Sequence[int]) -> tuple[int, int]:
    import pickle  # a run with one process, the usual one, never needs it

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns into the caller's code
        os.close(read)
        code = 1
        try:
            with os.fdopen(write, "wb") as out:
                pickle.dump(work(share), out, protocol=pickle.HIGHEST_PROTOCOL)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def _collect(
    pid: int, fd: int, work: Callable[[Sequence[int]], list[T]], share: Sequence[int]
) -> list[T]:
    import pickle

    with os.fdopen(fd, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return work(share)  # the worker failed: redo its share here, where errors surface
    found: list[T] = pickle.loads(data)  # written by our own forked child
    return found
