"""Unit-length copies of stored rows, kept across COSINE searches of immutable blocks.

COSINE is inner product over normalised vectors. Normalising a segment's rows on
every query copies the whole block (and, for half-precision types, widens it),
which costs more than scoring it. A block whose rows never change — a sealed
segment's memory-mapped vectors, the published rows of an append-only growing
buffer, a FLAT index's vectors — is normalised once and the copy reused: a query
then reads the unit rows and copies nothing.

A copy is keyed by the array that owns the memory (found through ``.base``), the
view's start address, strides and element type, and lives no longer than that
owner (a finaliser drops it). Rows are added as a view of an append-only buffer
gets longer, so a growing segment pays only for its new rows. The copies together
stay under ``BUDGET_BYTES``; the least recently used go first, and a block larger
than the budget is normalised per query as before. Each row is normalised exactly
as a per-query normalisation would (the same float32 widening and
``l2_normalize`` over whole rows), so distances are identical either way.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any

import numpy as np

from elanus.index.metrics import as_float32, l2_normalize
from elanus.schema.types import DataType

__all__ = ["BUDGET_BYTES", "cached_bytes", "clear", "unit_rows"]

# Room for every kept copy together (float32 bytes).
BUDGET_BYTES = 256 << 20
# Rows normalised per step when a copy is filled (bounds the widened temporary).
_FILL_ROWS = 65536

_Key = tuple[int, int, tuple[int, ...], int, str, DataType]


class _Entry:
    __slots__ = ("data", "rows", "lock")

    def __init__(self, data: np.ndarray) -> None:
        self.data = data  # capacity rows; the first ``rows`` hold unit rows
        self.rows = 0
        self.lock = threading.Lock()


# Re-entrant: a finaliser (run by garbage collection) may fire while it is held.
_lock = threading.RLock()
_entries: OrderedDict[_Key, _Entry] = OrderedDict()
_watched: dict[int, weakref.finalize[Any, Any]] = {}
_bytes = 0


def unit_rows(dtype: DataType, vectors: Any, immutable: bool) -> np.ndarray | None:
    """``vectors`` widened to float32 with unit-length rows, from the kept copy.

    ``immutable``: the caller knows the rows never change while their owner lives
    (an owner that is read-only counts as such too). None when that is not so, when
    ``vectors`` is not a 2-D numpy array, or when the copy would not fit the
    budget: the caller then normalises per query.
    """
    if not isinstance(vectors, np.ndarray) or vectors.ndim != 2:
        return None
    n, dim = vectors.shape
    if n == 0 or dim == 0:
        return None
    owner = vectors
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if not immutable and owner.flags.writeable:
        return None
    key: _Key = (
        id(owner),
        vectors.__array_interface__["data"][0],
        vectors.strides,
        dim,
        vectors.dtype.str,
        dtype,
    )
    entry = _entries.get(key)
    if entry is None:
        entry = _new_entry(key, owner, n, dim)
        if entry is None:
            return None
    if entry.rows < n:
        with entry.lock:
            if entry.rows < n and not _fill(key, entry, dtype, vectors, n):
                return None
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
    return entry.data[:n]


def _new_entry(key: _Key, owner: np.ndarray, n: int, dim: int) -> _Entry | None:
    global _bytes
    size = n * dim * 4
    if size > BUDGET_BYTES:
        return None
    with _lock:
        entry = _entries.get(key)
        if entry is not None:  # another thread made it first
            return entry
        _evict(size)
        entry = _Entry(np.empty((n, dim), dtype=np.float32))
        _entries[key] = entry
        _bytes += size
        if key[0] not in _watched:
            # Runs when the owner dies, before its id can name another array.
            _watched[key[0]] = weakref.finalize(owner, _forget, key[0])
    return entry


def _fill(key: _Key, entry: _Entry, dtype: DataType, vectors: np.ndarray, n: int) -> bool:
    """Normalise rows ``entry.rows .. n`` into the copy (caller holds the entry's lock)."""
    global _bytes
    old = entry.data
    if old.shape[0] < n:
        dim = old.shape[1]
        capacity = max(n, 2 * old.shape[0])
        if capacity * dim * 4 > BUDGET_BYTES:
            capacity = n
        if capacity * dim * 4 > BUDGET_BYTES:
            _drop(key, entry)
            return False
        grown = np.empty((capacity, dim), dtype=np.float32)
        grown[: entry.rows] = old[: entry.rows]
        with _lock:
            if _entries.get(key) is entry:
                added = grown.nbytes - old.nbytes
                _evict(added, keep=key)
                _bytes += added
            # Readers holding the old array keep their rows: it is replaced, not changed.
            entry.data = grown
    for lo in range(entry.rows, n, _FILL_ROWS):
        hi = min(n, lo + _FILL_ROWS)
        block = as_float32(dtype, np.asarray(vectors[lo:hi]))
        if np.shares_memory(block, vectors):
            block = block.copy()
        entry.data[lo:hi] = l2_normalize(block)
    entry.rows = n
    return True


def _evict(needed: int, keep: _Key | None = None) -> None:
    """Drop least recently used copies until ``needed`` more bytes fit (caller holds _lock)."""
    global _bytes
    for key in list(_entries):
        if _bytes + needed <= BUDGET_BYTES:
            return
        if key != keep:
            gone = _entries.pop(key, None)
            if gone is not None:
                _bytes -= gone.data.nbytes


def _drop(key: _Key, entry: _Entry) -> None:
    global _bytes
    with _lock:
        if _entries.get(key) is entry:
            del _entries[key]
            _bytes -= entry.data.nbytes


def _forget(owner_id: int) -> None:
    global _bytes
    with _lock:
        _watched.pop(owner_id, None)
        for key in [k for k in _entries if k[0] == owner_id]:
            gone = _entries.pop(key, None)
            if gone is not None:
                _bytes -= gone.data.nbytes


def cached_bytes() -> int:
    """Bytes held by the kept copies now."""
    return _bytes


def clear() -> None:
    """Drop every kept copy."""
    global _bytes
    with _lock:
        _entries.clear()
        _bytes = 0
