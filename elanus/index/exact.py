"""Exact (brute-force) search for every vector type and metric.

Blocks of stored rows are widened to float32 one at a time (never the whole
segment), scored with FAISS or BLAS, and merged into a running top-k. A row mask
gathers only the surviving rows of each block, so a selective filter costs in
proportion to the rows that pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import faiss as _faiss_module
import numpy as np
import scipy.sparse as sp

from elanus.errors import ParameterError
from elanus.index.metrics import (
    as_float32,
    as_queries,
    faiss_metric,
    is_best_first,
    l2_normalize,
    normalize_metric,
    range_mask,
    topk_merge,
    worst_distance,
)
from elanus.index.protocol import RangeResult
from elanus.index.unit_rows import unit_rows
from elanus.schema.types import DataType

# FAISS's bundled type stubs lag its SWIG API; treat the module as untyped.
faiss: Any = _faiss_module
_ptr = faiss.swig_ptr

__all__ = [
    "exact_search",
    "exact_range_search",
    "dense_distances",
    "binary_distances",
    "sparse_scores",
    "compact_sparse",
    "bm25_document_weights",
]

# Bytes of float32 (or of byte-wise binary work) one block may occupy.
_BLOCK_BYTES = 32 << 20


def exact_search(
    dtype: DataType,
    vectors: Any,
    queries: Any,
    metric: str,
    k: int,
    allowed: np.ndarray | None = None,
    params: dict[str, Any] | None = None,
    *,
    immutable: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` of ``queries`` over ``vectors``: ``(distances, ids)`` of shape (nq, k).

    ``vectors`` uses the shared column convention for ``dtype`` (see
    ``elanus.schema.types.dense_vector_numpy_dtype``; sparse is a scipy CSR array).
    ``params`` carries BM25's ``bm25_k1``/``bm25_b``/``bm25_avgdl`` and MinHash's
    ``mh_element_bit_width``. ``immutable``: the rows of ``vectors`` never change
    while the array owning them lives (a sealed segment, the published rows of an
    append-only buffer), so COSINE may keep their unit-length copy; a read-only
    owner counts as immutable without it.
    """
    metric = normalize_metric(metric)
    dtype = DataType.parse(dtype)
    if k <= 0:
        raise ParameterError(f"topk should be in range [1, 16384], but got {k}")
    if dtype == DataType.SPARSE_FLOAT_VECTOR:
        return _sparse_topk(vectors, queries, metric, k, allowed, params or {})
    if dtype == DataType.BINARY_VECTOR:
        q = as_queries(dtype, queries)
        blocks = _binary_blocks(vectors, q, metric, allowed, params or {})
        if metric in STRUCTURE_METRICS:
            return _first_matches(k, q.shape[0], blocks)
        return _scored_topk(metric, k, q.shape[0], blocks)
    q = as_queries(dtype, queries)
    if metric == "COSINE":
        q = l2_normalize(q.copy())
    return _dense_topk(dtype, vectors, q, metric, k, allowed, immutable)


def exact_range_search(
    dtype: DataType,
    vectors: Any,
    queries: Any,
    metric: str,
    radius: float,
    range_filter: float | None = None,
    allowed: np.ndarray | None = None,
    limit: int | None = None,
    params: dict[str, Any] | None = None,
    *,
    immutable: bool = False,
) -> RangeResult:
    """Every row inside Milvus's range for the metric, best first per query
    (``immutable`` as for ``exact_search``)."""
    metric = normalize_metric(metric)
    dtype = DataType.parse(dtype)
    q: Any
    if dtype == DataType.SPARSE_FLOAT_VECTOR:
        q = queries
        nq = queries.shape[0]
        blocks = _sparse_blocks(vectors, queries, metric, allowed, params or {})
    elif dtype == DataType.BINARY_VECTOR:
        q = as_queries(dtype, queries)
        nq = q.shape[0]
        blocks = _binary_blocks(vectors, q, metric, allowed, params or {})
    else:
        q = as_queries(dtype, queries)
        if metric == "COSINE":
            q = l2_normalize(q.copy())
        nq = q.shape[0]
        blocks = _dense_blocks(dtype, vectors, q, metric, allowed, immutable)
    per_query_d: list[list[np.ndarray]] = [[] for _ in range(nq)]
    per_query_i: list[list[np.ndarray]] = [[] for _ in range(nq)]
    for rows, dist in blocks:
        inside = range_mask(metric, dist, radius, range_filter)
        qi, cj = np.nonzero(inside)
        if len(qi) == 0:
            continue
        bounds = np.searchsorted(qi, np.arange(nq + 1))
        for i in np.flatnonzero(np.diff(bounds)):
            lo, hi = bounds[i], bounds[i + 1]
            per_query_d[i].append(dist[i, cj[lo:hi]])
            per_query_i[i].append(rows[cj[lo:hi]])
    return assemble_range(metric, per_query_d, per_query_i, limit)


def assemble_range(
    metric: str,
    per_query_d: list[list[np.ndarray]],
    per_query_i: list[list[np.ndarray]],
    limit: int | None,
) -> RangeResult:
    """Sort each query's hits best first, cap them at ``limit`` and pack them."""
    sign = -1.0 if worst_distance(metric) < 0 else 1.0
    lims = [0]
    all_d: list[np.ndarray] = []
    all_i: list[np.ndarray] = []
    for ds, ids in zip(per_query_d, per_query_i):
        if ds:
            d = np.concatenate(ds).astype(np.float32, copy=False)
            i = np.concatenate(ids).astype(np.int64, copy=False)
            order = np.lexsort((i, sign * d))
            if limit is not None:
                order = order[:limit]
            all_d.append(d[order])
            all_i.append(i[order])
            lims.append(lims[-1] + len(order))
        else:
            lims.append(lims[-1])
    return RangeResult(
        lims=np.asarray(lims, dtype=np.int64),
        distances=np.concatenate(all_d) if all_d else np.zeros(0, np.float32),
        ids=np.concatenate(all_i) if all_i else np.zeros(0, np.int64),
    )


def _row_blocks(n: int, rows_per_block: int, allowed: np.ndarray | None) -> Iterator[np.ndarray]:
    """Global row ids of each block, the mask already applied."""
    if allowed is not None:
        allowed = np.asarray(allowed, dtype=bool)
        if allowed.shape != (n,):
            raise ParameterError(f"row mask has {allowed.shape[0]} rows, the index has {n}")
    for lo in range(0, n, rows_per_block):
        hi = min(n, lo + rows_per_block)
        if allowed is None:
            yield np.arange(lo, hi, dtype=np.int64)
        else:
            picked = np.flatnonzero(allowed[lo:hi])
            if len(picked):
                yield picked.astype(np.int64) + lo


def _take(vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A block of rows: a view when contiguous, a gather of the survivors otherwise."""
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return np.asarray(vectors[int(rows[0]) : int(rows[-1]) + 1])
    return np.asarray(vectors[rows])


def _dense_block_rows(dtype: DataType, n: int, dim: int, masked: bool) -> int:
    if dtype == DataType.FLOAT_VECTOR and not masked:
        return max(n, 1)  # already float32: the whole column is one zero-copy block
    # widened or gathered blocks are copies: bound their size
    return max(1024, _BLOCK_BYTES // (4 * max(dim, 1)))


def _dense_float_block(
    dtype: DataType, vectors: np.ndarray, rows: np.ndarray | None, normalize: bool
) -> np.ndarray:
    """Rows ``rows`` (None: every row) as float32, normalised when asked."""
    block = as_float32(dtype, np.asarray(vectors) if rows is None else _take(vectors, rows))
    if normalize:
        if np.shares_memory(block, vectors):
            block = block.copy()
        block = l2_normalize(block)
    return block


def _scored_rows(
    dtype: DataType, vectors: np.ndarray, metric: str, immutable: bool
) -> tuple[DataType, np.ndarray, bool]:
    """What a dense scan reads: (its type, its rows, whether each block needs normalising).

    COSINE reads the kept unit-length copy of rows that never change
    (``elanus.index.unit_rows``), so a query copies nothing; other rows are
    normalised block by block.
    """
    if metric != "COSINE":
        return dtype, vectors, False
    unit = unit_rows(dtype, vectors, immutable)
    if unit is None:
        return dtype, vectors, True
    return DataType.FLOAT_VECTOR, unit, False


def _flat_knn(q: np.ndarray, block: np.ndarray, k: int, fm: int) -> tuple[np.ndarray, np.ndarray]:
    """FAISS's brute-force k-NN on C-ordered float32 inputs, without its wrapper's copies
    and checks (both matrices come from ``as_float32`` / ``as_queries``)."""
    nq, dim = q.shape
    d = np.empty((nq, k), dtype=np.float32)
    i = np.empty((nq, k), dtype=np.int64)
    q = np.ascontiguousarray(q, dtype=np.float32)
    block = np.ascontiguousarray(block, dtype=np.float32)
    args = (_ptr(q), _ptr(block), dim, nq, block.shape[0], k, _ptr(d), _ptr(i))
    scan = faiss.knn_L2sqr if fm == faiss.METRIC_L2 else faiss.knn_inner_product
    if nq > 1:
        scan(*args)
        return d, i
    # A lone query on one OpenMP thread, as indexes search it: FAISS splits the rows
    # of one query over its threads, and on a loaded machine their wake-ups cost
    # more than the scan itself (measured in benchmarks/exact_cosine.py).
    previous = faiss.omp_get_max_threads()
    if previous != 1:
        faiss.omp_set_num_threads(1)
    try:
        scan(*args)
    finally:
        if previous != 1:
            faiss.omp_set_num_threads(previous)
    return d, i


def _dense_topk(
    dtype: DataType,
    vectors: np.ndarray,
    q: np.ndarray,
    metric: str,
    k: int,
    allowed: np.ndarray | None,
    immutable: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    n, dim = vectors.shape
    if q.shape[1] != dim:
        raise ParameterError(
            f"vector dimension mismatch, expected vector size {dim}, actual {q.shape[1]}"
        )
    dtype, vectors, normalize = _scored_rows(dtype, vectors, metric, immutable)
    parts_d: list[np.ndarray] = []
    parts_i: list[np.ndarray] = []
    fm = faiss_metric(metric)
    rows_per = _dense_block_rows(dtype, n, dim, allowed is not None)
    if allowed is None and 0 < n <= rows_per:
        # One block of every row in order: its ids are row ids, no row list needed.
        d, i = _flat_knn(q, _dense_float_block(dtype, vectors, None, normalize), min(k, n), fm)
        parts_d.append(d)
        parts_i.append(i)
    else:
        for rows in _row_blocks(n, rows_per, allowed):
            block = _dense_float_block(dtype, vectors, rows, normalize)
            d, i = _flat_knn(q, block, min(k, len(rows)), fm)
            parts_d.append(d)
            parts_i.append(np.where(i >= 0, rows[np.maximum(i, 0)], -1))
    if not parts_d:
        nq = q.shape[0]
        return (
            np.full((nq, k), worst_distance(metric), np.float32),
            np.full((nq, k), -1, np.int64),
        )
    if len(parts_d) == 1:
        d, i = parts_d[0], parts_i[0]
        if d.shape[1] == k and is_best_first(metric, d, i):
            return d, i  # what the merge would give back unchanged
        return topk_merge(metric, d, i, k)
    return topk_merge(metric, np.hstack(parts_d), np.hstack(parts_i), k)


def dense_distances(q: np.ndarray, block: np.ndarray, metric: str) -> np.ndarray:
    """Full (nq, rows) distance matrix in Milvus's convention (inputs already float32)."""
    ip = q @ block.T
    if metric == "L2":
        d = (q * q).sum(1)[:, None] + (block * block).sum(1)[None, :] - 2.0 * ip
        return np.maximum(d, 0.0, out=d)
    return ip


def _dense_blocks(
    dtype: DataType,
    vectors: np.ndarray,
    q: np.ndarray,
    metric: str,
    allowed: np.ndarray | None,
    immutable: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    n, dim = vectors.shape
    dtype, vectors, normalize = _scored_rows(dtype, vectors, metric, immutable)
    rows_per = max(1024, _BLOCK_BYTES // (4 * max(dim, q.shape[0], 1)))
    for rows in _row_blocks(n, rows_per, allowed):
        block = _dense_float_block(dtype, vectors, rows, normalize)
        yield rows, dense_distances(q, block, metric)


def _scored_topk(
    metric: str, k: int, nq: int, blocks: Iterator[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    best_d = np.full((nq, k), worst_distance(metric), np.float32)
    best_i = np.full((nq, k), -1, np.int64)
    for rows, dist in blocks:
        ids = np.broadcast_to(rows, dist.shape)
        ids = np.where(np.isfinite(dist), ids, -1)
        best_d, best_i = topk_merge(metric, np.hstack([best_d, dist]), np.hstack([best_i, ids]), k)
    return best_d, best_i


# ---------------------------------------------------------------- binary

STRUCTURE_METRICS = ("SUBSTRUCTURE", "SUPERSTRUCTURE")


def _first_matches(
    k: int, nq: int, blocks: Iterator[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``k`` matching rows per query in row order (all at distance 0), as
    Milvus's BIN_FLAT answers a structure metric; unfilled slots are (inf, -1)."""
    best_d = np.full((nq, k), np.inf, np.float32)
    best_i = np.full((nq, k), -1, np.int64)
    count = np.zeros(nq, np.int64)
    for rows, dist in blocks:
        for qi in np.flatnonzero(count < k):
            hits = rows[np.flatnonzero(np.isfinite(dist[qi]))][: k - count[qi]]
            best_i[qi, count[qi] : count[qi] + hits.size] = hits
            best_d[qi, count[qi] : count[qi] + hits.size] = 0.0
            count[qi] += hits.size
        if (count >= k).all():
            break
    return best_d, best_i


def binary_distances(
    q: np.ndarray, block: np.ndarray, metric: str, element_bits: int = 32
) -> np.ndarray:
    """(nq, rows) HAMMING / JACCARD / MHJACCARD distances between packed bit rows.

    SUBSTRUCTURE and SUPERSTRUCTURE are matches, as in Milvus's BIN_FLAT: a row whose
    bits include all of the query's (SUBSTRUCTURE) or lie within them
    (SUPERSTRUCTURE) is at distance 0, any other row is no hit (infinite).
    """
    if metric in STRUCTURE_METRICS:
        both = q[:, None, :] & block[None, :, :]
        side = q[:, None, :] if metric == "SUBSTRUCTURE" else block[None, :, :]
        match = (both == side).all(-1)
        return np.where(match, np.float32(0.0), np.float32(np.inf)).astype(np.float32)
    if metric == "MHJACCARD":
        width = element_bits // 8
        view = f"<u{width}"
        qe = np.ascontiguousarray(q).view(view)
        be = np.ascontiguousarray(block).view(view)
        same = (qe[:, None, :] == be[None, :, :]).sum(-1, dtype=np.int64)
        return (1.0 - same / max(qe.shape[1], 1)).astype(np.float32)
    if metric == "HAMMING":
        x = np.bitwise_xor(q[:, None, :], block[None, :, :])
        return np.bitwise_count(x).sum(-1, dtype=np.int64).astype(np.float32)
    if metric == "JACCARD":
        inter = np.bitwise_count(q[:, None, :] & block[None, :, :]).sum(-1, dtype=np.int64)
        union = np.bitwise_count(q[:, None, :] | block[None, :, :]).sum(-1, dtype=np.int64)
        sim = np.divide(inter, union, out=np.ones(inter.shape, np.float64), where=union > 0)
        return (1.0 - sim).astype(np.float32)
    raise ParameterError(f"metric type {metric} is not supported for binary vectors")


def _binary_blocks(
    vectors: np.ndarray,
    q: np.ndarray,
    metric: str,
    allowed: np.ndarray | None,
    params: dict[str, Any],
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    n, width = vectors.shape
    if q.shape[1] != width:
        raise ParameterError(
            f"vector dimension mismatch, expected vector size {width * 8}, actual {q.shape[1] * 8}"
        )
    element_bits = int(params.get("mh_element_bit_width", 32))
    rows_per = max(256, _BLOCK_BYTES // max(1, q.shape[0] * width))
    for rows in _row_blocks(n, rows_per, allowed):
        yield rows, binary_distances(q, _take(vectors, rows), metric, element_bits)


# ---------------------------------------------------------------- sparse


def compact_sparse(
    matrix: sp.csr_array | sp.csr_matrix, dims: np.ndarray | None = None
) -> tuple[sp.csr_array, np.ndarray]:
    """Renumber a (rows, 2**32) CSR matrix's columns to 0..len(dims)-1.

    Products over the full 2**32 column space would allocate per column; the
    compact space has one column per dimension actually used. Entries whose
    dimension is not in ``dims`` are dropped (they cannot score).
    """
    m = sp.csr_array(matrix)
    indices = m.indices.astype(np.int64, copy=False)
    if dims is None:
        dims = np.unique(indices)
    pos = np.searchsorted(dims, indices)
    pos_clipped = np.minimum(pos, max(len(dims) - 1, 0))
    keep = (
        (pos < len(dims)) & (dims[pos_clipped] == indices)
        if len(dims)
        else np.zeros(len(indices), bool)
    )
    row_of = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    out = sp.csr_array(
        (m.data[keep].astype(np.float32), (row_of[keep], pos_clipped[keep])),
        shape=(m.shape[0], max(len(dims), 1)),
    )
    return out, dims


def bm25_document_weights(
    docs: sp.csr_array, k1: float, b: float, avgdl: float | None
) -> sp.csr_array:
    """Document term frequencies turned into BM25 term weights.

    A query's values are its terms' IDF weights (supplied by the text layer), so
    a plain inner product with these weights is the BM25 score.
    """
    docs = sp.csr_array(docs, dtype=np.float32, copy=True)
    lengths = np.asarray(docs.sum(axis=1)).ravel()
    if avgdl is None or avgdl <= 0:
        avgdl = float(lengths.mean()) if len(lengths) else 1.0
    norm = k1 * (1.0 - b + b * lengths / avgdl)
    tf = docs.data
    per_entry = np.repeat(norm, np.diff(docs.indptr))
    docs.data = (tf * (k1 + 1.0) / (tf + per_entry)).astype(np.float32)
    return docs


def sparse_scores(qc: sp.csr_array, dc_t: sp.csr_array, rows: np.ndarray) -> np.ndarray:
    """(nq, len(rows)) scores; rows sharing no dimension with the query get -inf."""
    prod = sp.coo_array(qc @ dc_t[:, rows] if len(rows) != dc_t.shape[1] else qc @ dc_t)
    dense = np.full((qc.shape[0], len(rows)), -np.inf, np.float32)
    dense[prod.row, prod.col] = prod.data
    return dense


def _prepared_sparse(
    vectors: Any, queries: Any, metric: str, params: dict[str, Any]
) -> tuple[sp.csr_array, sp.csr_array]:
    docs = sp.csr_array(vectors)
    if metric == "BM25":
        docs = bm25_document_weights(
            docs,
            float(params.get("bm25_k1", 1.2)),
            float(params.get("bm25_b", 0.75)),
            params.get("bm25_avgdl"),
        )
    dc, dims = compact_sparse(docs)
    qc, _ = compact_sparse(sp.csr_array(queries), dims)
    return qc, sp.csr_array(dc.T)


def _sparse_blocks(
    vectors: Any, queries: Any, metric: str, allowed: np.ndarray | None, params: dict[str, Any]
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    qc, dc_t = _prepared_sparse(vectors, queries, metric, params)
    n = dc_t.shape[1]
    rows_per = max(1024, _BLOCK_BYTES // (4 * max(qc.shape[0], 1)))
    for rows in _row_blocks(n, rows_per, allowed):
        yield rows, sparse_scores(qc, dc_t, rows)


def _sparse_topk(
    vectors: Any,
    queries: Any,
    metric: str,
    k: int,
    allowed: np.ndarray | None,
    params: dict[str, Any],
) -> tuple[np.ndarray, np.ndarray]:
    nq = queries.shape[0]
    return _scored_topk(metric, k, nq, _sparse_blocks(vectors, queries, metric, allowed, params))
