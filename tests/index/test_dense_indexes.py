"""Every dense index type against exact search on the same clustered data.

Recall floors are per index (recall@10 on 5k x 32 clustered vectors, 40 queries);
they sit a little under what each index measures here, so a regression in
parameters or plumbing shows while FAISS's own randomness does not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from vector_testdata import mask_with, recall_at, vector_field

from elanus.index import (
    VectorIndex,
    build_vector_index,
    exact_range_search,
    exact_search,
    load_vector_index,
)
from elanus.index.metrics import range_mask
from elanus.schema.types import DataType

FIELD = vector_field(DataType.FLOAT_VECTOR, 32)

# (id, index type, metric, build params, search params, recall@10 floor)
CONFIGS: list[tuple[str, str, str, dict[str, Any], dict[str, Any], float]] = [
    ("flat-l2", "FLAT", "L2", {}, {}, 1.0),
    ("ivf_flat-l2", "IVF_FLAT", "L2", {"nlist": 64}, {"nprobe": 16}, 0.97),
    ("ivf_sq8-ip", "IVF_SQ8", "IP", {"nlist": 64}, {"nprobe": 16}, 0.93),
    ("ivf_pq-l2", "IVF_PQ", "L2", {"nlist": 32, "m": 16, "nbits": 6}, {"nprobe": 16}, 0.6),
    (
        "ivf_rabitq-cosine",
        "IVF_RABITQ",
        "COSINE",
        {"nlist": 32, "refine": True, "refine_type": "FP16"},
        {"nprobe": 16, "refine_k": 4},
        0.8,
    ),
    ("hnsw-l2", "HNSW", "L2", {"M": 16, "efConstruction": 100}, {"ef": 64}, 0.95),
    ("hnsw-cosine", "HNSW", "COSINE", {"M": 16, "efConstruction": 100}, {"ef": 64}, 0.95),
    (
        "hnsw_sq8-ip",
        "HNSW_SQ",
        "IP",
        {"M": 16, "efConstruction": 100, "sq_type": "SQ8"},
        {"ef": 64},
        0.92,
    ),
    (
        "hnsw_sq4u_refine-l2",
        "HNSW_SQ",
        "L2",
        {"M": 16, "efConstruction": 100, "sq_type": "SQ4U", "refine": True, "refine_type": "FP32"},
        {"ef": 64, "refine_k": 4},
        0.95,
    ),
    (
        "hnsw_pq_refine-l2",
        "HNSW_PQ",
        "L2",
        {"M": 16, "efConstruction": 100, "m": 16, "nbits": 6, "refine": True, "refine_type": "SQ8"},
        {"ef": 64, "refine_k": 8},
        0.93,
    ),
    (
        "hnsw_prq_refine-l2",
        "HNSW_PRQ",
        "L2",
        {
            "M": 16,
            "efConstruction": 100,
            "m": 4,
            "nrq": 2,
            "nbits": 4,
            "refine": True,
            "refine_type": "FP16",
        },
        {"ef": 64, "refine_k": 10},
        0.93,
    ),
    ("scann-l2", "SCANN", "L2", {"nlist": 32}, {"nprobe": 16, "reorder_k": 100}, 0.95),
    (
        "diskann-l2",
        "DISKANN",
        "L2",
        {"max_degree": 32, "search_list_size": 64},
        {"search_list": 64},
        0.95,
    ),
    (
        "diskann-ip",
        "DISKANN",
        "IP",
        {"max_degree": 32, "search_list_size": 64},
        {"search_list": 64},
        0.95,
    ),
    ("autoindex-cosine", "AUTOINDEX", "COSINE", {}, {}, 0.95),
]
IDS = [c[0] for c in CONFIGS]
_BUILT: dict[str, VectorIndex] = {}


def _index(config: tuple, data: np.ndarray) -> VectorIndex:
    key, index_type, metric, build, _, _ = config
    if key not in _BUILT:
        _BUILT[key] = build_vector_index(FIELD, index_type, metric, build, data)
    return _BUILT[key]


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_recall_against_exact(float_data, config):
    x, q = float_data
    _, index_type, metric, _, search, floor = config
    index = _index(config, x)
    assert index.ntotal == len(x)
    assert index.metric_type == metric
    assert index_type == "AUTOINDEX" or index.index_type == index_type
    _, truth = exact_search(DataType.FLOAT_VECTOR, x, q, metric, 10)
    d, i = index.search(q, 10, search)
    assert d.shape == (len(q), 10) and i.dtype == np.int64
    assert recall_at(i, truth) >= floor
    order = -d if metric in ("IP", "COSINE") else d
    assert np.all(np.diff(order, axis=1) >= -1e-5), "hits must come best first"


@pytest.mark.parametrize("fraction", [1.0, 0.5, 0.1, 0.01, 0.001])
@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_filtered_recall_at_every_selectivity(float_data, config, fraction):
    x, q = float_data
    _, _, metric, _, search, floor = config
    index = _index(config, x)
    mask = mask_with(len(x), fraction)
    _, truth = exact_search(DataType.FLOAT_VECTOR, x, q, metric, 10, allowed=mask)
    _, i = index.search(q, 10, search, allowed=mask)
    assert mask[i[i >= 0]].all(), "a masked-out row was returned"
    assert recall_at(i, truth) >= floor - 0.05
    # nothing is lost to post-filtering: every query gets min(k, survivors) hits
    assert np.all((i >= 0).sum(axis=1) == min(10, int(mask.sum())))


def test_single_query_matches_batch_row(float_data):
    x, q = float_data
    index = _index(CONFIGS[5], x)
    d1, i1 = index.search(q[3], 10, {"ef": 64})
    d, i = index.search(q, 10, {"ef": 64})
    assert i1.shape == (1, 10)
    np.testing.assert_array_equal(i1[0], i[3])


@pytest.mark.parametrize(
    "config",
    [
        c
        for c in CONFIGS
        if c[0] in ("flat-l2", "ivf_flat-l2", "hnsw-cosine", "hnsw_sq4u_refine-l2", "diskann-ip")
    ],
    ids=lambda c: c[0],
)
def test_range_search_against_exact(float_data, config):
    x, q = float_data
    _, _, metric, _, search, floor = config
    index = _index(config, x)
    qs = q[:8]
    dists, _ = exact_search(DataType.FLOAT_VECTOR, x, qs, metric, 40)
    radius = float(np.median(dists[:, 30]))
    range_filter = float(np.median(dists[:, 2]))
    got = index.range_search(qs, radius, range_filter, search)
    want = exact_range_search(DataType.FLOAT_VECTOR, x, qs, metric, radius, range_filter)
    found, expected = 0, 0
    for qi in range(len(qs)):
        d, ids = got.hits(qi)
        assert range_mask(metric, d, radius, range_filter).all()
        _, want_ids = want.hits(qi)
        found += len(set(ids.tolist()) & set(want_ids.tolist()))
        expected += len(want_ids)
    assert expected > 0
    assert found / expected >= floor - 0.05


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_save_and_load_answer_identically(float_data, config, mmap, tmp_path):
    x, q = float_data
    _, _, _, _, search, _ = config
    index = _index(config, x)
    mask = mask_with(len(x), 0.3)
    d0, i0 = index.search(q, 10, search, allowed=mask)
    index.save(tmp_path / "idx")
    loaded = load_vector_index(tmp_path / "idx", mmap=mmap)
    assert (loaded.index_type, loaded.metric_type, loaded.ntotal) == (
        index.index_type,
        index.metric_type,
        index.ntotal,
    )
    assert loaded.params == index.params
    d1, i1 = loaded.search(q, 10, search, allowed=mask)
    np.testing.assert_array_equal(i0, i1)
    np.testing.assert_allclose(d0, d1, rtol=1e-6)


def test_diskann_keeps_memory_below_the_raw_vectors():
    from vector_testdata import clustered

    x, q = clustered(2000, 128, 10, seed=11)
    field = vector_field(DataType.FLOAT_VECTOR, 128)
    index = build_vector_index(
        field, "DISKANN", "L2", {"max_degree": 32, "search_list_size": 48}, x
    )
    assert index.nbytes < x.nbytes
    _, truth = exact_search(DataType.FLOAT_VECTOR, x, q, "L2", 10)
    _, i = index.search(q, 10, {"search_list": 64})
    assert recall_at(i, truth) >= 0.9
