"""Hybrid timestamps (Milvus's format) and the read timestamp of each consistency level.

A hybrid timestamp is ``physical_ms << 18 | logical``. The oracle hands out strictly
increasing values even when the wall clock stalls or steps back, so a timestamp is
also a unique, ordered id (segment ids and auto ids are drawn from it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from elanus.engine.requests import ConsistencyLevel
from elanus.errors import ParameterError

__all__ = [
    "GUARANTEE_WAIT_LIMIT_S",
    "LOGICAL_BITS",
    "TimestampOracle",
    "compose_timestamp",
    "physical_ms",
    "read_timestamp",
    "wait_for_timestamp",
]

LOGICAL_BITS = 18
_LOGICAL_MASK = (1 << LOGICAL_BITS) - 1
# The longest a read waits for the clock to reach a future guarantee timestamp; one
# further ahead is refused at once rather than after a pointless wait.
GUARANTEE_WAIT_LIMIT_S = 10.0


def compose_timestamp(physical: int, logical: int = 0) -> int:
    return (int(physical) << LOGICAL_BITS) | (int(logical) & _LOGICAL_MASK)


def physical_ms(timestamp: int) -> int:
    return int(timestamp) >> LOGICAL_BITS


class TimestampOracle:
    """Monotonic, thread-safe source of hybrid timestamps."""

    def __init__(self, floor: int = 0, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._last = int(floor)
        # Seconds since the epoch; a test may substitute a clock it moves itself.
        self.clock = clock

    def wall_ms(self) -> int:
        """The wall clock in milliseconds (what collection TTL is measured against)."""
        return int(self.clock() * 1000)

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
            first = max(self._last + 1, compose_timestamp(self.wall_ms()))
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
    wait_limit: float = GUARANTEE_WAIT_LIMIT_S,
) -> int:
    """The timestamp a read is served at.

    In one process every write is applied before it is acknowledged, so the
    latest published snapshot already holds everything the level asks for:
    Strong reads at "now"; Session at least at the caller's last write;
    Bounded and Eventually at the newest write the oracle has seen (Milvus lets
    them lag; reading fresher data is allowed and costs nothing here).
    ``guarantee_timestamp`` (Customized) is a lower bound: as Milvus blocks a read
    until its service time passes it, a guarantee ahead of the oracle's clock is
    waited for (``wait_for_timestamp``); no lock is held while waiting.
    """
    level = ConsistencyLevel.parse(consistency_level)
    guarantee = int(guarantee_timestamp or 0)
    if guarantee > oracle.last:
        wait_for_timestamp(guarantee, wait_limit)
        # Later writes are stamped above the guarantee, so the snapshot read at it
        # stays what it is.
        oracle.observe(guarantee)
    if level == ConsistencyLevel.STRONG:
        ts = oracle.now()
    else:
        ts = oracle.last
        if level == ConsistencyLevel.SESSION:
            ts = max(ts, session_timestamp)
    return max(ts, guarantee)


def wait_for_timestamp(timestamp: int, limit: float = GUARANTEE_WAIT_LIMIT_S) -> None:
    """Sleep until the wall clock reaches ``timestamp``'s physical time; a timestamp
    more than ``limit`` seconds ahead is an error naming it."""
    ahead = physical_ms(timestamp) / 1000.0 - time.time()
    if ahead <= 0:
        return
    if ahead > limit:
        raise ParameterError(
            f"guarantee timestamp {timestamp} (physical time {physical_ms(timestamp)} ms) is "
            f"{ahead:.1f} s in the future; a read waits at most {limit:g} s for it"
        )
    time.sleep(ahead)
