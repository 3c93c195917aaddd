"""Behaviour every vector index shares: argument checks, thread policy, the
filtered-search fallback, range search by widening k, and the saved metadata.

A subclass supplies ``_knn`` (top-k with an optional row mask), ``_reconstruct``
(best vectors it holds for some rows, for exact scans of few survivors) and
``_save_files`` / ``_load``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import faiss as _faiss_module
import numpy as np

from elanus.errors import ParameterError
from elanus.index.exact import assemble_range, binary_distances, dense_distances
from elanus.index.metrics import (
    as_queries,
    fill_missing,
    l2_normalize,
    larger_is_better,
    range_mask,
    topk_merge,
    worst_distance,
)
from elanus.index.params import check_search_params
from elanus.index.protocol import RangeResult
from elanus.schema.types import DataType

# FAISS's bundled type stubs lag its SWIG API; treat the module as untyped.
faiss: Any = _faiss_module

__all__ = ["BaseVectorIndex", "META_FILE", "faiss_threads", "read_meta", "FAISS_READ_FLAGS"]

META_FILE = "meta.json"
# Flat codes are memory-mapped (the OS pages them in on demand); graph links and
# inverted lists are read into memory.
FAISS_READ_FLAGS = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY


@contextmanager
def faiss_threads(nq: int) -> Iterator[None]:
    """One OpenMP thread for a single query; the default for batches.

    A lone query gains nothing from FAISS's parallel loops (they split over
    queries) but pays thread wake-ups; measured in benchmarks/. The OpenMP
    setting is per calling thread, so concurrent requests do not interfere.
    """
    if nq > 1:
        yield
        return
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def read_meta(path: str | Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((Path(path) / META_FILE).read_text())
    return meta


def bitmap_selector(allowed: np.ndarray) -> tuple[Any, np.ndarray]:
    """A FAISS ID selector over a boolean row mask (the packed bits must outlive it)."""
    bits = np.packbits(allowed, bitorder="little")
    return faiss.IDSelectorBitmap(bits), bits


class BaseVectorIndex:
    """Shared implementation of ``elanus.index.protocol.VectorIndex``."""

    kind: ClassVar[str] = ""
    # Below this fraction of rows passing the mask, scan the survivors exactly.
    brute_force_fraction: ClassVar[float] = 0.0

    def __init__(
        self,
        index_type: str,
        metric_type: str,
        params: dict[str, Any],
        dtype: DataType,
        dim: int,
        ntotal: int,
    ) -> None:
        self._index_type = index_type
        self._metric = metric_type
        self._params = dict(params)
        self._dtype = DataType.parse(dtype)
        self._dim = int(dim)
        self._ntotal = int(ntotal)

    # -------------------------------------------------------------- protocol

    @property
    def index_type(self) -> str:
        return self._index_type

    @property
    def metric_type(self) -> str:
        return self._metric

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._params)

    @property
    def dtype(self) -> DataType:
        return self._dtype

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def ntotal(self) -> int:
        return self._ntotal

    @property
    def nbytes(self) -> int:
        raise NotImplementedError

    def search(
        self,
        queries: Any,
        k: int,
        params: dict[str, Any] | None = None,
        allowed: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        sp = check_search_params(self._index_type, self._metric, params, k)
        q = self._prepare_queries(queries)
        nq = q.shape[0]
        allowed = self._check_mask(allowed)
        if self._ntotal == 0 or (allowed is not None and not allowed.any()):
            return self._empty(nq, k)
        with faiss_threads(nq):
            if allowed is not None and self.brute_force_fraction > 0:
                passing = int(np.count_nonzero(allowed))
                if passing <= max(k, self.brute_force_fraction * self._ntotal):
                    return self._scan_rows(q, np.flatnonzero(allowed), k)
            d, i = self._knn(q, k, sp, allowed)
        return fill_missing(self._metric, d, i)

    def range_search(
        self,
        queries: Any,
        radius: float,
        range_filter: float | None = None,
        params: dict[str, Any] | None = None,
        allowed: np.ndarray | None = None,
        limit: int | None = None,
    ) -> RangeResult:
        """k-NN searches with k doubling until each query's k-th hit leaves the range."""
        check_search_params(
            self._index_type,
            self._metric,
            {**(params or {}), "radius": radius, "range_filter": range_filter},
        )
        q = self._prepare_queries(queries)
        nq = q.shape[0]
        allowed = self._check_mask(allowed)
        available = self._ntotal if allowed is None else int(allowed.sum())
        per_d: list[list[np.ndarray]] = [[] for _ in range(nq)]
        per_i: list[list[np.ndarray]] = [[] for _ in range(nq)]
        pending = np.arange(nq)
        k = min(available, max(limit or 0, 64))
        while len(pending) and k > 0:
            widened = self._widen(params, k)
            d, i = self.search(q[pending], k, widened, allowed)
            inside = range_mask(self._metric, d, radius, range_filter) & (i >= 0)
            # The boundary check uses the range's outer edge only: hits better than
            # range_filter also mean "keep looking further out".
            beyond = ~_within_radius(self._metric, d, radius) | (i < 0)
            finished = beyond.any(axis=1) | (k >= available)
            if limit is not None:
                finished |= inside.sum(axis=1) >= limit
            for row in np.flatnonzero(finished):
                qi = pending[row]
                per_d[qi].append(d[row, inside[row]])
                per_i[qi].append(i[row, inside[row]])
            pending = pending[~finished]
            k = min(available, k * 4)
        return assemble_range(self._metric, per_d, per_i, limit)

    def save(self, path: str | Path) -> None:
        target = Path(path)
        target.mkdir(parents=True, exist_ok=True)
        self._save_files(target)
        meta = {
            "kind": self.kind,
            "index_type": self._index_type,
            "metric_type": self._metric,
            "params": self._params,
            "dtype": self._dtype.name,
            "dim": self._dim,
            "ntotal": self._ntotal,
        }
        tmp = target / (META_FILE + ".tmp")
        tmp.write_text(json.dumps(meta, sort_keys=True))
        tmp.replace(target / META_FILE)

    # -------------------------------------------------------------- for subclasses

    def _knn(
        self, q: np.ndarray, k: int, sp: dict[str, Any], allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _reconstruct(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of ``rows`` as the index holds them (float32, or packed bits)."""
        raise NotImplementedError

    def _save_files(self, target: Path) -> None:
        raise NotImplementedError

    # -------------------------------------------------------------- helpers

    def _prepare_queries(self, queries: Any) -> np.ndarray:
        q = as_queries(self._dtype, queries)
        if q.shape[1] != self._row_width():
            raise ParameterError(
                f"vector dimension mismatch, expected vector size {self._dim}, actual "
                f"{q.shape[1] * (8 if self._dtype == DataType.BINARY_VECTOR else 1)}"
            )
        if self._metric == "COSINE":
            q = l2_normalize(q.copy())
        return q

    def _row_width(self) -> int:
        return self._dim // 8 if self._dtype == DataType.BINARY_VECTOR else self._dim

    def _check_mask(self, allowed: np.ndarray | None) -> np.ndarray | None:
        if allowed is None:
            return None
        mask = np.asarray(allowed, dtype=bool)
        if mask.shape != (self._ntotal,):
            raise ParameterError(
                f"row mask has shape {mask.shape}, the index has {self._ntotal} rows"
            )
        return mask

    def _empty(self, nq: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.full((nq, k), worst_distance(self._metric), np.float32),
            np.full((nq, k), -1, np.int64),
        )

    def _scan_rows(self, q: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact scan of a few surviving rows over the vectors the index holds."""
        vecs = self._reconstruct(rows)
        if self._dtype == DataType.BINARY_VECTOR:
            dist = binary_distances(
                q, vecs, self._metric, int(self._params.get("mh_element_bit_width", 32))
            )
        else:
            if self._metric == "COSINE":
                vecs = l2_normalize(np.array(vecs, dtype=np.float32, copy=True))
            dist = dense_distances(q, vecs, self._metric)
        ids = np.broadcast_to(rows.astype(np.int64), dist.shape)
        return topk_merge(self._metric, dist, ids, k)

    def _widen(self, params: dict[str, Any] | None, k: int) -> dict[str, Any]:
        out = dict(params or {})
        for name in ("ef", "search_list", "reorder_k"):
            if name in out:
                out[name] = max(int(out[name]), k)
        out.pop("radius", None)
        out.pop("range_filter", None)
        return out


def _within_radius(metric: str, d: np.ndarray, radius: float) -> np.ndarray:
    return np.asarray(d > radius if larger_is_better(metric) else d < radius)
