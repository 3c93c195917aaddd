"""Rerank functions on search (boost, FunctionScore, decay, model) and strict grouping
through pymilvus over gRPC against ``elanus serve``, worked out by hand.

Row ``r`` (primary key ``r``) holds the vector ``(r + 1, 0)``; with L2 from the
origin rows rank 0, 1, 2, ... at distance ``(r + 1) ** 2``.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from pymilvus import DataType, Function, FunctionScore, FunctionType, MilvusClient, MilvusException

COLORS = ["a", "a", "b", "a", "c", "b", "c", "d"]
AGES = [30, 10, 50, 20, 70, 0, 40, 60]


@pytest.fixture(scope="module")
def rerank_client(client: MilvusClient) -> MilvusClient:
    s = client.create_schema()
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    s.add_field("color", DataType.VARCHAR, max_length=8)
    s.add_field("age", DataType.INT64)
    ip = client.prepare_index_params()
    ip.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection("rerank", schema=s, index_params=ip, consistency_level="Strong")
    rows = [
        {"id": r, "vec": [float(r + 1), 0.0], "color": COLORS[r], "age": AGES[r]} for r in range(8)
    ]
    client.insert("rerank", rows[:3])
    client.flush("rerank")
    client.insert("rerank", rows[3:])
    return client


def rerank(params: dict[str, Any], fields: list[str] | None = None) -> Function:
    return Function(
        name="rank",
        function_type=FunctionType.RERANK,
        input_field_names=fields or [],
        params=params,
    )


def search(c: MilvusClient, ranker: Any, **kw: Any) -> tuple[list[int], list[float]]:
    hits = c.search("rerank", data=[[0.0, 0.0]], ranker=ranker, **kw)[0]
    return [h["id"] for h in hits], [h["distance"] for h in hits]


def test_boost_over_grpc(rerank_client: MilvusClient) -> None:
    ranker = rerank({"reranker": "boost", "filter": 'color == "c"', "weight": 0.1})
    ids, scores = search(rerank_client, ranker, limit=3)
    assert ids == [0, 4, 1]
    assert scores == pytest.approx([1.0, 2.5, 4.0], rel=1e-6)


def test_function_score_over_grpc(rerank_client: MilvusClient) -> None:
    ranker = FunctionScore(
        [
            rerank({"reranker": "boost", "filter": 'color == "a"', "weight": 2}),
            rerank({"reranker": "boost", "filter": "age < 25", "weight": 3}),
        ],
        params={"boost_mode": "sum", "function_mode": "sum"},
    )
    # row0 1+2, row1 4+5, row2 9, row3 16+5: window after one skipped.
    ids, scores = search(rerank_client, ranker, limit=3, offset=1)
    assert ids == [1, 2, 3]
    assert scores == pytest.approx([9.0, 9.0, 21.0], rel=1e-6)


def test_decay_over_grpc(rerank_client: MilvusClient) -> None:
    ranker = rerank(
        {"reranker": "decay", "function": "linear", "origin": 0, "scale": 40, "decay": 0.5},
        ["age"],
    )
    ids, scores = search(rerank_client, ranker, limit=4)

    def score(r: int) -> float:
        return (1 - 2 * math.atan((r + 1) ** 2) / math.pi) * max(0.5, 1 - AGES[r] * 0.5 / 40)

    want = sorted(range(4), key=lambda r: -score(r))
    assert ids == want
    assert scores == pytest.approx([score(r) for r in want], rel=1e-4)


def test_model_rerank_needs_network_over_grpc(rerank_client: MilvusClient) -> None:
    ranker = rerank(
        {"reranker": "model", "provider": "tei", "queries": ["x"], "endpoint": "http://x"},
        ["color"],
    )
    with pytest.raises(MilvusException, match="requires network access"):
        search(rerank_client, ranker, limit=3)


def test_strict_group_size_over_grpc(client: MilvusClient) -> None:
    s = client.create_schema()
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    s.add_field("color", DataType.VARCHAR, max_length=8)
    ip = client.prepare_index_params()
    ip.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection("groups", schema=s, index_params=ip, consistency_level="Strong")
    colors = ["a"] + ["b"] * 18 + ["a"]
    client.insert(
        "groups", [{"id": i, "vec": [float(i + 1), 0.0], "color": k} for i, k in enumerate(colors)]
    )
    kw: dict[str, Any] = {"limit": 1, "group_by_field": "color", "group_size": 2}
    loose = client.search("groups", data=[[0.0, 0.0]], **kw)[0]
    strict = client.search("groups", data=[[0.0, 0.0]], strict_group_size=True, **kw)[0]
    assert [h["id"] for h in loose] == [0]
    assert [h["id"] for h in strict] == [0, 19]
