"""Kept unit-length rows for COSINE scans give exactly what per-query normalisation gives."""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor

import ml_dtypes
import numpy as np
import pytest

from elanus.index import unit_rows
from elanus.index.exact import exact_range_search, exact_search
from elanus.index.metrics import has_missing, is_best_first, l2_normalize
from elanus.schema.types import DataType

DIM = 16


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    unit_rows.clear()


def _stored(dtype: DataType, n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32) * 3
    if dtype == DataType.FLOAT16_VECTOR:
        return x.astype(np.float16)
    if dtype == DataType.BFLOAT16_VECTOR:
        return x.astype(ml_dtypes.bfloat16).view(np.uint16)
    if dtype == DataType.INT8_VECTOR:
        return np.clip(x * 10, -128, 127).astype(np.int8)
    return x


def _read_only(array: np.ndarray) -> np.ndarray:
    array = array.copy()
    array.setflags(write=False)
    return array


def _queries(nq: int, seed: int = 9) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((nq, DIM)).astype(np.float32)


DENSE = [
    DataType.FLOAT_VECTOR,
    DataType.FLOAT16_VECTOR,
    DataType.BFLOAT16_VECTOR,
    DataType.INT8_VECTOR,
]


@pytest.mark.parametrize("dtype", DENSE)
@pytest.mark.parametrize("nq", [1, 3])
@pytest.mark.parametrize("masked", [False, True])
def test_kept_rows_give_identical_hits(dtype: DataType, nq: int, masked: bool) -> None:
    vectors = _stored(dtype, 3000)
    allowed = np.random.default_rng(2).random(3000) < 0.7 if masked else None
    q = _queries(nq)
    fresh = exact_search(dtype, vectors, q, "COSINE", 10, allowed)
    assert unit_rows.cached_bytes() == 0  # a writeable array not declared immutable
    for _ in range(2):  # the first call fills the copy, the second reads it
        kept = exact_search(dtype, vectors, q, "COSINE", 10, allowed, immutable=True)
        np.testing.assert_array_equal(kept[1], fresh[1])
        np.testing.assert_array_equal(kept[0], fresh[0])
    assert unit_rows.cached_bytes() == 3000 * DIM * 4


def test_range_search_reads_kept_rows_identically() -> None:
    vectors = _read_only(_stored(DataType.FLOAT_VECTOR, 2000))
    q = _queries(2)
    plain = exact_range_search(DataType.FLOAT_VECTOR, vectors.copy(), q, "COSINE", 0.2, 0.9)
    for _ in range(2):
        kept = exact_range_search(DataType.FLOAT_VECTOR, vectors, q, "COSINE", 0.2, 0.9)
        np.testing.assert_array_equal(kept.lims, plain.lims)
        np.testing.assert_array_equal(kept.ids, plain.ids)
        np.testing.assert_array_equal(kept.distances, plain.distances)
    assert unit_rows.cached_bytes() > 0


def test_a_read_only_owner_counts_as_immutable() -> None:
    vectors = _read_only(_stored(DataType.FLOAT_VECTOR, 100))
    got = unit_rows.unit_rows(DataType.FLOAT_VECTOR, vectors[:60], False)
    assert got is not None and got.shape == (60, DIM)
    np.testing.assert_array_equal(got, l2_normalize(vectors[:60].copy()))
    writeable = _stored(DataType.FLOAT_VECTOR, 100)
    assert unit_rows.unit_rows(DataType.FLOAT_VECTOR, writeable, False) is None


def test_rows_changed_in_place_are_seen_when_not_declared_immutable() -> None:
    vectors = _stored(DataType.FLOAT_VECTOR, 500)
    q = vectors[:1].copy()
    assert exact_search(DataType.FLOAT_VECTOR, vectors, q, "COSINE", 1)[1][0, 0] == 0
    vectors[0] = -vectors[0]
    assert exact_search(DataType.FLOAT_VECTOR, vectors, q, "COSINE", 1)[1][0, 0] != 0


def test_an_append_only_buffer_normalises_only_new_rows_and_old_views_stay_valid() -> None:
    full = _stored(DataType.FLOAT16_VECTOR, 5000, seed=4)
    buffer = np.zeros_like(full)  # a growing segment's buffer: rows are written once
    q = _queries(2)
    answers = []
    written = 0
    for n in (700, 1900, 5000):
        buffer[written:n] = full[written:n]
        written = n
        view = buffer[:n]
        kept = exact_search(DataType.FLOAT16_VECTOR, view, q, "COSINE", 10, immutable=True)
        fresh = exact_search(DataType.FLOAT16_VECTOR, full[:n].copy(), q, "COSINE", 10)
        np.testing.assert_array_equal(kept[1], fresh[1])
        np.testing.assert_array_equal(kept[0], fresh[0])
        answers.append(kept)
    # A reader of the first view (an older snapshot) still gets its own answer.
    again = exact_search(DataType.FLOAT16_VECTOR, buffer[:700], q, "COSINE", 10, immutable=True)
    np.testing.assert_array_equal(again[1], answers[0][1])
    np.testing.assert_array_equal(again[0], answers[0][0])
    assert unit_rows.cached_bytes() >= 5000 * DIM * 4


def test_the_copy_goes_with_its_owner() -> None:
    vectors = _read_only(_stored(DataType.FLOAT_VECTOR, 1000))
    exact_search(DataType.FLOAT_VECTOR, vectors, _queries(1), "COSINE", 5)
    assert unit_rows.cached_bytes() == 1000 * DIM * 4
    del vectors
    gc.collect()
    assert unit_rows.cached_bytes() == 0


def test_blocks_over_the_budget_are_normalised_per_query(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unit_rows, "BUDGET_BYTES", 1000 * DIM * 4)
    small = _read_only(_stored(DataType.FLOAT_VECTOR, 600, seed=1))
    large = _read_only(_stored(DataType.FLOAT_VECTOR, 2000, seed=2))
    q = _queries(1)
    got = exact_search(DataType.FLOAT_VECTOR, large, q, "COSINE", 10)
    want = exact_search(DataType.FLOAT_VECTOR, large.copy(), q, "COSINE", 10)
    np.testing.assert_array_equal(got[1], want[1])
    assert unit_rows.cached_bytes() == 0
    exact_search(DataType.FLOAT_VECTOR, small, q, "COSINE", 10)
    assert unit_rows.cached_bytes() == 600 * DIM * 4
    # A second block that does not fit beside the first pushes it out.
    other = _read_only(_stored(DataType.FLOAT_VECTOR, 900, seed=3))
    exact_search(DataType.FLOAT_VECTOR, other, q, "COSINE", 10)
    assert unit_rows.cached_bytes() == 900 * DIM * 4


@pytest.mark.parametrize("metric", ["L2", "IP"])
@pytest.mark.parametrize("n", [5, 300, 5000])
def test_one_block_scan_matches_a_reference_ranking(metric: str, n: int) -> None:
    vectors = _stored(DataType.FLOAT_VECTOR, n, seed=6)
    q = _queries(2)
    d, ids = exact_search(DataType.FLOAT_VECTOR, vectors, q, metric, 10)
    q64, v64 = q.astype(np.float64), vectors.astype(np.float64)
    scores = ((q64[:, None, :] - v64[None]) ** 2).sum(-1) if metric == "L2" else q64 @ v64.T
    order = np.argsort(scores if metric == "L2" else -scores, axis=1, kind="stable")
    k = min(10, n)
    np.testing.assert_array_equal(ids[:, :k], order[:, :k])
    assert (ids[:, k:] == -1).all()


def test_best_first_and_missing_checks() -> None:
    d = np.array([[0.1, 0.2, 0.2, 0.5]], dtype=np.float32)
    ids = np.array([[3, 1, 2, 0]], dtype=np.int64)
    assert is_best_first("L2", d, ids) and not is_best_first("IP", d, ids)
    assert is_best_first("COSINE", d[:, ::-1], ids)
    assert not is_best_first("L2", d, np.array([[3, 1, 2, -1]]))
    assert not is_best_first("L2", np.array([[0.1, np.nan, 0.3, 0.4]], np.float32), ids)
    assert not has_missing(ids) and has_missing(np.array([[4, -1]]))
    wide = np.sort(np.random.default_rng(0).random((3, 100)).astype(np.float32), axis=1)
    wide_ids = np.tile(np.arange(100), (3, 1))
    assert is_best_first("L2", wide, wide_ids)
    wide[1, [10, 11]] = wide[1, [11, 10]]
    assert not is_best_first("L2", wide, wide_ids)
    wide_ids[2, 99] = -1
    assert has_missing(wide_ids)


def test_concurrent_readers_of_growing_views_get_their_own_rows() -> None:
    full = _stored(DataType.FLOAT_VECTOR, 4000, seed=7)
    q = _queries(1)
    sizes = [300, 4000, 900, 2500, 1200, 3300, 600, 4000]
    want = {n: exact_search(DataType.FLOAT_VECTOR, full[:n].copy(), q, "COSINE", 10) for n in sizes}

    def search(n: int) -> tuple[np.ndarray, np.ndarray]:
        return exact_search(DataType.FLOAT_VECTOR, full[:n], q, "COSINE", 10, immutable=True)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(5):
            unit_rows.clear()
            for n, got in zip(sizes, pool.map(search, sizes)):
                np.testing.assert_array_equal(got[1], want[n][1])
                np.testing.assert_array_equal(got[0], want[n][0])
