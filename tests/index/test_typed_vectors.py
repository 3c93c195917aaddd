"""FLOAT16 / BFLOAT16 / INT8 vectors: indexes keep them in their stored precision."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from vector_testdata import mask_with, recall_at, vector_field

from elanus.index import build_vector_index, exact_search, load_vector_index
from elanus.schema.types import DataType


def _stored(dtype: DataType, x: np.ndarray) -> np.ndarray:
    if dtype == DataType.FLOAT16_VECTOR:
        return x.astype(np.float16)
    if dtype == DataType.BFLOAT16_VECTOR:
        return x.astype(ml_dtypes.bfloat16).view(np.uint16)
    return np.clip(np.round(x * 8), -128, 127).astype(np.int8)


CASES = [
    (DataType.FLOAT16_VECTOR, "HNSW", "L2", {"M": 16, "efConstruction": 80}, {"ef": 64}, 0.95),
    (DataType.FLOAT16_VECTOR, "IVF_FLAT", "IP", {"nlist": 32}, {"nprobe": 16}, 0.95),
    (DataType.BFLOAT16_VECTOR, "HNSW", "COSINE", {"M": 16, "efConstruction": 80}, {"ef": 64}, 0.95),
    (DataType.BFLOAT16_VECTOR, "FLAT", "L2", {}, {}, 1.0),
    (DataType.BFLOAT16_VECTOR, "IVF_SQ8", "L2", {"nlist": 32}, {"nprobe": 16}, 0.9),
    (DataType.INT8_VECTOR, "HNSW", "L2", {"M": 16, "efConstruction": 80}, {"ef": 64}, 0.95),
    (DataType.FLOAT16_VECTOR, "SCANN", "L2", {"nlist": 32}, {"nprobe": 16, "reorder_k": 100}, 0.95),
]


@pytest.mark.parametrize(("dtype", "index_type", "metric", "build", "search", "floor"), CASES)
def test_typed_vector_index_against_exact(
    float_data, tmp_path, dtype, index_type, metric, build, search, floor
):
    x, q = float_data
    stored = _stored(dtype, x)
    queries = _stored(dtype, q)
    field = vector_field(dtype, x.shape[1])
    index = build_vector_index(field, index_type, metric, build, stored)
    d_exact, truth = exact_search(dtype, stored, queries, metric, 10)
    d, i = index.search(queries, 10, search)
    assert recall_at(i, truth) >= floor
    if index_type in ("HNSW", "FLAT", "IVF_FLAT"):
        # lossless storage: the distances are the exact ones of the stored values
        # (COSINE stores normalised vectors, rounded again to the stored precision)
        hit = i[:, 0] == truth[:, 0]
        tol = 5e-3 if metric == "COSINE" else 1e-4
        np.testing.assert_allclose(d[hit, 0], d_exact[hit, 0], rtol=tol, atol=1e-3)
    mask = mask_with(len(x), 0.01)
    _, truth_m = exact_search(dtype, stored, queries, metric, 10, allowed=mask)
    _, i_m = index.search(queries, 10, search, allowed=mask)
    assert recall_at(i_m, truth_m) >= floor - 0.05
    index.save(tmp_path / "t")
    assert (
        sum(f.stat().st_size for f in (tmp_path / "t").iterdir())
        < stored.nbytes * 1.2 + 4 * 24 * 2 * len(x) + 65536
    )
    d2, i2 = load_vector_index(tmp_path / "t").search(queries, 10, search)
    np.testing.assert_array_equal(i, i2)
