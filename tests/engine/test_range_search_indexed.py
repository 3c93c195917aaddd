"""Range search through the engine gives the same hits before and after the index build.

Before the build every segment is scanned exactly; after it the index answers. The
ranges sit deep in the distance distribution (a thousand neighbours out), where a
graph walk alone falls short, so this pins that index-backed range search finds
every row the exact scan finds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import IndexSpec, SearchRequest, SearchResults
from elanus.schema import CollectionSchema, DataType, FieldSchema

N, DIM, NQ = 3000, 32, 3


def _schema(dtype: DataType, dim: int) -> CollectionSchema:
    return CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", dtype, params={"dim": dim}),
        )
    )


def _hits(res: SearchResults) -> list[set[int]]:
    ids = list(res.ids)
    off = res.offsets
    return [set(ids[int(off[i]) : int(off[i + 1])]) for i in range(res.nq)]


def _range(dist: np.ndarray, larger_is_better: bool) -> tuple[float, float]:
    """radius / range_filter framing the first query's neighbours ranked N/2 .. 2N/3.

    Each bound sits in the widest gap near its rank, so float rounding that
    differs between the exact scan and the index cannot move a row across it.
    """
    order = np.sort(dist[0])
    if larger_is_better:
        order = order[::-1]

    def gap_near(rank: int) -> float:
        window = order[rank - 20 : rank + 21]
        j = int(np.argmax(np.abs(np.diff(window))))
        return float((window[j] + window[j + 1]) / 2)

    return gap_near(2 * N // 3), gap_near(N // 2)


CASES: list[tuple[str, str, str, dict[str, Any], dict[str, Any]]] = [
    ("HNSW", "IP", "float", {"M": 16, "efConstruction": 64}, {"ef": 1000}),
    ("HNSW", "L2", "float", {"M": 16, "efConstruction": 64}, {"ef": 1000}),
    ("HNSW", "COSINE", "float", {"M": 16, "efConstruction": 64}, {"ef": 1000}),
    ("IVF_FLAT", "IP", "float", {"nlist": 8}, {"nprobe": 8}),
    ("BIN_IVF_FLAT", "HAMMING", "binary", {"nlist": 8}, {"nprobe": 8}),
    ("BIN_FLAT", "JACCARD", "binary", {}, {}),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_same_range_hits_before_and_after_the_index_build(tmp_path: Path, case: Any) -> None:
    index_type, metric, kind, build, search = case
    rng = np.random.default_rng(3)
    if kind == "binary":
        schema = _schema(DataType.BINARY_VECTOR, 64)
        vectors: np.ndarray = rng.integers(0, 256, (N, 8), dtype=np.uint8)
        bits = np.unpackbits(vectors, axis=1).astype(np.float32)
        q_bits = bits[:NQ]
        if metric == "HAMMING":
            dist = (q_bits[:, None, :] != bits[None, :, :]).sum(axis=2).astype(np.float64)
        else:
            inter = q_bits @ bits.T
            union = q_bits.sum(1)[:, None] + bits.sum(1)[None, :] - inter
            dist = 1.0 - inter / np.maximum(union, 1)
    else:
        schema = _schema(DataType.FLOAT_VECTOR, DIM)
        vectors = rng.random((N, DIM), dtype=np.float32)
        q = vectors[:NQ]
        if metric == "L2":
            dist = ((q[:, None, :] - vectors[None, :, :]) ** 2).sum(axis=2)
        elif metric == "IP":
            dist = q @ vectors.T
        else:
            unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
            dist = unit[:NQ] @ unit.T
    radius, range_filter = _range(dist, metric in ("IP", "COSINE"))
    request = SearchRequest(
        vectors[:NQ],
        "vec",
        limit=1000,
        search_params={
            "metric_type": metric,
            "params": {**search, "radius": radius, "range_filter": range_filter},
        },
    )
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", schema)
        e.insert("default", "c", {"id": np.arange(N), "vec": vectors}, N)
        e.flush("default", "c")
        before = _hits(e.search("default", "c", request))
        spec = IndexSpec("vec", index_type, "vec_idx", metric, build)
        e.create_index("default", "c", spec)
        info = e.describe_index("default", "c", "vec_idx")
        assert (info.indexed_rows, info.state) == (N, "Finished")
        after = _hits(e.search("default", "c", request))
    assert len(before[0]) > 50
    assert [len(h) for h in after] == [len(h) for h in before]
    assert after == before
