"""BM25 as Milvus computes it: hashed term dims, exact corpus statistics, scores.

A BM25 function turns a text into a sparse row of term frequencies whose dims are
term hashes (Milvus's ``HashString2LessUint32``: CRC-32/IEEE of the term's first
100 UTF-8 bytes, modulo 2**32-1). Documents are stored as those raw frequencies;
the corpus statistics (:class:`BM25Stats`) live beside them and are exact: they add
and subtract, so the engine keeps one global copy per collection across inserts,
deletes and compactions.

At search time Milvus sends, for each query term, ``query_tf * idf`` with
``idf = log(1 + (N - df + 0.5) / (df + 0.5))``, and each document contributes
``tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))`` per matching term, where
``dl`` is the document's token count (the sum of its row). Scores are larger =
better, like IP. :func:`bm25_scores` computes exactly that, vectorised.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from elanus.errors import InternalError, ParameterError

__all__ = [
    "BM25_B_RANGE",
    "BM25_K1_RANGE",
    "DEFAULT_BM25_B",
    "DEFAULT_BM25_K1",
    "SPARSE_DIM",
    "BM25Stats",
    "bm25_doc_vectors",
    "bm25_doc_weights",
    "bm25_query_weights",
    "bm25_scores",
    "term_hash",
    "term_hashes",
    "validate_bm25_params",
]

SPARSE_DIM = 2**32
DEFAULT_BM25_K1 = 1.2
DEFAULT_BM25_B = 0.75
# The ranges knowhere accepts (Milvus's docs recommend k1 in [1.2, 2.0]).
BM25_K1_RANGE = (0.0, 3.0)
BM25_B_RANGE = (0.0, 1.0)

_HASH_PREFIX_BYTES = 100
_UINT32_MAX = 0xFFFFFFFF


def term_hash(term: str) -> int:
    """The sparse dim Milvus gives ``term``."""
    return zlib.crc32(term.encode("utf-8")[:_HASH_PREFIX_BYTES]) % _UINT32_MAX


def term_hashes(terms: Sequence[str]) -> np.ndarray:
    """:func:`term_hash` of each term, as uint32."""
    return np.fromiter((term_hash(t) for t in terms), dtype=np.uint32, count=len(terms))


def validate_bm25_params(k1: float, b: float) -> None:
    if not BM25_K1_RANGE[0] <= k1 <= BM25_K1_RANGE[1]:
        raise ParameterError(
            f"bm25_k1 out of range: {k1}, expected [{BM25_K1_RANGE[0]}, {BM25_K1_RANGE[1]}]"
        )
    if not BM25_B_RANGE[0] <= b <= BM25_B_RANGE[1]:
        raise ParameterError(
            f"bm25_b out of range: {b}, expected [{BM25_B_RANGE[0]}, {BM25_B_RANGE[1]}]"
        )


def bm25_doc_vectors(token_lists: Iterable[Sequence[str]]) -> sp.csr_array:
    """Term-frequency rows (``(n, 2**32)`` float32 csr) for analysed documents.

    Each distinct term is hashed once, so the Python work is one pass over tokens.
    """
    lists = list(token_lists)
    lengths = np.fromiter((len(t) for t in lists), dtype=np.int64, count=len(lists))
    flat = [t for tokens in lists for t in tokens]
    if not flat:
        return sp.csr_array((len(lists), SPARSE_DIM), dtype=np.float32)
    # Hash each distinct term once; a dict lookup per token is cheaper than sorting strings.
    dim_of = {term: term_hash(term) for term in set(flat)}
    dims = np.fromiter(map(dim_of.__getitem__, flat), dtype=np.int64, count=len(flat))
    rows = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
    out = sp.coo_array(
        (np.ones(len(flat), dtype=np.float32), (rows, dims)), shape=(len(lists), SPARSE_DIM)
    ).tocsr()
    out.sum_duplicates()
    out.sort_indices()
    return out


@dataclass(frozen=True, eq=False)
class BM25Stats:
    """Corpus statistics of one BM25 output field: exact, mergeable, subtractable.

    ``dims`` (sorted, unique uint32) and ``doc_freqs`` (int64) are parallel: how many
    documents contain each term. Values are immutable; operations return new ones.
    """

    num_docs: int
    num_tokens: int
    dims: np.ndarray
    doc_freqs: np.ndarray

    @staticmethod
    def empty() -> BM25Stats:
        return BM25Stats(0, 0, np.zeros(0, np.uint32), np.zeros(0, np.int64))

    @staticmethod
    def from_doc_vectors(doc_tf: sp.csr_array | sp.csr_matrix) -> BM25Stats:
        """Statistics of the documents whose term-frequency rows are ``doc_tf``."""
        csr = sp.csr_array(doc_tf)
        csr.sum_duplicates()
        present = csr.indices[csr.data > 0]
        dims, counts = np.unique(present.astype(np.uint32), return_counts=True)
        return BM25Stats(
            num_docs=int(csr.shape[0]),
            num_tokens=int(round(float(csr.data.sum(dtype=np.float64)))),
            dims=dims,
            doc_freqs=counts.astype(np.int64),
        )

    @property
    def avgdl(self) -> float:
        """Average document length; 0 for an empty corpus (as Milvus reports)."""
        if self.num_docs == 0 or self.num_tokens == 0:
            return 0.0
        return self.num_tokens / self.num_docs

    def merge(self, other: BM25Stats) -> BM25Stats:
        return self._combine(other, 1)

    def subtract(self, other: BM25Stats) -> BM25Stats:
        """Remove documents counted in ``other`` (which must have been counted here)."""
        return self._combine(other, -1)

    def _combine(self, other: BM25Stats, sign: int) -> BM25Stats:
        num_docs = self.num_docs + sign * other.num_docs
        num_tokens = self.num_tokens + sign * other.num_tokens
        dims = np.concatenate([self.dims, other.dims])
        freqs = np.concatenate([self.doc_freqs, sign * other.doc_freqs])
        merged, inverse = np.unique(dims, return_inverse=True)
        totals = np.zeros(len(merged), dtype=np.int64)
        np.add.at(totals, inverse, freqs)
        if num_docs < 0 or num_tokens < 0 or (totals < 0).any():
            raise InternalError("BM25 statistics went negative: removed documents never added")
        keep = totals > 0
        return BM25Stats(num_docs, num_tokens, merged[keep].astype(np.uint32), totals[keep])

    def doc_freq(self, dims: np.ndarray) -> np.ndarray:
        """Document frequency of each dim (0 where unseen)."""
        dims = np.asarray(dims, dtype=np.uint32)
        pos = np.searchsorted(self.dims, dims)
        pos_clipped = np.minimum(pos, max(len(self.dims) - 1, 0))
        found = (
            (pos < len(self.dims)) & (self.dims[pos_clipped] == dims)
            if len(self.dims)
            else (np.zeros(len(dims), dtype=bool))
        )
        out = np.zeros(len(dims), dtype=np.int64)
        out[found] = self.doc_freqs[pos_clipped[found]]
        return out

    def idf(self, dims: np.ndarray) -> np.ndarray:
        """``log(1 + (N - df + 0.5) / (df + 0.5))`` per dim, float64."""
        df = self.doc_freq(dims).astype(np.float64)
        return np.log1p((self.num_docs - df + 0.5) / (df + 0.5))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BM25Stats):
            return NotImplemented
        return (
            self.num_docs == other.num_docs
            and self.num_tokens == other.num_tokens
            and np.array_equal(self.dims, other.dims)
            and np.array_equal(self.doc_freqs, other.doc_freqs)
        )

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(
            buf,
            header=np.array([self.num_docs, self.num_tokens], dtype=np.int64),
            dims=self.dims.astype("<u4"),
            doc_freqs=self.doc_freqs.astype("<i8"),
        )
        return buf.getvalue()

    @staticmethod
    def from_bytes(data: bytes) -> BM25Stats:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            header = npz["header"]
            return BM25Stats(
                int(header[0]),
                int(header[1]),
                npz["dims"].astype(np.uint32),
                npz["doc_freqs"].astype(np.int64),
            )


def bm25_query_weights(query_tf: sp.csr_array | sp.csr_matrix, stats: BM25Stats) -> sp.csr_array:
    """What Milvus searches with: each query term's frequency times its idf (float32)."""
    csr = sp.csr_array(query_tf, dtype=np.float32, copy=True)
    csr.sum_duplicates()
    csr.data = (csr.data * stats.idf(csr.indices.astype(np.uint32))).astype(np.float32)
    return csr


def _doc_lengths(doc_tf: sp.csr_array, doc_lengths: np.ndarray | None) -> np.ndarray:
    if doc_lengths is not None:
        lengths = np.asarray(doc_lengths, dtype=np.float64)
        if lengths.shape != (doc_tf.shape[0],):
            raise ParameterError("doc_lengths must have one entry per document row")
        return lengths
    rows = np.repeat(np.arange(doc_tf.shape[0]), np.diff(doc_tf.indptr))
    return np.bincount(rows, weights=doc_tf.data.astype(np.float64), minlength=doc_tf.shape[0])


def bm25_doc_weights(
    doc_tf: sp.csr_array | sp.csr_matrix,
    avgdl: float,
    *,
    k1: float = DEFAULT_BM25_K1,
    b: float = DEFAULT_BM25_B,
    doc_lengths: np.ndarray | None = None,
) -> sp.csr_array:
    """Each stored frequency turned into its BM25 term weight for a given ``avgdl``.

    ``bm25_query_weights(q) @ bm25_doc_weights(d).T`` is the BM25 score, which lets a
    sparse inner-product index answer BM25 searches.
    """
    validate_bm25_params(k1, b)
    csr = sp.csr_array(doc_tf, dtype=np.float32, copy=True)
    csr.sum_duplicates()
    lengths = _doc_lengths(csr, doc_lengths)
    # An empty corpus has avgdl 0; every length is then 0 too, and the ratio is 1.
    ratio = lengths / avgdl if avgdl > 0 else np.ones_like(lengths)
    norm = k1 * (1.0 - b + b * ratio)
    row_norm = np.repeat(norm, np.diff(csr.indptr))
    tf = csr.data.astype(np.float64)
    csr.data = (tf * (k1 + 1.0) / (tf + row_norm)).astype(np.float32)
    return csr


def bm25_scores(
    query_tf: sp.csr_array | sp.csr_matrix,
    doc_tf: sp.csr_array | sp.csr_matrix,
    stats: BM25Stats,
    *,
    k1: float = DEFAULT_BM25_K1,
    b: float = DEFAULT_BM25_B,
    doc_lengths: np.ndarray | None = None,
) -> np.ndarray:
    """BM25 score of every (query, document) pair: ``(n_queries, n_docs)`` float32.

    ``query_tf`` and ``doc_tf`` are term-frequency rows from :func:`bm25_doc_vectors`;
    idf and avgdl come from ``stats`` (the collection-wide statistics, not those of
    ``doc_tf`` alone). Only the columns that some query uses are touched.
    """
    validate_bm25_params(k1, b)
    weights = bm25_query_weights(query_tf, stats)
    docs = sp.csr_array(doc_tf)
    docs.sum_duplicates()
    n_queries, n_docs = weights.shape[0], docs.shape[0]
    query_dims = np.unique(weights.indices)
    if len(query_dims) == 0 or n_docs == 0:
        return np.zeros((n_queries, n_docs), dtype=np.float32)
    lengths = _doc_lengths(docs, doc_lengths)
    avgdl = stats.avgdl
    # Only postings of query terms matter: weigh those alone, re-indexed onto the
    # small set of query dims, then one sparse product.
    keep = np.isin(docs.indices, query_dims)
    doc_rows = np.repeat(np.arange(n_docs), np.diff(docs.indptr))[keep]
    tf = docs.data[keep].astype(np.float64)
    ratio = lengths[doc_rows] / avgdl if avgdl > 0 else np.ones(len(doc_rows))
    doc_weight = tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * ratio))
    doc_cols = np.searchsorted(query_dims, docs.indices[keep])
    narrow_docs = sp.csr_array(
        (doc_weight.astype(np.float32), (doc_rows, doc_cols)), shape=(n_docs, len(query_dims))
    )
    q_rows = np.repeat(np.arange(n_queries), np.diff(weights.indptr))
    q_cols = np.searchsorted(query_dims, weights.indices)
    narrow_q = sp.csr_array((weights.data, (q_rows, q_cols)), shape=(n_queries, len(query_dims)))
    return np.asarray((narrow_q @ narrow_docs.T).toarray(), dtype=np.float32)
