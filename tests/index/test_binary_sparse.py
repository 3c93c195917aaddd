"""Binary (BIN_FLAT, BIN_IVF_FLAT, MINHASH_LSH) and sparse (SPARSE_INVERTED_INDEX,
SPARSE_WAND) indexes against exact search."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from vector_testdata import mask_with, recall_at, vector_field

from elanus.index import build_vector_index, exact_search, load_vector_index
from elanus.schema.types import DataType

BIN_DIM = 128
BINARY = vector_field(DataType.BINARY_VECTOR, BIN_DIM)
SPARSE = vector_field(DataType.SPARSE_FLOAT_VECTOR, 0)


def _clustered_bits(n: int, nq: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.random((32, BIN_DIM)) < 0.5

    def draw(count: int) -> np.ndarray:
        flips = rng.random((count, BIN_DIM)) < 0.1
        return np.packbits(centers[rng.integers(0, 32, count)] ^ flips, axis=1)

    return draw(n), draw(nq)


@pytest.fixture(scope="module")
def bits() -> tuple[np.ndarray, np.ndarray]:
    return _clustered_bits(4000, 30)


@pytest.mark.parametrize(
    ("index_type", "metric", "build", "search", "floor"),
    [
        ("BIN_FLAT", "HAMMING", {}, {}, 1.0),
        ("BIN_FLAT", "JACCARD", {}, {}, 1.0),
        ("BIN_IVF_FLAT", "HAMMING", {"nlist": 32}, {"nprobe": 8}, 0.9),
        ("BIN_IVF_FLAT", "JACCARD", {"nlist": 32}, {"nprobe": 8}, 0.9),
    ],
)
def test_binary_indexes_against_exact(bits, tmp_path, index_type, metric, build, search, floor):
    x, q = bits
    index = build_vector_index(BINARY, index_type, metric, build, x)
    _, truth = exact_search(DataType.BINARY_VECTOR, x, q, metric, 10)
    d, i = index.search(q, 10, search)
    # ties are common with bit distances: compare the distances reached
    d_truth, _ = exact_search(DataType.BINARY_VECTOR, x, q, metric, 10)
    hits = np.mean(d[:, -1] <= d_truth[:, -1] + 1e-6)
    assert hits >= floor or recall_at(i, truth) >= floor
    for fraction in (0.1, 0.001):
        mask = mask_with(len(x), fraction)
        d_m, i_m = index.search(q, 10, search, allowed=mask)
        d_exact, _ = exact_search(DataType.BINARY_VECTOR, x, q, metric, 10, allowed=mask)
        assert mask[i_m[i_m >= 0]].all()
        np.testing.assert_allclose(d_m, d_exact, rtol=1e-6)
    index.save(tmp_path / "b")
    d2, i2 = load_vector_index(tmp_path / "b").search(q, 10, search)
    np.testing.assert_array_equal(i, i2)


def test_minhash_lsh_finds_near_duplicates(tmp_path):
    rng = np.random.default_rng(9)
    hashes = 32
    base = rng.integers(0, 2**31, (2000, hashes)).astype("<u4")
    queries = base[:20].copy()
    queries[:, :4] = rng.integers(0, 2**31, (20, 4))  # near-duplicates of rows 0..19
    field = vector_field(DataType.BINARY_VECTOR, hashes * 32)
    index = build_vector_index(
        field, "MINHASH_LSH", "MHJACCARD", {"mh_lsh_band": 8}, base.view(np.uint8)
    )
    d, i = index.search(queries.view(np.uint8), 5, {})
    np.testing.assert_array_equal(i[:, 0], np.arange(20))
    np.testing.assert_allclose(d[:, 0], 4 / hashes)
    index.save(tmp_path / "mh")
    d2, i2 = load_vector_index(tmp_path / "mh").search(queries.view(np.uint8), 5, {})
    np.testing.assert_array_equal(i, i2)


def _sparse_docs(n: int, seed: int, nnz: int = 12, vocab: int = 3000) -> sp.csr_array:
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), nnz)
    cols = (rng.zipf(1.3, n * nnz) % vocab).astype(np.int64) * 7919 % (2**32)
    vals = rng.integers(1, 5, n * nnz).astype(np.float32)
    m = sp.coo_array((vals, (rows, cols)), shape=(n, 2**32)).tocsr()
    m.sum_duplicates()
    return sp.csr_array(m)


@pytest.fixture(scope="module")
def sparse_data() -> tuple[sp.csr_array, sp.csr_array]:
    return _sparse_docs(3000, 1), _sparse_docs(12, 2, nnz=4)


@pytest.mark.parametrize("metric", ["IP", "BM25"])
def test_sparse_algorithms_agree_with_exact(sparse_data, tmp_path, metric):
    docs, queries = sparse_data
    d_exact, i_exact = exact_search(DataType.SPARSE_FLOAT_VECTOR, docs, queries, metric, 10)
    results = []
    for index_type, algo in (
        ("SPARSE_INVERTED_INDEX", "DAAT_MAXSCORE"),
        ("SPARSE_INVERTED_INDEX", "DAAT_WAND"),
        ("SPARSE_INVERTED_INDEX", "TAAT_NAIVE"),
        ("SPARSE_WAND", "DAAT_WAND"),
    ):
        index = build_vector_index(SPARSE, index_type, metric, {"inverted_index_algo": algo}, docs)
        d, i = index.search(queries, 10, {})
        np.testing.assert_allclose(d, d_exact, rtol=1e-5)
        results.append(i)
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)
    mask = mask_with(docs.shape[0], 0.05)
    d_m, i_m = index.search(queries, 10, {}, allowed=mask)
    d_x, _ = exact_search(DataType.SPARSE_FLOAT_VECTOR, docs, queries, metric, 10, allowed=mask)
    np.testing.assert_allclose(d_m, d_x, rtol=1e-5)
    index.save(tmp_path / "s")
    d2, i2 = load_vector_index(tmp_path / "s").search(queries, 10, {})
    np.testing.assert_array_equal(results[-1], i2)


def test_bm25_uses_the_average_length_passed_at_search(sparse_data):
    docs, queries = sparse_data
    index = build_vector_index(SPARSE, "SPARSE_INVERTED_INDEX", "BM25", {}, docs)
    d_a, _ = index.search(queries, 10, {"bm25_avgdl": 5.0})
    d_b, _ = index.search(queries, 10, {"bm25_avgdl": 500.0})
    d_x, _ = exact_search(
        DataType.SPARSE_FLOAT_VECTOR, docs, queries, "BM25", 10, params={"bm25_avgdl": 500.0}
    )
    np.testing.assert_allclose(d_b, d_x, rtol=1e-5)
    assert not np.allclose(d_a, d_b)


def test_sparse_drop_ratios(sparse_data):
    docs, queries = sparse_data
    full = build_vector_index(SPARSE, "SPARSE_INVERTED_INDEX", "IP", {}, docs)
    dropped = build_vector_index(
        SPARSE, "SPARSE_INVERTED_INDEX", "IP", {"drop_ratio_build": 0.3}, docs
    )
    assert dropped.nbytes < full.nbytes
    d_full, i_full = full.search(queries, 10, {})
    _, i_drop = full.search(queries, 10, {"drop_ratio_search": 0.5})
    assert recall_at(i_drop, i_full) > 0.3
    # the largest query terms carry the score, so the best hit mostly survives
    _, i_dropped_build = dropped.search(queries, 10, {})
    assert recall_at(i_dropped_build, i_full) > 0.3


def test_binary_range_search_against_exact(bits):
    from elanus.index import exact_range_search

    x, q = bits
    index = build_vector_index(BINARY, "BIN_FLAT", "HAMMING", {}, x)
    got = index.range_search(q[:5], radius=30.0, range_filter=5.0)
    want = exact_range_search(DataType.BINARY_VECTOR, x, q[:5], "HAMMING", 30.0, 5.0)
    np.testing.assert_array_equal(got.lims, want.lims)
    for qi in range(5):
        d, ids = got.hits(qi)
        assert np.all((d >= 5.0) & (d < 30.0))
        assert set(ids.tolist()) == set(want.hits(qi)[1].tolist())


def test_sparse_range_search_against_exact(sparse_data):
    from elanus.index import exact_range_search

    docs, queries = sparse_data
    index = build_vector_index(SPARSE, "SPARSE_INVERTED_INDEX", "IP", {}, docs)
    d10, _ = index.search(queries, 10, {})
    radius = float(np.median(d10[:, -1]))
    got = index.range_search(queries, radius=radius, range_filter=None)
    want = exact_range_search(DataType.SPARSE_FLOAT_VECTOR, docs, queries, "IP", radius, None)
    np.testing.assert_array_equal(got.lims, want.lims)
    np.testing.assert_allclose(got.distances, want.distances, rtol=1e-5)
