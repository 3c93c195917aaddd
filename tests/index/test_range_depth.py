"""Range search whose range lies deep in the distance distribution.

The rows inside such a range sit hundreds of neighbours away from the query, past
where a graph walk reaches (an inner-product graph runs out of candidates first).
Every index must still return what the exact range search returns: exactly for
indexes that hold the full vectors, and with a recall floor for lossy codes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from elanus.index import build_vector_index, exact_range_search, exact_search
from elanus.index.metrics import larger_is_better, range_mask
from elanus.schema.field import FieldSchema
from elanus.schema.types import DataType

N, DIM, NQ = 3000, 32, 4
HNSW = {"M": 16, "efConstruction": 100}

# (id, index type, metric, build params, search params, floor on found / expected)
DENSE: list[tuple[str, str, str, dict[str, Any], dict[str, Any], float]] = [
    ("hnsw-ip", "HNSW", "IP", HNSW, {"ef": 64}, 1.0),
    ("hnsw-l2", "HNSW", "L2", HNSW, {"ef": 64}, 1.0),
    ("hnsw-cosine", "HNSW", "COSINE", HNSW, {"ef": 64}, 1.0),
    ("hnsw_sq8-ip", "HNSW_SQ", "IP", {**HNSW, "sq_type": "SQ8"}, {"ef": 64}, 0.9),
    ("diskann-ip", "DISKANN", "IP", {}, {"search_list": 64}, 1.0),
    ("flat-ip", "FLAT", "IP", {}, {}, 1.0),
    ("ivf_flat-ip-all-lists", "IVF_FLAT", "IP", {"nlist": 16}, {"nprobe": 16}, 1.0),
]


@pytest.fixture(scope="module")
def uniform() -> tuple[np.ndarray, np.ndarray]:
    # Non-negative uniform data: inner products crowd together, the hard case
    # for an inner-product graph.
    rng = np.random.default_rng(0)
    x = rng.random((N, DIM), dtype=np.float32)
    return x, x[:NQ].copy()


def _deep_range(dist: np.ndarray, metric: str) -> tuple[float, float]:
    """A range holding the neighbours ranked about N/2 .. N*2/3 of every query."""
    order = np.sort(dist, axis=1)
    if larger_is_better(metric):
        order = order[:, ::-1]
    outer = float(np.median(order[:, 2 * N // 3]))
    inner = float(np.median(order[:, N // 2]))
    return outer, inner


def _check(got: Any, want: Any, metric: str, radius: float, rf: float, floor: float) -> None:
    found = expected = 0
    for qi in range(NQ):
        d, ids = got.hits(qi)
        assert range_mask(metric, d, radius, rf).all()
        assert len(set(ids.tolist())) == len(ids)
        want_ids = set(want.hits(qi)[1].tolist())
        found += len(want_ids & set(ids.tolist()))
        expected += len(want_ids)
    assert expected > 100 * NQ
    assert found >= floor * expected, (found, expected)


@pytest.mark.parametrize("config", DENSE, ids=[c[0] for c in DENSE])
@pytest.mark.parametrize("limit", [None, 1000])
def test_deep_range_finds_every_exact_hit(uniform, config, limit):
    x, q = uniform
    _, index_type, metric, build, search, floor = config
    field = FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": DIM})
    index = build_vector_index(field, index_type, metric, build, x)
    dist, _ = exact_search(DataType.FLOAT_VECTOR, x, q, metric, N)
    radius, rf = _deep_range(dist, metric)
    params = {**search, "ef": 1000} if "ef" in search and limit else search
    got = index.range_search(q, radius, rf, params, limit=limit)
    want = exact_range_search(DataType.FLOAT_VECTOR, x, q, metric, radius, rf, limit=limit)
    _check(got, want, metric, radius, rf, floor)


def test_deep_range_respects_the_row_mask(uniform):
    x, q = uniform
    field = FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": DIM})
    index = build_vector_index(field, "HNSW", "IP", HNSW, x)
    allowed = np.zeros(N, dtype=bool)
    allowed[::2] = True
    dist, _ = exact_search(DataType.FLOAT_VECTOR, x, q, "IP", N)
    radius, rf = _deep_range(dist, "IP")
    got = index.range_search(q, radius, rf, {"ef": 64}, allowed)
    want = exact_range_search(DataType.FLOAT_VECTOR, x, q, "IP", radius, rf, allowed=allowed)
    _check(got, want, "IP", radius, rf, 1.0)
    assert allowed[got.ids].all()


@pytest.mark.parametrize(
    ("index_type", "metric", "build", "search"),
    [
        ("BIN_FLAT", "HAMMING", {}, {}),
        ("BIN_FLAT", "JACCARD", {}, {}),
        ("BIN_IVF_FLAT", "HAMMING", {"nlist": 8}, {"nprobe": 8}),
        ("BIN_IVF_FLAT", "JACCARD", {"nlist": 8}, {"nprobe": 8}),
    ],
)
def test_deep_binary_range_finds_every_exact_hit(index_type, metric, build, search):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (N, 8), dtype=np.uint8)
    q = x[:NQ].copy()
    field = FieldSchema("vec", DataType.BINARY_VECTOR, params={"dim": 64})
    index = build_vector_index(field, index_type, metric, build, x)
    dist, _ = exact_search(DataType.BINARY_VECTOR, x, q, metric, N)
    radius, rf = _deep_range(dist, metric)
    got = index.range_search(q, radius, rf, search)
    want = exact_range_search(DataType.BINARY_VECTOR, x, q, metric, radius, rf)
    _check(got, want, metric, radius, rf, 1.0)
