"""Full-text search over a snapshot: collection-wide BM25 statistics and query encoding.

BM25 corpus statistics (document count, total tokens, per-term document
frequencies) are computed from the snapshot a search reads, over every live row
of every segment of the collection (not only the partitions searched). They are
therefore exact under insert, delete, upsert, compaction and restart without
being stored anywhere: the segments are the statistics. What makes that cheap is
a per-segment term table (:class:`SegmentTerms`: each row's length and, per
term, the rows holding it) built once per sealed segment and once per growing
segment row count; a search then touches only its query terms' postings and one
length sum per segment. See docs/fulltext.md.

Query text on a BM25 output field becomes ``tf * idf`` weights (what Milvus sends
to its index); the segment scan then applies the document side with the
collection's ``avgdl`` and the index's ``bm25_k1``/``bm25_b``
(:func:`bm25_search_params`). Query text on a TEXT_EMBEDDING output field is
embedded with the function's provider.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from elanus.engine.functions import embedding_provider, function_for_output, query_analyzer
from elanus.engine.snapshot import SegmentView, Snapshot
from elanus.errors import NotSupportedError, ParameterError
from elanus.schema import FieldSchema, FunctionType
from elanus.schema.types import dense_vector_numpy_dtype
from elanus.text import (
    DEFAULT_BM25_B,
    DEFAULT_BM25_K1,
    BM25Stats,
    bm25_doc_vectors,
    bm25_query_weights,
    validate_bm25_params,
)

__all__ = [
    "SegmentTerms",
    "bm25_segment_search",
    "bm25_search_params",
    "collection_bm25_stats",
    "encode_text_queries",
    "segment_terms",
]


@dataclass(frozen=True, eq=False)
class SegmentTerms:
    """One segment's BM25 column seen by term: row lengths and per-term postings.

    ``dims`` (sorted uint32) are the terms present; the rows holding term ``dims[i]``
    are ``rows[offsets[i]:offsets[i+1]]``.
    """

    num_rows: int
    lengths: np.ndarray  # float64 per row: token count
    dims: np.ndarray
    offsets: np.ndarray
    rows: np.ndarray
    tfs: np.ndarray  # float64, aligned with ``rows``

    @staticmethod
    def build(column: Any, num_rows: int) -> SegmentTerms:
        csr = sp.csr_array(column)
        if csr.shape[0] != num_rows:
            csr = sp.csr_array(csr[:num_rows])
        indptr = csr.indptr.astype(np.int64)
        row_of = np.repeat(np.arange(num_rows, dtype=np.int64), np.diff(indptr))
        data = csr.data.astype(np.float64)
        lengths = np.bincount(row_of, weights=data, minlength=num_rows)
        present = data > 0
        dims_all = csr.indices.astype(np.uint32)[present]
        row_all = row_of[present]
        order = np.lexsort((row_all, dims_all))
        dims_sorted = dims_all[order]
        dims, counts = np.unique(dims_sorted, return_counts=True)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return SegmentTerms(num_rows, lengths, dims, offsets, row_all[order], data[present][order])

    def postings(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, term frequencies) of one term; empty when the segment lacks it."""
        p = int(np.searchsorted(self.dims, dim))
        if p >= len(self.dims) or int(self.dims[p]) != dim:
            return self.rows[:0], self.tfs[:0]
        lo, hi = self.offsets[p], self.offsets[p + 1]
        return self.rows[lo:hi], self.tfs[lo:hi]

    def live_stats(self, deleted: np.ndarray, query_dims: np.ndarray) -> BM25Stats:
        """Statistics of the rows not ``deleted``, with frequencies for ``query_dims`` only."""
        live = ~np.asarray(deleted[: self.num_rows], dtype=bool)
        num_docs = int(np.count_nonzero(live))
        num_tokens = int(round(float(self.lengths[live].sum())))
        pos = np.searchsorted(self.dims, query_dims)
        freqs = np.zeros(len(query_dims), dtype=np.int64)
        for i, (p, d) in enumerate(zip(pos.tolist(), query_dims.tolist(), strict=True)):
            if p < len(self.dims) and int(self.dims[p]) == d:
                freqs[i] = int(
                    np.count_nonzero(live[self.rows[self.offsets[p] : self.offsets[p + 1]]])
                )
        keep = freqs > 0
        return BM25Stats(num_docs, num_tokens, query_dims[keep].astype(np.uint32), freqs[keep])


_cache_lock = threading.Lock()
# segment object -> {(field, row count): terms}. Sealed segments never change;
# growing ones get a new entry per row count (the older one is dropped).
_terms: weakref.WeakKeyDictionary[Any, dict[str, tuple[int, SegmentTerms]]] = (
    weakref.WeakKeyDictionary()
)


def segment_terms(view: SegmentView, field: str) -> SegmentTerms:
    """The (cached) term table of ``field`` over the rows ``view`` sees."""
    data = view.data
    with _cache_lock:
        entry = _terms.get(data, {}).get(field)
    if entry is not None and entry[0] == view.num_rows:
        return entry[1]
    built = SegmentTerms.build(data.column(field), view.num_rows)
    with _cache_lock:
        per = _terms.setdefault(data, {})
        old = per.get(field)
        if old is None or old[0] < view.num_rows:
            per[field] = (view.num_rows, built)
    return built


def _corpus(snapshot: Snapshot) -> Snapshot:
    return snapshot.collection_wide or snapshot


def collection_bm25_stats(
    snapshot: Snapshot, field: str, query_dims: np.ndarray | None = None
) -> BM25Stats:
    """BM25 statistics of ``field`` over every live row of the collection.

    Document frequencies are given for ``query_dims`` only (all a search needs);
    ``None`` gives none (document count and token total alone).
    """
    dims = (
        np.zeros(0, dtype=np.uint32)
        if query_dims is None
        else np.unique(np.asarray(query_dims, dtype=np.uint32))
    )
    total = BM25Stats.empty()
    for view in _corpus(snapshot).segments:
        if view.num_rows == 0:
            continue
        total = total.merge(segment_terms(view, field).live_stats(view.deleted, dims))
    return total


def _bm25_field_params(snapshot: Snapshot, field: FieldSchema) -> tuple[float, float]:
    spec = snapshot.index_specs.get(field.name)
    params = (spec.get("params") if isinstance(spec, dict) else None) or {}
    k1 = float(params.get("bm25_k1", DEFAULT_BM25_K1))
    b = float(params.get("bm25_b", DEFAULT_BM25_B))
    validate_bm25_params(k1, b)
    return k1, b


def bm25_search_params(snapshot: Snapshot, field: FieldSchema) -> dict[str, Any]:
    """``bm25_k1``, ``bm25_b`` (from the field's index) and the collection's ``bm25_avgdl``."""
    k1, b = _bm25_field_params(snapshot, field)
    stats = collection_bm25_stats(snapshot, field.name)
    # avgdl 0 (no tokens yet) would make the exact scan fall back to a per-segment
    # mean; every document then has length 0, and any positive avgdl gives the same.
    return {"bm25_k1": k1, "bm25_b": b, "bm25_avgdl": stats.avgdl or 1.0}


def encode_text_queries(
    snapshot: Snapshot,
    field_name: str,
    texts: Sequence[str],
    analyzer_name: str | None = None,
) -> Any:
    """Query text turned into what the field's segments are searched with.

    ``analyzer_name`` (the search param of that name) picks the analyzer of a
    multi-analyzer field, through its aliases; a name that matches none, or
    none at all, gives the ``default`` analyzer, as in Milvus. Fields with one
    analyzer ignore it.
    """
    if analyzer_name is not None and not isinstance(analyzer_name, str):
        raise ParameterError(f"analyzer_name must be a string, got {analyzer_name!r}")
    schema = snapshot.schema
    fn = function_for_output(schema, field_name)
    if fn is None:
        raise ParameterError(f"field {field_name} is not the output of a function")
    if len(texts) > 16384:
        raise ParameterError(
            "nq (number of search vector per search request) should be in range [1, 16384], "
            f"but got {len(texts)}"
        )
    source = schema.field(fn.input_field_names[0])
    if fn.function_type == FunctionType.BM25:
        analyzer = query_analyzer(source, analyzer_name)
        query_tf = bm25_doc_vectors([[t.text for t in analyzer.tokenize(q)] for q in texts])
        stats = collection_bm25_stats(snapshot, field_name, query_tf.indices)
        return bm25_query_weights(query_tf, stats)
    if fn.function_type == FunctionType.TEXTEMBEDDING:
        target = schema.field(field_name)
        vectors = np.asarray(embedding_provider(fn).embed_query(list(texts)))
        return np.ascontiguousarray(vectors, dtype=dense_vector_numpy_dtype(target.dtype))
    raise NotSupportedError(f"text queries on the output of a {fn.function_type.name} function")


def bm25_segment_search(
    view: SegmentView,
    field: str,
    queries: sp.csr_array,
    params: dict[str, Any],
    usable: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top ``k`` BM25 hits per query among ``usable`` rows: flat (query, row, score).

    ``queries`` hold ``tf * idf`` weights (:func:`encode_text_queries`); documents
    are weighted here with the collection's ``avgdl``, so a score never depends
    on how rows are spread over segments. Only rows sharing a term score, and the
    work is proportional to the query terms' postings.
    """
    terms = segment_terms(view, field)
    n = terms.num_rows
    k1, b = float(params["bm25_k1"]), float(params["bm25_b"])
    avgdl = float(params["bm25_avgdl"]) or 1.0
    norm = k1 * (1.0 - b + b * terms.lengths / avgdl)
    allowed = np.asarray(usable[:n], dtype=bool)
    csr = sp.csr_array(queries)
    out_q: list[np.ndarray] = []
    out_r: list[np.ndarray] = []
    out_d: list[np.ndarray] = []
    for qi in range(csr.shape[0]):
        lo, hi = csr.indptr[qi], csr.indptr[qi + 1]
        rows_parts: list[np.ndarray] = []
        weight_parts: list[np.ndarray] = []
        for dim, qw in zip(csr.indices[lo:hi].tolist(), csr.data[lo:hi].tolist(), strict=True):
            rows, tfs = terms.postings(int(dim))
            if len(rows):
                rows_parts.append(rows)
                weight_parts.append(qw * tfs * (k1 + 1.0) / (tfs + norm[rows]))
        if not rows_parts:
            continue
        rows = np.concatenate(rows_parts)
        hit, inverse = np.unique(rows, return_inverse=True)
        scores = np.bincount(inverse, weights=np.concatenate(weight_parts), minlength=len(hit))
        keep = allowed[hit]
        hit, scores = hit[keep], scores[keep]
        if len(hit) > k:
            top = np.argpartition(-scores, k - 1)[:k]
            hit, scores = hit[top], scores[top]
        out_q.append(np.full(len(hit), qi, dtype=np.int64))
        out_r.append(hit.astype(np.int64))
        out_d.append(scores.astype(np.float32))
    if not out_q:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    return np.concatenate(out_q), np.concatenate(out_r), np.concatenate(out_d)
