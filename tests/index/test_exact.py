"""Exact search against straightforward NumPy references, for every type and metric."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
import scipy.sparse as sp
from vector_testdata import mask_with

from elanus.index import exact_range_search, exact_search, larger_is_better
from elanus.schema.types import DataType


def _reference(dist: np.ndarray, metric: str, k: int) -> np.ndarray:
    key = -dist if larger_is_better(metric) else dist
    return np.argsort(key, axis=1, kind="stable")[:, :k]


def _dense_reference(x: np.ndarray, q: np.ndarray, metric: str) -> np.ndarray:
    x64, q64 = x.astype(np.float64), q.astype(np.float64)
    if metric == "COSINE":
        x64 = x64 / np.linalg.norm(x64, axis=1, keepdims=True)
        q64 = q64 / np.linalg.norm(q64, axis=1, keepdims=True)
    if metric == "L2":
        return ((q64[:, None, :] - x64[None, :, :]) ** 2).sum(-1)
    return q64 @ x64.T


@pytest.mark.parametrize("metric", ["L2", "IP", "COSINE"])
def test_float_exact_matches_reference(float_data, metric):
    x, q = float_data
    d, i = exact_search(DataType.FLOAT_VECTOR, x, q, metric, 10)
    ref = _dense_reference(x, q, metric)
    want = np.take_along_axis(ref, _reference(ref, metric, 10), axis=1)
    np.testing.assert_allclose(d, want, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(np.take_along_axis(ref, i, axis=1), want, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize(
    "dtype", [DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR, DataType.INT8_VECTOR]
)
def test_typed_vectors_score_in_float32_of_their_values(float_data, dtype):
    x, q = float_data
    if dtype == DataType.FLOAT16_VECTOR:
        stored = x.astype(np.float16)
        widened = stored.astype(np.float32)
    elif dtype == DataType.BFLOAT16_VECTOR:
        stored = x.astype(ml_dtypes.bfloat16).view(np.uint16)
        widened = stored.view(ml_dtypes.bfloat16).astype(np.float32)
    else:
        stored = np.clip(np.round(x * 10), -128, 127).astype(np.int8)
        widened = stored.astype(np.float32)
    for metric in ("L2", "IP", "COSINE"):
        d, i = exact_search(dtype, stored, q, metric, 5)
        d_ref, i_ref = exact_search(DataType.FLOAT_VECTOR, widened, q, metric, 5)
        np.testing.assert_allclose(d, d_ref, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("fraction", [0.5, 0.01, 0.0002])
def test_mask_restricts_exact_search(float_data, fraction):
    x, q = float_data
    mask = mask_with(len(x), fraction)
    d, i = exact_search(DataType.FLOAT_VECTOR, x, q, "L2", 10, allowed=mask)
    rows = np.flatnonzero(mask)
    d_sub, i_sub = exact_search(DataType.FLOAT_VECTOR, x[rows], q, "L2", 10)
    np.testing.assert_array_equal(i, np.where(i_sub >= 0, rows[np.maximum(i_sub, 0)], -1))
    assert np.all(np.isinf(d[i < 0]))


def test_single_query_is_one_row(float_data):
    x, q = float_data
    d, i = exact_search(DataType.FLOAT_VECTOR, x, q[0], "IP", 3)
    assert d.shape == (1, 3) and i.shape == (1, 3)
    assert d[0, 0] >= d[0, 1] >= d[0, 2]


def _bits(n: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, dim // 8), dtype=np.uint8)


@pytest.mark.parametrize("metric", ["HAMMING", "JACCARD"])
def test_binary_exact_matches_reference(metric):
    x, q = _bits(2000, 64, 1), _bits(7, 64, 2)
    xb, qb = np.unpackbits(x, axis=1).astype(bool), np.unpackbits(q, axis=1).astype(bool)
    inter = (qb[:, None, :] & xb[None, :, :]).sum(-1)
    union = (qb[:, None, :] | xb[None, :, :]).sum(-1)
    ref = (qb[:, None, :] ^ xb[None, :, :]).sum(-1) if metric == "HAMMING" else 1 - inter / union
    d, i = exact_search(DataType.BINARY_VECTOR, x, q, metric, 5)
    np.testing.assert_allclose(d, np.sort(ref, axis=1)[:, :5], rtol=1e-6)


def test_minhash_jaccard_counts_equal_hash_values():
    rng = np.random.default_rng(0)
    sig = rng.integers(0, 50, (300, 16)).astype("<u4")
    q = sig[:2].copy()
    q[1, :8] = 999  # half the hashes differ from row 1... of itself
    d, i = exact_search(
        DataType.BINARY_VECTOR, sig.view(np.uint8), q.view(np.uint8), "MHJACCARD", 3
    )
    assert i[0, 0] == 0 and d[0, 0] == 0.0
    assert d[1, 0] <= 0.5


def _sparse(n: int, seed: int, nnz: int = 8) -> sp.csr_array:
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), nnz)
    cols = rng.choice(
        np.array([3, 17, 2**31 + 5, 2**32 - 1, 99, 1000, 7, 8, 9, 10, 11, 12], np.int64), n * nnz
    )
    vals = rng.random(n * nnz).astype(np.float32) + 0.1
    m = sp.coo_array((vals, (rows, cols)), shape=(n, 2**32)).tocsr()
    m.sum_duplicates()
    return sp.csr_array(m)


def test_sparse_ip_exact_matches_dense_product():
    docs, queries = _sparse(500, 1), _sparse(4, 2, nnz=3)
    d, i = exact_search(DataType.SPARSE_FLOAT_VECTOR, docs, queries, "IP", 10)
    cols = np.unique(np.concatenate([docs.indices, queries.indices]).astype(np.int64))

    def dense(m: sp.csr_array) -> np.ndarray:
        coo = sp.coo_array(m)
        out = np.zeros((m.shape[0], len(cols)))
        out[coo.row, np.searchsorted(cols, coo.col.astype(np.int64))] = coo.data
        return out

    dd, qq = dense(docs), dense(queries)
    ref = qq @ dd.T
    np.testing.assert_allclose(d, -np.sort(-ref, axis=1)[:, :10], rtol=1e-5)


@pytest.mark.parametrize(
    ("metric", "radius", "range_filter"),
    [("L2", 30.0, 10.0), ("IP", 20.0, 40.0), ("COSINE", 0.6, 0.95)],
)
def test_exact_range_search_bounds(float_data, metric, radius, range_filter):
    x, q = float_data
    res = exact_range_search(DataType.FLOAT_VECTOR, x, q[:5], metric, radius, range_filter)
    ref = _dense_reference(x, q[:5], metric)
    for qi in range(5):
        d, ids = res.hits(qi)
        if larger_is_better(metric):
            want = np.flatnonzero((ref[qi] > radius) & (ref[qi] <= range_filter))
            assert np.all(np.diff(d) <= 0)
        else:
            want = np.flatnonzero((ref[qi] >= range_filter) & (ref[qi] < radius))
            assert np.all(np.diff(d) >= 0)
        # float32 vs float64 may disagree on hits sitting exactly on a bound
        assert len(set(ids.tolist()) ^ set(want.tolist())) <= 2
