"""Filtered k-NN on a graph whose neighbourhood of the query is all masked out.

A nullable vector field zero-fills its null rows, so the index holds hundreds of
identical zero vectors, closer to a unit-norm query than any real row under L2.
The graph walk spends its candidates there, every one masked, and stops with a
handful of hits; the index must still return k hits while k rows pass.
"""

from __future__ import annotations

import numpy as np
import pytest

from elanus.index import build_vector_index, exact_search
from elanus.schema.field import FieldSchema
from elanus.schema.types import DataType

N, DIM, K = 3000, 64, 200


@pytest.mark.parametrize(
    ("index_type", "build", "search"),
    [
        ("HNSW", {"M": 16, "efConstruction": 100}, {"ef": K}),
        ("AUTOINDEX", {}, {}),
        ("DISKANN", {}, {"search_list": K}),
    ],
)
def test_walk_through_masked_cluster_returns_k_hits(index_type, build, search):
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (N, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    null = rng.random(N) < 0.2
    x[null] = 0.0
    allowed = ~null
    q = rng.uniform(-1, 1, (2, DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    field = FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": DIM})
    index = build_vector_index(field, index_type, "L2", build, x)

    d, ids = index.search(q, K, search, allowed)

    assert (ids >= 0).all()
    assert allowed[ids].all()
    want_d, _ = exact_search(DataType.FLOAT_VECTOR, x, q, "L2", K, allowed)
    # Every hit is a real row and no better row was missed.
    assert np.all(d[:, 0] >= want_d[:, 0] - 1e-4)
    assert len({int(i) for i in ids[0]}) == K
