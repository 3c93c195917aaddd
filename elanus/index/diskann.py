"""DISKANN: a proximity graph navigated with compressed (PQ) codes held in memory,
and full vectors read from disk only to re-rank the final candidate list.

The graph is FAISS's HNSW over PQ codes, always walked in L2 (IP is mapped to L2
by one extra coordinate; COSINE vectors are unit length) (max_degree/2 links per node on the upper
layers, max_degree on the base layer, like Vamana's degree bound). The full
vectors stay in their stored type in a ``.npy`` file that is memory-mapped: a
search touches the pages of its ``search_list`` candidates only, so resident
memory is the graph plus the codes, below the raw data size for typical widths
(dim ≥ 64 float32 at the default degree).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import faiss as _faiss_module
import numpy as np

from elanus.index.base import BaseVectorIndex, bitmap_selector
from elanus.index.faiss_dense import float32_batches, read_faiss_index, training_sample
from elanus.index.metrics import as_float32, l2_normalize, topk_merge
from elanus.schema.types import DataType, vector_bytes_per_row

# FAISS's bundled type stubs lag its SWIG API; treat the module as untyped.
faiss: Any = _faiss_module

__all__ = ["DiskAnnIndex", "build_diskann"]

_GRAPH_FILE = "graph.faiss"
_RAW_FILE = "vectors.npy"


def _pq_subquantizers(dtype: DataType, dim: int, ratio: float, graph_dim: int) -> int:
    """Largest divisor of the graph's width whose 8-bit codes fit the per-row PQ budget."""
    budget = max(1, int(ratio * vector_bytes_per_row(dtype, dim)))
    return max(m for m in range(1, min(graph_dim, budget) + 1) if graph_dim % m == 0)


def _augment(batch: np.ndarray, max_norm: float | None) -> np.ndarray:
    """Map inner product to L2: append sqrt(max_norm^2 - |x|^2) (0 for queries).

    Nearest by L2 in the augmented space is largest inner product in the
    original one, and a graph walks a true metric far better than raw IP.
    """
    if max_norm is None:
        extra = np.zeros((batch.shape[0], 1), np.float32)
    else:
        sq = np.maximum(max_norm**2 - np.einsum("ij,ij->i", batch, batch), 0.0)
        extra = np.sqrt(sq, dtype=np.float32)[:, None]
    return np.hstack([batch, extra])


def build_diskann(
    metric: str, params: dict[str, Any], dtype: DataType, vectors: np.ndarray
) -> DiskAnnIndex:
    n, dim = vectors.shape
    cosine = metric == "COSINE"
    # COSINE vectors are unit length, so L2 order is already their similarity order.
    augmented = metric == "IP"
    graph_dim = dim + 1 if augmented else dim
    max_norm = 0.0
    if augmented:
        for batch in float32_batches(dtype, vectors, False):
            max_norm = max(
                max_norm, float(np.sqrt(np.einsum("ij,ij->i", batch, batch).max(initial=0.0)))
            )
    m = _pq_subquantizers(dtype, dim, float(params["pq_code_budget_gb_ratio"]) or 0.125, graph_dim)
    nbits = 8 if n >= 256 else max(1, int(math.log2(max(n, 2))))
    graph = faiss.IndexHNSWPQ(
        graph_dim, m, max(2, int(params["max_degree"]) // 2), nbits, faiss.METRIC_L2
    )
    graph.hnsw.efConstruction = int(params["search_list_size"])
    # The codes only steer the walk (the final list is re-ranked on full vectors),
    # so a shorter k-means is enough and keeps builds quick.
    faiss.downcast_index(graph.storage).pq.cp.niter = 10
    norm = max_norm if augmented else None
    if n:
        sample = training_sample(dtype, vectors, cosine, 65536)
        graph.train(_augment(sample, norm) if augmented else sample)
    for batch in float32_batches(dtype, vectors, cosine):
        graph.add(_augment(batch, norm) if augmented else batch)
    used = dict(params, pq_m=m)
    return DiskAnnIndex(metric, used, dtype, dim, graph, vectors)


class DiskAnnIndex(BaseVectorIndex):
    kind: ClassVar[str] = "diskann"
    brute_force_fraction: ClassVar[float] = 0.05
    knn_may_stop_short: ClassVar[bool] = True

    def __init__(
        self,
        metric_type: str,
        params: dict[str, Any],
        dtype: DataType,
        dim: int,
        graph: faiss.Index,
        raw: np.ndarray,
        graph_bytes: int | None = None,
    ) -> None:
        super().__init__("DISKANN", metric_type, params, dtype, dim, graph.ntotal)
        self._graph = graph
        self._raw = raw
        self._graph_bytes = graph_bytes

    @property
    def nbytes(self) -> int:
        """Resident memory: graph and codes; the full vectors stay on disk."""
        if self._graph_bytes is None:
            self._graph_bytes = int(faiss.serialize_index(self._graph).nbytes)
        return self._graph_bytes

    def _knn(
        self, q: np.ndarray, k: int, sp: dict[str, Any], allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        search_list = int(sp.get("search_list", max(k, 16)))
        params = faiss.SearchParametersHNSW()
        bits = None
        fraction = 1.0
        if allowed is not None:
            sel, bits = bitmap_selector(allowed)
            params.sel = sel
            fraction = max(float(allowed.mean()), 1e-9)
        params.efSearch = min(
            max(search_list, math.ceil(search_list / fraction)), max(self._ntotal, search_list)
        )
        kc = min(max(search_list, k), self._ntotal)
        walk = _augment(q, None) if self._graph.d == self._dim + 1 else q
        _, cand = self._graph.search(walk, kc, params=params)
        del bits
        return self._rerank(q, cand, k)

    def _rerank(self, q: np.ndarray, cand: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact distances of each query's candidates, read from the raw vectors."""
        nq, kc = cand.shape
        valid = cand >= 0
        flat = np.where(valid, cand, 0).ravel()
        order = np.argsort(flat, kind="stable")  # sequential reads from the mapped file
        rows = np.empty((len(flat), self._dim), np.float32)
        rows[order] = as_float32(self._dtype, np.asarray(self._raw[flat[order]]))
        if self._metric == "COSINE":
            rows = l2_normalize(rows)
        vecs = rows.reshape(nq, kc, self._dim)
        if self._metric == "L2":
            diff = vecs - q[:, None, :]
            dist = np.einsum("qkd,qkd->qk", diff, diff)
        else:
            dist = np.einsum("qkd,qd->qk", vecs, q)
        return topk_merge(self._metric, dist, np.where(valid, cand, -1), k)

    def _reconstruct(self, rows: np.ndarray) -> np.ndarray:
        return as_float32(self._dtype, np.asarray(self._raw[rows]))

    def _save_files(self, target: Path) -> None:
        faiss.write_index(self._graph, str(target / _GRAPH_FILE))
        np.save(target / _RAW_FILE, np.ascontiguousarray(self._raw))

    @classmethod
    def load(cls, path: Path, meta: dict[str, Any], mmap: bool) -> DiskAnnIndex:
        graph_file = path / _GRAPH_FILE
        graph = read_faiss_index(graph_file, mmap)
        raw = np.load(path / _RAW_FILE, mmap_mode="r")
        return cls(
            meta["metric_type"],
            meta["params"],
            DataType[meta["dtype"]],
            int(meta["dim"]),
            graph,
            raw,
            graph_file.stat().st_size,
        )
