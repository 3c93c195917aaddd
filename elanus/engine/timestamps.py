"""Hybrid timestamps (Milvus's format) and the read timestamp of each consistency level.

A hybrid timestamp is ``physical_ms << 18 | logical``. The oracle hands out strictly
increasing values even when the wall clock stalls or steps back, so a timestamp is
also a unique, ordered id (segment ids and auto ids are drawn from it).
"""

from __future__ import annotations

import threading
import time

from elanus.engine.requests import ConsistencyLevel

__all__ = [
    "LOGICAL_BITS",
    "TimestampOracle",
    "compose_timestamp",
    "physical_ms",
    "read_timestamp",
]

LOGICAL_BITS = 18
_LOGICAL_MASK = (1 << LOGICAL_BITS) - 1


def compose_timestamp(physical: int, logical: int = 0) -> int:
    return (int(physical) << LOGICAL_BITS) | (int(logical) & _LOGICAL_MASK)


def physical_ms(timestamp: int) -> int:
    return int(timestamp) >> LOGICAL_BITS


class TimestampOracle:
    """Monotonic, thread-safe source of hybrid timestamps."""

    def __init__(self, floor: int = 0) -> None:
        self._lock = threading.Lock()
        self._last = int(floor)

    @property
    def last(self) -> int:
        """The newest value handed out (or observed)."""
        return self._last

    def observe(self, timestamp: int) -> None:
        """Never hand out a value at or below ``timestamp`` (used on recovery)."""
        with self._lock:
            self._last = max(self._last, int(timestamp))

    def allocate(self, count: int = 1) -> int:
        """Reserve ``count`` consecutive values; returns the first."""
        if count < 1:
            raise ValueError("count must be positive")
        with self._lock:
            first = max(self._last + 1, compose_timestamp(int(time.time() * 1000)))
            self._last = first + count - 1
            return first

    def now(self) -> int:
        return self.allocate(1)


def read_timestamp(
    consistency_level: str | None,
    *,
    oracle: TimestampOracle,
    guarantee_timestamp: int = 0,
    session_timestamp: int = 0,
) -> int:
    """The timestamp a read is served at.

    In one process every write is applied before it is acknowledged, so the
    latest published snapshot already holds everything the level asks for:
    Strong reads at "now"; Session at least at the caller's last write;
    Bounded and Eventually at the newest write the oracle has seen (Milvus lets
    them lag; reading fresher data is allowed and costs nothing here).
    ``guarantee_timestamp`` (Customized) is honoured as a lower bound.
    """
    level = ConsistencyLevel.parse(consistency_level)
    if level == ConsistencyLevel.STRONG:
        ts = oracle.now()
    else:
        ts = oracle.last
        if level == ConsistencyLevel.SESSION:
            ts = max(ts, session_timestamp)
    return max(ts, int(guarantee_timestamp or 0))
