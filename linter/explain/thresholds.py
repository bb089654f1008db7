"""The numbers behind plan lint and index verdicts, in one place, documented and configurable.

Configure them under `explain-thresholds` in pgpreflight.toml, for example

    [explain-thresholds]
    misestimate-factor = 20
    helps-min-time-ratio = 0.2

An unknown name, or a value that is not a number, stops the run with exit code 2.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from pgpreflight.linter.errors import ConfigError


@dataclass(frozen=True)
class Thresholds:
    misestimate_factor: float = 10.0
    """Plan lint: actual rows and estimated rows (per loop) differ by this factor or more."""
    seq_scan_max_selectivity: float = 0.05
    """Plan lint: a sequential scan that keeps less than this share of the rows it reads ..."""
    seq_scan_min_pages: float = 1000.0
    """... from at least this many pages (shared buffers touched by the scan) is selective."""
    filter_removed_ratio: float = 0.9
    """Plan lint: an index scan whose Filter removes this share of the rows it fetched ..."""
    filter_min_rows: float = 1000.0
    """... out of at least this many rows fetched."""
    heap_fetch_ratio: float = 0.5
    """Plan lint: an index-only scan that visits the heap for this share of its rows or more
    (the visibility map is stale: VACUUM the table)."""
    heap_fetch_min: float = 1000.0
    """... and for at least this many rows."""
    helps_min_time_ratio: float = 0.10
    """Verdict `helps` by time: the median execution time improves by more than this share ..."""
    helps_min_time_ms: float = 0.1
    """... and by more than this many milliseconds."""
    helps_min_buffer_ratio: float = 0.10
    """Verdict `helps` by buffers: shared buffers touched (then temp blocks) drop by more than
    this share."""
    small_table_pages: float = 100.0
    """A table this small (pages) is read whole faster than through an index: the likely reason
    given when an index is not used."""
    low_selectivity: float = 0.2
    """A probe returning more than this share of the table explains an unused index."""

    @classmethod
    def names(cls) -> list[str]:
        return [f.name.replace("_", "-") for f in fields(cls)]

    @classmethod
    def from_config(
        cls, values: dict[str, Any] | None, where: str = "explain-thresholds"
    ) -> Thresholds:
        values = values or {}
        known = {f.name.replace("_", "-"): f.name for f in fields(cls)}
        kwargs: dict[str, float] = {}
        for name, value in values.items():
            if name not in known:
                raise ConfigError(
                    f"{where}: unknown threshold '{name}' (known: {', '.join(sorted(known))})"
                )
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(
                    f"{where}: threshold '{name}' must be a non-negative number, got {value!r}"
                )
            kwargs[known[name]] = float(value)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, float]:
        return {f.name.replace("_", "-"): getattr(self, f.name) for f in fields(self)}
