"""Range search on graph indexes whose walk width is below the limit.

``ef`` (HNSW) and ``search_list`` (DISKANN) bound a top-k walk, so a top-k search
refuses a width below k; a range search widens the walk itself, so, as in Milvus,
it accepts any width the index accepts and returns the rows of its range.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import IndexSpec, SearchRequest
from elanus.errors import ParameterError
from elanus.schema import CollectionSchema, DataType, FieldSchema

N, DIM = 1500, 16


def _engine_with_index(path: Path, index_type: str, build: dict[str, Any]) -> Engine:
    schema = CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": DIM}),
        )
    )
    e = Engine.open(str(path), background=False)
    e.create_collection(
        "default", "c", schema, indexes=[IndexSpec("vec", index_type, "vec_idx", "COSINE", build)]
    )
    rng = np.random.default_rng(7)
    e.insert("default", "c", {"id": list(range(N)), "vec": rng.normal(size=(N, DIM))}, N)
    e.flush("default", "c")
    return e


@pytest.mark.parametrize(
    ("index_type", "build", "width"),
    [("DISKANN", {}, "search_list"), ("HNSW", {"M": 16, "efConstruction": 64}, "ef")],
)
def test_range_search_accepts_walk_width_below_limit(
    tmp_path: Path, index_type: str, build: dict[str, Any], width: str
) -> None:
    with _engine_with_index(tmp_path, index_type, build) as e:
        q = np.random.default_rng(8).normal(size=(1, DIM)).astype(np.float32)
        full = e.search("default", "c", SearchRequest(q, "vec", limit=1000))
        d = np.asarray(full.distances)
        radius, range_filter = float(d[330]), float(d[30])
        params = {"params": {width: 30, "radius": radius, "range_filter": range_filter}}

        got = e.search("default", "c", SearchRequest(q, "vec", limit=300, search_params=params))

        hits = np.asarray(got.distances)
        assert 250 <= len(hits) <= 300
        assert np.all((hits > radius) & (hits <= range_filter + 1e-6))
        top_k = {"params": {width: 30}}
        with pytest.raises(ParameterError, match=rf"{width}\(30\) should be larger than k\(300\)"):
            e.search("default", "c", SearchRequest(q, "vec", limit=300, search_params=top_k))
