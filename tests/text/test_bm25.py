"""BM25 statistics and scores against a plain-Python reference implementation."""

from __future__ import annotations

import math
import zlib
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp

from elanus.errors import InternalError, ParameterError
from elanus.text import (
    BM25Stats,
    bm25_doc_vectors,
    bm25_doc_weights,
    bm25_query_weights,
    bm25_scores,
    create_analyzer,
    term_hash,
    validate_bm25_params,
)

CORPUS = [
    "The quick brown fox jumps over the lazy dog",
    "A quick brown dog outpaces a quick fox",
    "Lazy dogs sleep all day long",
    "Foxes are quick and clever animals",
    "The dog and the fox are friends",
    "Vector databases store embeddings for search",
    "Full text search with BM25 ranks documents by term frequency",
    "",
]
QUERIES = ["quick fox", "lazy dog sleeps", "search documents", "unknown words only", "fox fox dog"]


def reference_scores(docs: list[list[str]], query: list[str], k1: float, b: float) -> list[float]:
    """Textbook BM25 with Milvus's idf, one document at a time."""
    n = len(docs)
    avgdl = sum(len(d) for d in docs) / n
    df = Counter(t for d in docs for t in set(d))
    qtf = Counter(query)
    out = []
    for d in docs:
        tf = Counter(d)
        score = 0.0
        for term, q_count in qtf.items():
            if tf[term] == 0:
                continue
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            norm = tf[term] + k1 * (1 - b + b * len(d) / avgdl)
            score += q_count * idf * tf[term] * (k1 + 1) / norm
        out.append(score)
    return out


@pytest.fixture(scope="module")
def analysed() -> list[list[str]]:
    analyzer = create_analyzer({"type": "english"})
    return [analyzer.terms(text) for text in CORPUS]


@pytest.fixture(scope="module")
def queries() -> list[list[str]]:
    analyzer = create_analyzer({"type": "english"})
    return [analyzer.terms(q) for q in QUERIES]


def test_term_hash_is_crc32_of_the_first_100_bytes_modulo_uint32_max() -> None:
    assert term_hash("milvus") == zlib.crc32(b"milvus") % 0xFFFFFFFF
    long_term = "x" * 150
    assert term_hash(long_term) == term_hash("x" * 100)
    assert term_hash("数据库") == zlib.crc32("数据库".encode()) % 0xFFFFFFFF


def test_doc_vectors_hold_term_frequencies_at_hashed_dims() -> None:
    rows = bm25_doc_vectors([["a", "b", "a"], [], ["c"]])
    assert rows.shape == (3, 2**32)
    assert rows.dtype == np.float32
    first = dict(zip(rows[[0]].indices.tolist(), rows[[0]].data.tolist(), strict=True))
    assert first == {term_hash("a"): 2.0, term_hash("b"): 1.0}
    assert rows[[1]].nnz == 0
    assert rows[[2]].indices.tolist() == [term_hash("c")]


def test_stats_count_documents_tokens_and_document_frequencies(
    analysed: list[list[str]],
) -> None:
    stats = BM25Stats.from_doc_vectors(bm25_doc_vectors(analysed))
    assert stats.num_docs == len(analysed)
    assert stats.num_tokens == sum(len(d) for d in analysed)
    assert stats.avgdl == pytest.approx(stats.num_tokens / stats.num_docs)
    df = Counter(t for d in analysed for t in set(d))
    for term, count in df.items():
        assert stats.doc_freq(np.array([term_hash(term)]))[0] == count
    assert stats.doc_freq(np.array([term_hash("never-seen")]))[0] == 0


@pytest.mark.parametrize(("k1", "b"), [(1.2, 0.75), (2.0, 0.3), (1.5, 1.0), (1.2, 0.0)])
def test_scores_match_reference(
    analysed: list[list[str]], queries: list[list[str]], k1: float, b: float
) -> None:
    docs = bm25_doc_vectors(analysed)
    stats = BM25Stats.from_doc_vectors(docs)
    got = bm25_scores(bm25_doc_vectors(queries), docs, stats, k1=k1, b=b)
    assert got.shape == (len(queries), len(analysed))
    assert got.dtype == np.float32
    for qi, query in enumerate(queries):
        np.testing.assert_allclose(got[qi], reference_scores(analysed, query, k1, b), rtol=1e-5)
    assert (got[3] == 0).all()  # a query of unseen terms scores nothing


def test_scores_are_query_weights_dot_doc_weights(
    analysed: list[list[str]], queries: list[list[str]]
) -> None:
    docs = bm25_doc_vectors(analysed)
    stats = BM25Stats.from_doc_vectors(docs)
    weights = bm25_query_weights(bm25_doc_vectors(queries), stats)
    doc_w = bm25_doc_weights(docs, stats.avgdl)
    dims = np.unique(np.concatenate([weights.indices, doc_w.indices]))
    remap = {d: i for i, d in enumerate(dims.tolist())}

    def narrow(m: sp.csr_array) -> np.ndarray:
        dense = np.zeros((m.shape[0], len(dims)))
        coo = m.tocoo()
        for r, c, v in zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True):
            dense[r, remap[c]] = v
        return dense

    expected = narrow(weights) @ narrow(doc_w).T
    np.testing.assert_allclose(
        bm25_scores(bm25_doc_vectors(queries), docs, stats), expected, rtol=1e-5
    )


def test_stats_merge_equals_stats_of_the_union(analysed: list[list[str]]) -> None:
    whole = BM25Stats.from_doc_vectors(bm25_doc_vectors(analysed))
    part_a = BM25Stats.from_doc_vectors(bm25_doc_vectors(analysed[:3]))
    part_b = BM25Stats.from_doc_vectors(bm25_doc_vectors(analysed[3:]))
    assert part_a.merge(part_b) == whole
    assert BM25Stats.empty().merge(whole) == whole


def test_scores_after_removing_documents_match_reference_on_the_rest(
    analysed: list[list[str]], queries: list[list[str]]
) -> None:
    docs = bm25_doc_vectors(analysed)
    stats = BM25Stats.from_doc_vectors(docs)
    removed = [1, 4, 6]
    kept = [i for i in range(len(analysed)) if i not in removed]
    stats_after = stats.subtract(BM25Stats.from_doc_vectors(docs[removed]))
    assert stats_after == BM25Stats.from_doc_vectors(docs[kept])
    got = bm25_scores(bm25_doc_vectors(queries), docs[kept], stats_after)
    kept_docs = [analysed[i] for i in kept]
    for qi, query in enumerate(queries):
        np.testing.assert_allclose(
            got[qi], reference_scores(kept_docs, query, 1.2, 0.75), rtol=1e-5
        )


def test_subtracting_everything_leaves_empty_stats(analysed: list[list[str]]) -> None:
    stats = BM25Stats.from_doc_vectors(bm25_doc_vectors(analysed))
    empty = stats.subtract(stats)
    assert empty == BM25Stats.empty()
    assert empty.avgdl == 0.0


def test_subtracting_documents_never_added_is_an_invariant_error() -> None:
    small = BM25Stats.from_doc_vectors(bm25_doc_vectors([["a"]]))
    other = BM25Stats.from_doc_vectors(bm25_doc_vectors([["b"], ["c"]]))
    with pytest.raises(InternalError):
        small.subtract(other)


def test_stats_round_trip_bytes(analysed: list[list[str]]) -> None:
    stats = BM25Stats.from_doc_vectors(bm25_doc_vectors(analysed))
    assert BM25Stats.from_bytes(stats.to_bytes()) == stats


def test_scores_on_empty_inputs() -> None:
    stats = BM25Stats.empty()
    docs = bm25_doc_vectors([[], []])
    assert bm25_scores(bm25_doc_vectors([["a"]]), docs, stats).tolist() == [[0.0, 0.0]]


@pytest.mark.parametrize(("k1", "b"), [(-0.1, 0.75), (3.5, 0.75), (1.2, -0.1), (1.2, 1.1)])
def test_out_of_range_params_are_rejected(k1: float, b: float) -> None:
    with pytest.raises(ParameterError, match="out of range"):
        validate_bm25_params(k1, b)
