"""Primary-key lookup as array operations: sorted keys + ``np.searchsorted``.

Keys are held as int64 arrays or as fixed-width unicode arrays (``<U``), both of
which NumPy sorts and searches in C; no per-row Python on any lookup.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["SortedKeys", "as_key_array", "last_occurrence_mask"]


def as_key_array(keys: Any) -> np.ndarray:
    """Primary keys (pyarrow array, numpy array or list) as int64 or ``<U`` numpy."""
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    if isinstance(keys, pa.Array):
        if pa.types.is_integer(keys.type):
            return np.asarray(keys.to_numpy(zero_copy_only=False), dtype=np.int64)
        keys = keys.to_numpy(zero_copy_only=False)
    arr = np.asarray(keys)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "U":
        return arr
    if arr.size == 0:
        return np.asarray([], dtype="<U1")
    if arr.dtype.kind == "O" and isinstance(arr.flat[0], (int, np.integer)):
        return arr.astype(np.int64)
    return arr.astype(str)


def last_occurrence_mask(keys: np.ndarray) -> np.ndarray:
    """True for each key's last occurrence in ``keys`` (later rows win)."""
    n = len(keys)
    if n < 2:
        return np.ones(n, dtype=bool)
    rev = keys[::-1]
    _, first_in_rev = np.unique(rev, return_index=True)
    keep = np.zeros(n, dtype=bool)
    keep[n - 1 - first_in_rev] = True
    return keep


class SortedKeys:
    """An immutable sorted view of one segment's primary keys (duplicates allowed)."""

    __slots__ = ("_order", "_sorted", "size")

    def __init__(self, keys: np.ndarray) -> None:
        self._order = np.argsort(keys, kind="stable")
        self._sorted = keys[self._order]
        self.size = len(keys)

    def match(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (query position, row) pair whose keys are equal."""
        if self.size == 0 or len(query) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        if self._sorted.dtype.kind != query.dtype.kind:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        left = np.searchsorted(self._sorted, query, side="left")
        right = np.searchsorted(self._sorted, query, side="right")
        counts = right - left
        total = int(counts.sum())
        if total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        qpos = np.repeat(np.arange(len(query), dtype=np.int64), counts)
        # position within each run: global arange minus the run's start offset
        run_start = np.repeat(np.cumsum(counts) - counts, counts)
        sorted_pos = np.repeat(left, counts) + (np.arange(total) - run_start)
        return qpos, self._order[sorted_pos].astype(np.int64)
