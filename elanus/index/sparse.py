"""SPARSE_INVERTED_INDEX and SPARSE_WAND: an inverted index over sparse vectors.

Posting lists are the rows of the transposed document matrix (one row per
dimension used, CSR), so scoring a batch of queries is one sparse matrix product
(term-at-a-time accumulation in compiled code). ``inverted_index_algo``
(DAAT_MAXSCORE, DAAT_WAND, TAAT_NAIVE) is validated and recorded; Milvus's
algorithms are exact and return identical results when no drop ratio is set,
and so does this single exhaustive strategy.

``drop_ratio_build`` drops the smallest stored values (by magnitude) across the
segment before indexing; ``drop_ratio_search`` drops each query's smallest
values. For BM25, stored values are term frequencies and the index keeps them as they
are, with each document's length; term weights are computed at search time for
the posting lists a query touches, with ``bm25_k1``/``bm25_b`` and the average
document length passed in the search params (``bm25_avgdl``: the collection's,
which one segment cannot know), else the build param, else the segment's own.
The query's values are its terms' IDF weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import scipy.sparse as sp

from elanus.index.base import BaseVectorIndex
from elanus.index.exact import compact_sparse
from elanus.index.metrics import topk_merge
from elanus.schema.types import DataType

__all__ = ["SparseInvertedIndex", "build_sparse_inverted", "drop_smallest_per_row"]

_SCORE_BYTES = 32 << 20
_FILES = ("data", "indices", "indptr", "dims")


def drop_smallest_per_row(m: sp.csr_array, ratio: float) -> sp.csr_array:
    """Drop ``floor(ratio * nnz)`` smallest-magnitude entries of every row."""
    m = sp.csr_array(m)
    if ratio <= 0 or m.nnz == 0:
        return m
    counts = np.diff(m.indptr)
    row_of = np.repeat(np.arange(m.shape[0]), counts)
    order = np.lexsort((np.abs(m.data), row_of))
    rank = np.empty(m.nnz, np.int64)
    rank[order] = np.arange(m.nnz) - np.repeat(m.indptr[:-1], counts)
    keep = rank >= np.floor(ratio * counts[row_of]).astype(np.int64)
    out = sp.csr_array(
        (
            m.data[keep],
            m.indices[keep],
            np.concatenate([[0], np.cumsum(np.bincount(row_of[keep], minlength=m.shape[0]))]),
        ),
        shape=m.shape,
    )
    return out


def build_sparse_inverted(
    index_type: str, metric: str, params: dict[str, Any], vectors: Any
) -> SparseInvertedIndex:
    docs = sp.csr_array(vectors, dtype=np.float32)
    lengths = None
    if metric == "BM25":
        lengths = np.asarray(docs.sum(axis=1), dtype=np.float32).ravel()
    else:
        ratio = float(params.get("drop_ratio_build", 0.0))
        if ratio > 0 and docs.nnz:
            threshold = np.quantile(np.abs(docs.data), ratio)
            docs = sp.csr_array(docs, copy=True)
            docs.data[np.abs(docs.data) < threshold] = 0
            docs.eliminate_zeros()
    compact, dims = compact_sparse(docs)
    postings = sp.csr_array(compact.T)
    return SparseInvertedIndex(index_type, metric, params, docs.shape[0], postings, dims, lengths)


class SparseInvertedIndex(BaseVectorIndex):
    kind: ClassVar[str] = "sparse_inverted"

    def __init__(
        self,
        index_type: str,
        metric_type: str,
        params: dict[str, Any],
        ntotal: int,
        postings: sp.csr_array,
        dims: np.ndarray,
        doc_lengths: np.ndarray | None = None,
    ) -> None:
        super().__init__(index_type, metric_type, params, DataType.SPARSE_FLOAT_VECTOR, 0, ntotal)
        self._postings = postings
        self._dims = dims
        self._lengths = doc_lengths

    @property
    def nbytes(self) -> int:
        p = self._postings
        extra = 0 if self._lengths is None else self._lengths.nbytes
        return int(p.data.nbytes + p.indices.nbytes + p.indptr.nbytes + self._dims.nbytes + extra)

    def _prepare_queries(self, queries: Any) -> Any:
        return sp.csr_array(queries, dtype=np.float32)

    def _knn(
        self, q: Any, k: int, sp_params: dict[str, Any], allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        q = drop_smallest_per_row(q, float(sp_params.get("drop_ratio_search", 0.0)))
        qc, _ = compact_sparse(q, self._dims)
        postings = self._postings
        if self._lengths is not None:
            qc, postings = self._bm25_postings(qc, sp_params)
        n = self._ntotal
        nq = qc.shape[0]
        step = max(1, _SCORE_BYTES // (4 * max(n, 1)))
        out_d, out_i = [], []
        for lo in range(0, nq, step):
            prod = sp.coo_array(qc[lo : lo + step] @ postings)
            rows = prod.shape[0]
            scores = np.full((rows, n), -np.inf, np.float32)
            scores[prod.row, prod.col] = prod.data
            if allowed is not None:
                scores[:, ~allowed] = -np.inf
            ids = np.broadcast_to(np.arange(n, dtype=np.int64), scores.shape)
            ids = np.where(np.isfinite(scores), ids, -1)
            d, i = topk_merge(self._metric, scores, ids, k)
            out_d.append(d)
            out_i.append(i)
        return np.vstack(out_d), np.vstack(out_i)

    def _bm25_postings(
        self, qc: sp.csr_array, sp_params: dict[str, Any]
    ) -> tuple[sp.csr_array, sp.csr_array]:
        """The touched posting lists with term frequencies turned into BM25 weights."""
        assert self._lengths is not None
        touched = np.unique(qc.indices)
        sub = sp.csr_array(self._postings[touched])
        avgdl = sp_params.get("bm25_avgdl") or self._params.get("bm25_avgdl")
        if not avgdl:
            avgdl = float(self._lengths.mean()) if len(self._lengths) else 1.0
        k1, b = float(self._params["bm25_k1"]), float(self._params["bm25_b"])
        tf = sub.data
        norm = k1 * (1.0 - b + b * self._lengths[sub.indices] / float(avgdl))
        weighted = sp.csr_array(
            ((tf * (k1 + 1.0) / (tf + norm)).astype(np.float32), sub.indices, sub.indptr),
            shape=sub.shape,
        )
        return sp.csr_array(qc[:, touched]), weighted

    def _save_files(self, target: Path) -> None:
        p = self._postings
        for name, arr in zip(_FILES, (p.data, p.indices, p.indptr, self._dims)):
            np.save(target / f"{name}.npy", arr)
        if self._lengths is not None:
            np.save(target / "doc_lengths.npy", self._lengths)
        np.save(target / "shape.npy", np.asarray(p.shape, np.int64))

    @classmethod
    def load(cls, path: Path, meta: dict[str, Any], mmap: bool) -> SparseInvertedIndex:
        mode: Literal["r"] | None = "r" if mmap else None
        data, indices, indptr, dims = (
            np.load(path / f"{name}.npy", mmap_mode=mode) for name in _FILES
        )
        shape = tuple(int(x) for x in np.load(path / "shape.npy"))
        postings = sp.csr_array((data, indices, indptr), shape=shape, copy=False)
        lengths_file = path / "doc_lengths.npy"
        lengths = np.load(lengths_file) if lengths_file.exists() else None
        return cls(
            meta["index_type"],
            meta["metric_type"],
            meta["params"],
            int(meta["ntotal"]),
            postings,
            np.asarray(dims),
            lengths,
        )
