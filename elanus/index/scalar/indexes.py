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
from elanus.index.scalar.like import literal_runs, prefix_of

__all__ = ["BitmapIndex", "InvertedIndex", "NgramIndex", "SortIndex", "TrieIndex"]


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


class InvertedIndex:
    """Distinct values with the rows of each (held as per-row codes into the sorted
    distinct values). Answers equality, ranges and any ``like`` on strings."""

    index_type = "INVERTED"

    def __init__(self, column: pa.Array) -> None:
        self.column = DistinctColumn.build(column)
        self.num_rows = len(self.column.codes)

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

    def __init__(self, column: pa.Array) -> None:
        super().__init__(column)
        count = len(self.column.uniques)
        self.bitmaps = [np.packbits(self.column.codes == i) for i in range(count)]

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

    def __init__(self, column: pa.Array) -> None:
        super().__init__(column)
        self.sorted = np.asarray(self.column.uniques.to_numpy(zero_copy_only=False), dtype=object)

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


class SortIndex:
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


class NgramIndex:
    """NGRAM: n-grams (min_gram..max_gram characters) of the distinct strings, to find
    ``like`` candidates; candidates are then matched exactly. Answers only ``like``."""

    index_type = "NGRAM"

    def __init__(self, column: pa.Array, min_gram: int, max_gram: int) -> None:
        self.column = DistinctColumn.build(column)
        self.num_rows = len(self.column.codes)
        self.min_gram, self.max_gram = min_gram, max_gram
        strings = self.column.uniques.to_pylist()
        postings: dict[str, list[int]] = {}
        # index build runs in the background, once per sealed segment; queries never loop
        for i, s in enumerate(strings):
            seen = set()
            for g in range(min_gram, max_gram + 1):
                for start in range(len(s) - g + 1):
                    seen.add(s[start : start + g])
            for gram in seen:
                postings.setdefault(gram, []).append(i)
        self.postings = {k: np.asarray(v, dtype=np.int64) for k, v in postings.items()}

    def equal(self, values: Sequence[Any]) -> np.ndarray | None:
        return None

    def range(
        self, lower: Any, lower_inclusive: bool, upper: Any, upper_inclusive: bool
    ) -> np.ndarray | None:
        return None

    def like(self, pattern: str) -> np.ndarray | None:
        uniques = self.column.uniques
        candidates = np.ones(len(uniques), dtype=bool)
        for run in literal_runs(pattern):
            if len(run) < self.min_gram:
                continue
            g = min(len(run), self.max_gram)
            for start in range(len(run) - g + 1):
                ids = self.postings.get(run[start : start + g])
                hit = np.zeros(len(uniques), dtype=bool)
                if ids is not None:
                    hit[ids] = True
                candidates &= hit
        ids = np.nonzero(candidates)[0]
        selected = np.zeros(len(uniques), dtype=bool)
        if len(ids):
            matched = pc.match_like(uniques.take(pa.array(ids)), pattern)
            selected[ids[np.asarray(matched.to_numpy(zero_copy_only=False), dtype=bool)]] = True
        return self.column.rows(selected)

    def is_null(self) -> np.ndarray:
        return self.column.nulls.copy()
