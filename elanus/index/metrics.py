"""Metric names, their direction, and the array helpers every index shares.

Milvus's conventions: ``L2`` is the squared euclidean distance, ``IP`` and
``COSINE`` are similarities, ``HAMMING``/``JACCARD``/``MHJACCARD`` are distances,
``SUBSTRUCTURE``/``SUPERSTRUCTURE`` are matches (distance 0, or no hit),
``IP``/``BM25`` on sparse vectors are scores.
"""

from __future__ import annotations

import operator
from typing import Any

import faiss as _faiss_module
import ml_dtypes
import numpy as np

from elanus.errors import ParameterError
from elanus.schema.types import DataType, dense_vector_numpy_dtype

# FAISS's bundled type stubs lag its SWIG API; treat the module as untyped.
faiss: Any = _faiss_module

__all__ = [
    "FLOAT_METRICS",
    "BINARY_METRICS",
    "SPARSE_METRICS",
    "larger_is_better",
    "worst_distance",
    "normalize_metric",
    "faiss_metric",
    "as_float32",
    "as_queries",
    "l2_normalize",
    "range_mask",
    "topk_merge",
    "fill_missing",
    "has_missing",
    "is_best_first",
]

FLOAT_METRICS = ("L2", "IP", "COSINE")
BINARY_METRICS = ("HAMMING", "JACCARD", "MHJACCARD", "SUBSTRUCTURE", "SUPERSTRUCTURE")
SPARSE_METRICS = ("IP", "BM25")
_LARGER_BETTER = frozenset({"IP", "COSINE", "BM25"})
_KNOWN = frozenset(FLOAT_METRICS + BINARY_METRICS + SPARSE_METRICS)


def normalize_metric(metric: str) -> str:
    """Upper-case a metric name and check that it is one Milvus knows."""
    name = str(metric).strip().upper()
    if name not in _KNOWN:
        raise ParameterError(
            f"metric type {metric} not found or not supported, "
            f"supported: [{' '.join(sorted(_KNOWN))}]"
        )
    return name


def larger_is_better(metric: str) -> bool:
    """True for similarity metrics (IP, COSINE, BM25), False for distances."""
    return normalize_metric(metric) in _LARGER_BETTER


# Up to this many ids a check runs on Python ints: numpy's fixed cost per call
# (several microseconds for a reduction) is larger than the whole check.
_SMALL_CHECK = 64


def has_missing(ids: np.ndarray) -> bool:
    """Whether any id is -1 (a slot that holds no hit)."""
    if ids.size == 0:
        return False
    if ids.size <= _SMALL_CHECK:
        return bool(min(ids.ravel().tolist()) < 0)
    return bool(ids.min() < 0)


def worst_distance(metric: str) -> float:
    """The distance written into a slot that holds no hit."""
    return -np.inf if larger_is_better(metric) else np.inf


def faiss_metric(metric: str) -> int:
    """FAISS metric code: COSINE is inner product over normalised vectors."""
    return faiss.METRIC_L2 if normalize_metric(metric) == "L2" else faiss.METRIC_INNER_PRODUCT


def as_float32(dtype: DataType, block: np.ndarray) -> np.ndarray:
    """One block of stored dense vectors as float32, copied only when it must be.

    bfloat16 arrives as its raw uint16 bits; ml_dtypes reinterprets them without
    a copy before the widening cast.
    """
    if dtype == DataType.BFLOAT16_VECTOR and block.dtype == np.uint16:
        return np.ascontiguousarray(block.view(ml_dtypes.bfloat16), dtype=np.float32)
    return np.ascontiguousarray(block, dtype=np.float32)


def as_queries(dtype: DataType, queries: Any) -> np.ndarray:
    """Queries as a 2-D array FAISS accepts: float32 rows, or uint8 rows for binary."""
    if (
        type(queries) is np.ndarray
        and queries.dtype == np.float32
        and queries.ndim == 2
        and queries.flags.c_contiguous
        and dtype != DataType.BINARY_VECTOR
    ):
        return queries  # already what every dense type's path below would return
    if dtype == DataType.BINARY_VECTOR:
        arr = np.asarray(queries)
        if arr.dtype != np.uint8:
            arr = arr.astype(np.uint8)
        return np.ascontiguousarray(np.atleast_2d(arr))
    arr = np.asarray(queries)
    if arr.ndim == 1:
        arr = arr[None, :]
    stored = dense_vector_numpy_dtype(dtype)
    if arr.dtype == stored:
        return as_float32(dtype, arr)
    return np.ascontiguousarray(arr, dtype=np.float32)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), in place when x is float32."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    x /= norms
    return x


def range_mask(
    metric: str, distances: np.ndarray, radius: float, range_filter: float | None
) -> np.ndarray:
    """Which distances fall inside Milvus's range for the metric's direction."""
    if larger_is_better(metric):
        mask = distances > radius
        if range_filter is not None:
            mask &= distances <= range_filter
    else:
        mask = distances < radius
        if range_filter is not None:
            mask &= distances >= range_filter
    return np.asarray(mask)


def topk_merge(
    metric: str, distances: np.ndarray, ids: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` per row of candidate (distances, ids), sorted best first.

    Candidates with id -1 are ignored; short rows are padded (id -1, worst distance).
    """
    nq = distances.shape[0]
    key = -distances if larger_is_better(metric) else distances.copy()
    key = key.astype(np.float64, copy=False)
    key[ids < 0] = np.inf
    width = key.shape[1]
    if width > k:
        part = np.argpartition(key, k - 1, axis=1)[:, :k]
        key = np.take_along_axis(key, part, axis=1)
        distances = np.take_along_axis(distances, part, axis=1)
        ids = np.take_along_axis(ids, part, axis=1)
    order = np.argsort(key, axis=1, kind="stable")
    out_d = np.take_along_axis(distances, order, axis=1).astype(np.float32, copy=False)
    out_i = np.take_along_axis(ids, order, axis=1).astype(np.int64, copy=False)
    out_d, out_i = fill_missing(metric, out_d, out_i)
    if out_d.shape[1] < k:
        pad = k - out_d.shape[1]
        out_d = np.hstack([out_d, np.full((nq, pad), worst_distance(metric), np.float32)])
        out_i = np.hstack([out_i, np.full((nq, pad), -1, np.int64)])
    return out_d, out_i


def fill_missing(
    metric: str, distances: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Write the metric's worst distance into slots whose id is -1."""
    if has_missing(ids):
        distances = np.array(distances, dtype=np.float32, copy=True)
        distances[ids < 0] = worst_distance(metric)
    return distances, ids


def is_best_first(metric: str, distances: np.ndarray, ids: np.ndarray) -> bool:
    """Whether every row of (distances, ids) is already what ``topk_merge`` gives back:
    best first, no empty slot (id -1), no NaN. Then the merge can be skipped.

    A NaN fails every comparison, so rows holding one take the merge.
    """
    if distances.size == 0:
        return True
    if has_missing(ids):
        return False
    better_or_equal = operator.ge if larger_is_better(metric) else operator.le
    if distances.shape[0] == 1 and distances.size <= _SMALL_CHECK:
        d = distances[0].tolist()
        return all(map(better_or_equal, d, d[1:]))
    return bool(better_or_equal(distances[:, :-1], distances[:, 1:]).all())
