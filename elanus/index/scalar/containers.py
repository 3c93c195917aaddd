"""Indexes over values inside a column: a JSON path cast to one type (Milvus's JSON
path index) and the elements of ARRAY fields (INVERTED on an ARRAY field).

The engine extracts the values: a JSON path index is built from the values at
``json_path`` cast to ``json_cast_type`` (null where the path is absent or holds
another type), so this layer never parses JSON. A question about a value of another
type is answered with None (the filter scans), because the rows holding such values
were left out of the index. A path index is INVERTED, STL_SORT or BITMAP over those
values, as Milvus allows. ``json_cast_type`` JSON (Milvus's flat index over every
value under the path) holds no values here and answers None to every question: the
filter scans, which selects the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from elanus.index.scalar.columns import DistinctColumn, unique_mask
from elanus.index.scalar.indexes import BitmapIndex, InvertedIndex, SavedIndex, SortIndex

__all__ = ["JSON_CAST_TYPES", "ArrayIndex", "JsonPathIndex", "json_cast_arrow_type"]

_ELEMENT_TYPES = {"BOOL": pa.bool_(), "DOUBLE": pa.float64(), "VARCHAR": pa.string()}
JSON_CAST_TYPES = frozenset({*_ELEMENT_TYPES, *(f"ARRAY_{t}" for t in _ELEMENT_TYPES), "JSON"})
_PATH_INDEXES: dict[str, type[InvertedIndex] | type[SortIndex]] = {
    "INVERTED": InvertedIndex,
    "BITMAP": BitmapIndex,
    "STL_SORT": SortIndex,
}
# float64 holds every integer below this exactly, so comparing an integer literal with
# float64 values gives what an exact integer comparison gives
_EXACT_INT = 2**53


def json_cast_arrow_type(cast_type: str) -> pa.DataType:
    """The Arrow type the engine extracts a JSON path into for ``cast_type``."""
    if cast_type.startswith("ARRAY_"):
        return pa.list_(_ELEMENT_TYPES[cast_type[len("ARRAY_") :]])
    if cast_type == "JSON":
        return pa.string()
    return _ELEMENT_TYPES[cast_type]


def _kind_of(element: str) -> str:
    return {"BOOL": "bool", "DOUBLE": "num", "VARCHAR": "str", "JSON": "none"}[element]


def _accepts(kind: str, value: Any) -> bool:
    if kind == "any":
        return True
    if kind == "none":
        return False
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not isinstance(value, int) or -_EXACT_INT < value < _EXACT_INT


class JsonPathIndex(SavedIndex):
    """INVERTED, STL_SORT or BITMAP over the values at one JSON path cast to BOOL,
    DOUBLE or VARCHAR (JSON: no values, every question scans)."""

    index_type = "INVERTED"

    def __init__(self, cast_type: str, values: pa.Array, index_type: str = "INVERTED") -> None:
        self.cast_type = cast_type
        self.kind = _kind_of(cast_type)
        self.index_type = index_type
        if cast_type == "JSON":
            values = pa.nulls(len(values), pa.string())
        self.inner: InvertedIndex | SortIndex = _PATH_INDEXES[index_type](values)
        self.num_rows = self.inner.num_rows

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray | pa.Array]]:
        meta, arrays = self.inner.state()
        return {**meta, "cast_type": self.cast_type, "index_type": self.index_type}, arrays

    @classmethod
    def restore(cls, meta: dict[str, Any], arrays: dict[str, Any]) -> JsonPathIndex:
        index = cls.__new__(cls)
        index.cast_type = str(meta["cast_type"])
        index.kind = _kind_of(index.cast_type)
        index.index_type = str(meta.get("index_type", "INVERTED"))
        index.inner = _PATH_INDEXES[index.index_type].restore(meta, arrays)
        index.num_rows = index.inner.num_rows
        return index

    def equal(self, values: Sequence[Any]) -> np.ndarray | None:
        if not all(_accepts(self.kind, v) for v in values):
            return None
        return self.inner.equal(values)

    def range(
        self, lower: Any, lower_inclusive: bool, upper: Any, upper_inclusive: bool
    ) -> np.ndarray | None:
        bounds = [b for b in (lower, upper) if b is not None]
        if self.kind in ("bool", "none") or not all(_accepts(self.kind, b) for b in bounds):
            return None
        return self.inner.range(lower, lower_inclusive, upper, upper_inclusive)

    def like(self, pattern: str) -> np.ndarray | None:
        return self.inner.like(pattern) if self.kind == "str" else None

    def is_null(self) -> np.ndarray:
        """Rows without a value of the cast type at the path."""
        return self.inner.is_null()

    def contains(self, items: Sequence[Any], mode: str) -> np.ndarray | None:
        return None


class ArrayIndex(SavedIndex):
    """The distinct elements of list values with the rows holding each: answers
    ``array_contains`` / ``json_contains`` and their ``_all`` / ``_any`` forms.

    ``kind`` limits the questions answered to one value type (a JSON path index keeps
    only elements of its cast type); ``"any"`` answers all (an ARRAY field's elements
    all have the field's element type)."""

    index_type = "INVERTED"

    def __init__(self, column: pa.Array, kind: str = "any", cast_type: str = "") -> None:
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        self.cast_type, self.kind = cast_type, kind
        self.num_rows = len(column)
        self.nulls = np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        self.parents = pc.list_parent_indices(column).to_numpy(zero_copy_only=False)
        self.parents = self.parents.astype(np.int64)
        self.elements = DistinctColumn.build(column.flatten())

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray | pa.Array]]:
        meta = {"cast_type": self.cast_type, "kind": self.kind, "num_rows": self.num_rows}
        arrays = {**self.elements.state("e_"), "parents": self.parents, "nulls": self.nulls}
        return meta, arrays

    @classmethod
    def restore(cls, meta: dict[str, Any], arrays: dict[str, Any]) -> ArrayIndex:
        index = cls.__new__(cls)
        index.cast_type, index.kind = str(meta["cast_type"]), str(meta["kind"])
        index.num_rows = int(meta["num_rows"])
        index.nulls, index.parents = arrays["nulls"], arrays["parents"]
        index.elements = DistinctColumn.restore(arrays, "e_")
        return index

    def _rows_with(self, item: Any) -> np.ndarray:
        hits = self.elements.rows(unique_mask(self.elements.uniques, "==", item))
        out = np.zeros(self.num_rows, dtype=bool)
        out[self.parents[hits]] = True
        return out

    def contains(self, items: Sequence[Any], mode: str) -> np.ndarray | None:
        """Rows whose list holds any (``mode`` "one"/"any") or all ("all") of ``items``."""
        if not items or not all(_accepts(self.kind, v) for v in items):
            return None
        out = self._rows_with(items[0])
        for item in items[1:]:
            if mode == "all":
                out &= self._rows_with(item)
            else:
                out |= self._rows_with(item)
        return out

    def equal(self, values: Sequence[Any]) -> np.ndarray | None:
        return None

    def range(
        self, lower: Any, lower_inclusive: bool, upper: Any, upper_inclusive: bool
    ) -> np.ndarray | None:
        return None

    def like(self, pattern: str) -> np.ndarray | None:
        return None

    def is_null(self) -> np.ndarray:
        return self.nulls.copy()
