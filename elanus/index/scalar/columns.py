"""A scalar column as an index sees it: distinct values, per-row codes, null rows.

Built with Arrow's C++ kernels (dictionary encoding, sorting), so building an index
never loops over rows in Python. Values are compared the way the filter evaluator
compares them: numbers numerically (int columns widened to int64, floats to float64,
NaN matching nothing), strings by code point, TIMESTAMPTZ as UTC microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["DistinctColumn", "is_string_type", "normalise", "unique_mask"]


def is_string_type(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def normalise(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array; integers as int64, floats as float64, timestamps as int64."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    t = column.type
    if pa.types.is_integer(t) or pa.types.is_timestamp(t):
        return column.cast(pa.int64())
    if pa.types.is_floating(t):
        return column.cast(pa.float64())
    if pa.types.is_large_string(t):
        return column.cast(pa.string())
    if pa.types.is_boolean(t) or is_string_type(t):
        return column
    raise TypeError(f"a scalar index cannot be built on a column of type {t}")


@dataclass(frozen=True)
class DistinctColumn:
    """``uniques``: the distinct non-null values, sorted; ``codes``: for each row the
    position of its value in ``uniques``, or ``len(uniques)`` for a null row."""

    uniques: pa.Array
    codes: np.ndarray
    nulls: np.ndarray

    @classmethod
    def build(cls, column: pa.Array) -> DistinctColumn:
        column = normalise(column)
        encoded = column.dictionary_encode()
        dictionary = encoded.dictionary
        order = pc.array_sort_indices(dictionary).to_numpy(zero_copy_only=False)
        rank = np.empty(len(dictionary) + 1, dtype=np.int64)
        rank[order] = np.arange(len(dictionary))
        rank[len(dictionary)] = len(dictionary)
        indices = encoded.indices
        nulls = np.asarray(indices.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        raw = pc.fill_null(indices, len(dictionary)).to_numpy(zero_copy_only=False)
        codes = rank[raw.astype(np.int64)]
        return cls(dictionary.take(pa.array(order)), codes, nulls)

    def state(self, prefix: str = "") -> dict[str, np.ndarray | pa.Array]:
        """The arrays to save (see ``elanus.index.scalar.persist``)."""
        return {
            f"{prefix}uniques": self.uniques,
            f"{prefix}codes": self.codes,
            f"{prefix}nulls": self.nulls,
        }

    @classmethod
    def restore(cls, arrays: dict[str, Any], prefix: str = "") -> DistinctColumn:
        return cls(arrays[f"{prefix}uniques"], arrays[f"{prefix}codes"], arrays[f"{prefix}nulls"])

    def rows(self, selected: np.ndarray) -> np.ndarray:
        """Row mask from a mask over ``uniques``."""
        extended = np.zeros(len(self.uniques) + 1, dtype=bool)
        extended[: len(selected)] = selected
        return extended[self.codes]


def unique_mask(uniques: pa.Array, op: str, value: Any) -> np.ndarray:
    """Compare every distinct value with ``value`` (op in == < <= > >=)."""
    if is_string_type(uniques.type):
        if not isinstance(value, str):
            return np.zeros(len(uniques), dtype=bool)
        fn = {
            "==": pc.equal,
            "<": pc.less,
            "<=": pc.less_equal,
            ">": pc.greater,
            ">=": pc.greater_equal,
        }[op]
        out = fn(uniques, pa.scalar(value, type=pa.string()))
        return np.asarray(pc.fill_null(out, False).to_numpy(zero_copy_only=False), dtype=bool)
    if isinstance(value, str):
        return np.zeros(len(uniques), dtype=bool)
    data = uniques.to_numpy(zero_copy_only=False)
    scalar = (
        np.bool_(value)
        if isinstance(value, bool)
        else (np.int64(value) if isinstance(value, int) else np.float64(value))
    )
    with np.errstate(invalid="ignore"):
        if op == "==":
            return np.asarray(data == scalar, dtype=bool)
        if op == "<":
            return np.asarray(data < scalar, dtype=bool)
        if op == "<=":
            return np.asarray(data <= scalar, dtype=bool)
        if op == ">":
            return np.asarray(data > scalar, dtype=bool)
        return np.asarray(data >= scalar, dtype=bool)
