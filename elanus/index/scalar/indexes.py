"""The scalar index types Milvus names: INVERTED, BITMAP, STL_SORT, TRIE, NGRAM.

Each answers filter leaves with bool row masks (the ``elanus.expr.ScalarIndex``
protocol, matched structurally): ``equal``, ``range``, ``like``, ``is_null``. A method
returns None for a question its structure cannot answer, and the filter then scans
the column; when it answers, the rows are exactly those a scan selects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from elanus.index.scalar.columns import DistinctColumn, is_string_type, normalise, unique_mask
from elanus.index.scalar.like import prefix_of
from elanus.index.scalar.persist import write_state

__all__ = ["BitmapIndex", "InvertedIndex", "SavedIndex", "SortIndex", "TrieIndex"]


class SavedIndex:
    """What every scalar index shares: ``save`` writes ``state()``; the loader calls
    the class's ``restore`` with what was written (no rebuild from the column)."""

    index_type = ""

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray | pa.Array]]:
        raise NotImplementedError

    def save(self, path: str) -> None:
        meta, arrays = self.state()
        write_state(path, type(self).__name__, {"index_type": self.index_type, **meta}, arrays)


def _upper_bound(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix``."""
    for i in range(len(prefix) - 1, -1, -1):
        if ord(prefix[i]) < 0x10FFFF:
            return prefix[:i] + chr(ord(prefix[i]) + 1)
    return None


def _range_mask(
    uniques: pa.Array, lower: Any, lower_inc: bool, upper: Any, upper_inc: bool
) -> np.ndarray:
    mask = np.ones(len(uniques), dtype=bool)
    if lower is not None:
        mask &= unique_mask(uniques, ">=" if lower_inc else ">", lower)
    if upper is not None:
        mask &= unique_mask(uniques, "<=" if upper_inc else "<", upper)
    return mask


class InvertedIndex(SavedIndex):
    """Distinct values with the rows of each (held as per-row codes into the sorted
    distinct values). Answers equality, ranges and any ``like`` on strings."""

    index_type = "INVERTED"

    def __init__(self, column: pa.Array) -> None:
        self._attach(DistinctColumn.build(column))

    def _attach(self, column: DistinctColumn) -> None:
        self.column = column
        self.num_rows = len(column.codes)

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray | pa.Array]]:
        return {}, self.column.state()

    @classmethod
    def restore(cls, meta: dict[str, Any], arrays: dict[str, Any]) -> InvertedIndex:
        index = cls.__new__(cls)
        index._attach(DistinctColumn.restore(arrays))
        return index

    def _select(self, selected: np.ndarray) -> np.ndarray:
        return self.column.rows(selected)

    def equal(self, values: Sequence[Any]) -> np.ndarray | None:
        uniques = self.column.uniques
        selected = np.zeros(len(uniques), dtype=bool)
        for v in values:
            selected |= unique_mask(uniques, "==", v)
        return self._select(selected)

    def range(
        self, lower: Any, lower_inclusive: bool, upper: Any, upper_inclusive: bool
    ) -> np.ndarray | None:
        return self._select(
            _range_mask(self.column.uniques, lower, lower_inclusive, upper, upper_inclusive)
        )

    def like(self, pattern: str) -> np.ndarray | None:
        uniques = self.column.uniques
        if not is_string_type(uniques.type):
            return None
        hit = pc.match_like(uniques, pattern)
        return self._select(np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool))

    def is_null(self) -> np.ndarray:
        return self.column.nulls.copy()


class BitmapIndex(InvertedIndex):
    """One packed bitmap per distinct value: for low-cardinality columns, where OR-ing
    a few bitmaps beats gathering codes."""

    index_type = "BITMAP"

    def _attach(self, column: DistinctColumn) -> None:
        super()._attach(column)
        # low cardinality is the point of BITMAP, so one pass per distinct value is cheap
        count = len(column.uniques)
        self.bitmaps = [np.packbits(column.codes == i) for i in range(count)]

    def _select(self, selected: np.ndarray) -> np.ndarray:
        ids = np.nonzero(selected)[0]
        if len(ids) > len(self.bitmaps) // 2:
            return self.column.rows(selected)
        packed = np.zeros((self.num_rows + 7) // 8, dtype=np.uint8)
        for i in ids:
            packed |= self.bitmaps[i]
        return np.unpackbits(packed, count=self.num_rows).astype(bool)


class TrieIndex(InvertedIndex):
    """Sorted distinct strings: equality, ranges and prefix ``like`` by binary search;
    other ``like`` patterns are matched on the distinct strings only."""

    index_type = "TRIE"

    def _attach(self, column: DistinctColumn) -> None:
        super()._attach(column)
        self.sorted = np.asarray(column.uniques.to_numpy(zero_copy_only=False), dtype=object)

    def like(self, pattern: str) -> np.ndarray | None:
        prefix = prefix_of(pattern)
        if prefix is None:
            return super().like(pattern)
        text, exact = prefix
        if exact:
            return self.equal([text])
        lo = int(np.searchsorted(self.sorted, text, side="left"))
        upper = _upper_bound(text)
        hi = (
            len(self.sorted)
            if upper is None
            else int(np.searchsorted(self.sorted, upper, side="left"))
        )
        selected = np.zeros(len(self.sorted), dtype=bool)
        selected[lo:hi] = True
        return self._select(selected)


class SortIndex(SavedIndex):
    """STL_SORT: the non-null values sorted, with their rows; ranges and equality by
    binary search, prefix ``like`` on strings as a range."""

    index_type = "STL_SORT"

    def __init__(self, column: pa.Array) -> None:
        column = normalise(column)
        self.num_rows = len(column)
        self.nulls = np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        order = pc.array_sort_indices(column, null_placement="at_end").to_numpy(
            zero_copy_only=False
        )
        valid = len(column) - column.null_count
        order = order[:valid]
        values = column.take(pa.array(order))
        self.strings = is_string_type(column.type)
        if self.strings:
            data = np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
        else:
            data = values.to_numpy(zero_copy_only=False)
            if data.dtype.kind == "f":
                keep = ~np.isnan(data)  # NaN sorts last and matches nothing
                data, order = data[keep], order[keep]
        self.values = data
        self.order = order.astype(np.int64)

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray | pa.Array]]:
        values = pa.array(self.values, type=pa.string()) if self.strings else self.values
        return {"strings": self.strings, "num_rows": self.num_rows}, {
            "values": values,
            "order": self.order,
            "nulls": self.nulls,
        }

    @classmethod
    def restore(cls, meta: dict[str, Any], arrays: dict[str, Any]) -> SortIndex:
        index = cls.__new__(cls)
        index.num_rows = int(meta["num_rows"])
        index.strings = bool(meta["strings"])
        values = arrays["values"]
        index.values = (
            np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
            if index.strings
            else values
        )
        index.order = arrays["order"]
        index.nulls = arrays["nulls"]
        return index

    def _rows(self, lo: int, hi: int) -> np.ndarray:
        out = np.zeros(self.num_rows, dtype=bool)
        if hi > lo:
            out[self.order[lo:hi]] = True
        return out

    def _comparable(self, value: Any) -> bool:
        return isinstance(value, str) == self.strings

    def equal(self, values: Sequence[Any]) -> np.ndarray | None:
        out = np.zeros(self.num_rows, dtype=bool)
        for v in values:
            if not self._comparable(v):
                continue
            lo = int(np.searchsorted(self.values, v, side="left"))
            hi = int(np.searchsorted(self.values, v, side="right"))
            if hi > lo:
                out[self.order[lo:hi]] = True
        return out

    def range(
        self, lower: Any, lower_inclusive: bool, upper: Any, upper_inclusive: bool
    ) -> np.ndarray | None:
        if (lower is not None and not self._comparable(lower)) or (
            upper is not None and not self._comparable(upper)
        ):
            return np.zeros(self.num_rows, dtype=bool)
        lo, hi = 0, len(self.values)
        if lower is not None:
            lo = int(
                np.searchsorted(self.values, lower, side="left" if lower_inclusive else "right")
            )
        if upper is not None:
            hi = int(
                np.searchsorted(self.values, upper, side="right" if upper_inclusive else "left")
            )
        return self._rows(lo, hi)

    def like(self, pattern: str) -> np.ndarray | None:
        if not self.strings:
            return None
        prefix = prefix_of(pattern)
        if prefix is None:
            return None
        text, exact = prefix
        if exact:
            return self.equal([text])
        upper = _upper_bound(text)
        return (
            self.range(text, True, upper, False)
            if upper is not None
            else self.range(text, True, None, False)
        )

    def is_null(self) -> np.ndarray:
        return self.nulls.copy()
