"""Behaviour every vector index shares: argument checks, thread policy, the
filtered-search fallback, range search by widening k, and the saved metadata.

Range search widens k until each query's k-th hit leaves the radius. A graph
cannot always get there: walking from the query, an inner-product graph runs out
of candidates (FAISS pads with -1) long before it reaches rows in the middle of
the distribution, and a k past a few percent of the rows costs more than a scan. Such
queries finish with an exact range scan over the vectors the index holds, so a
range deep in the distribution is answered whole.

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
# Bytes of distances (or widened rows) one block of a range scan may occupy.
_SCAN_BLOCK_BYTES = 32 << 20
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
    # Whether k-NN may return fewer than k rows while more rows exist (a graph
    # walk that ran out of candidates); range search then scans instead.
    knn_may_stop_short: ClassVar[bool] = False
    # Such an index scans once a range search's k would pass this fraction of rows:
    # a walk with ef >= k scores every neighbour list it expands (2M vectors each
    # in HNSW), so past a few percent of the rows a scan costs less, and the
    # walk's recall at a k that deep is poor besides.
    range_scan_fraction: ClassVar[float] = 0.05

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
        if allowed is not None and self.brute_force_fraction > 0:
            passing = int(np.count_nonzero(allowed))
            if passing <= max(k, self.brute_force_fraction * self._ntotal):
                with faiss_threads(nq):
                    return self._scan_rows(q, np.flatnonzero(allowed), k)
        if nq > 1:
            d, i = self._knn(q, k, sp, allowed)
        else:
            # faiss_threads(1) inlined: a lone query is the latency-bound case.
            previous = faiss.omp_get_max_threads()
            if previous != 1:
                faiss.omp_set_num_threads(1)
            try:
                d, i = self._knn(q, k, sp, allowed)
            finally:
                if previous != 1:
                    faiss.omp_set_num_threads(previous)
        if allowed is not None and self.knn_may_stop_short:
            d, i = self._finish_short_walks(q, k, allowed, d, i)
        return fill_missing(self._metric, d, i)

    def _finish_short_walks(
        self, q: np.ndarray, k: int, allowed: np.ndarray, d: np.ndarray, i: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rescan exactly the queries whose filtered walk returned fewer than k hits
        while k rows pass: a walk whose neighbourhood is all masked out (such as the
        zero-filled rows of a nullable vector field) stops short of rows that exist."""
        want = min(k, int(np.count_nonzero(allowed)))
        short = np.flatnonzero((i[:, :want] < 0).any(axis=1)) if want else np.empty(0, int)
        if short.size == 0:
            return d, i
        d, i = np.array(d, copy=True), np.array(i, copy=True)
        with faiss_threads(short.size):
            d[short], i[short] = self._scan_rows(q[short], np.flatnonzero(allowed), k)
        return d, i

    def range_search(
        self,
        queries: Any,
        radius: float,
        range_filter: float | None = None,
        params: dict[str, Any] | None = None,
        allowed: np.ndarray | None = None,
        limit: int | None = None,
    ) -> RangeResult:
        """k-NN searches with k growing until each query's k-th hit leaves the range.

        Queries an index with ``knn_may_stop_short`` cannot finish that way are
        answered by an exact scan of the rows it holds (see the module docstring).
        """
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
            if self.knn_may_stop_short and k > self.range_scan_fraction * available:
                break
            widened = self._widen(params, k)
            d, i = self.search(q[pending], k, widened, allowed)
            found = i >= 0
            inside = range_mask(self._metric, d, radius, range_filter) & found
            # The boundary check uses the range's outer edge only: hits better than
            # range_filter also mean "keep looking further out".
            left = (~_within_radius(self._metric, d, radius) & found).any(axis=1)
            full: np.ndarray = np.full(len(pending), k >= available)
            if limit is not None:
                full |= inside.sum(axis=1) >= limit
            short = ~found.all(axis=1) & ~left & ~full
            done = left | full
            if not self.knn_may_stop_short:
                done |= short  # the index holds no further candidates
            for row in np.flatnonzero(done):
                per_d[pending[row]].append(d[row, inside[row]])
                per_i[pending[row]].append(i[row, inside[row]])
            # A graph that stopped short is not widened further: a larger k
            # walks the same exhausted neighbourhood.
            stuck = short & ~done
            if stuck.any():
                self._finish_by_scan(q, pending[stuck], radius, range_filter, allowed, per_d, per_i)
            pending = pending[~(done | stuck)]
            k = min(available, k * 4)
        if len(pending):
            self._finish_by_scan(q, pending, radius, range_filter, allowed, per_d, per_i)
        return assemble_range(self._metric, per_d, per_i, limit)

    def _finish_by_scan(
        self,
        q: np.ndarray,
        which: np.ndarray,
        radius: float,
        range_filter: float | None,
        allowed: np.ndarray | None,
        per_d: list[list[np.ndarray]],
        per_i: list[list[np.ndarray]],
    ) -> None:
        """Exact range scan for the queries ``which``, replacing their partial hits."""
        rows = np.arange(self._ntotal) if allowed is None else np.flatnonzero(allowed)
        sub = q[which]
        width = max(self._row_width(), len(which))
        step = max(1024, _SCAN_BLOCK_BYTES // (4 * width))
        found_d: list[list[np.ndarray]] = [[] for _ in which]
        found_i: list[list[np.ndarray]] = [[] for _ in which]
        with faiss_threads(len(which)):
            for lo in range(0, len(rows), step):
                block = rows[lo : lo + step]
                dist = self._row_distances(sub, block)
                inside = range_mask(self._metric, dist, radius, range_filter)
                for hit in np.flatnonzero(inside.any(axis=1)):
                    found_d[hit].append(dist[hit, inside[hit]])
                    found_i[hit].append(block[inside[hit]])
        for slot, qi in enumerate(which.tolist()):
            per_d[qi] = found_d[slot]
            per_i[qi] = found_i[slot]

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
        dist = self._row_distances(q, rows)
        ids = np.broadcast_to(rows.astype(np.int64), dist.shape)
        return topk_merge(self._metric, dist, ids, k)

    def _row_distances(self, q: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact (nq, len(rows)) distances over the vectors the index holds."""
        vecs = self._reconstruct(rows)
        if self._dtype == DataType.BINARY_VECTOR:
            return binary_distances(
                q, vecs, self._metric, int(self._params.get("mh_element_bit_width", 32))
            )
        if self._metric == "COSINE":
            vecs = l2_normalize(np.array(vecs, dtype=np.float32, copy=True))
        return dense_distances(q, vecs, self._metric)

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
