"""``query_mode=large_topk`` through real pymilvus over gRPC: the property set at
create and read back, searches and queries past 16384, Milvus's refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from pymilvus import AnnSearchRequest, DataType, MilvusClient, MilvusException, RRFRanker

ROWS = 16_600


def _create(client: MilvusClient, name: str, properties: dict[str, str] | None) -> None:
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=4)
    schema.add_field("w", DataType.FLOAT_VECTOR, dim=4)
    index = client.prepare_index_params()
    index.add_index("v", index_type="FLAT", metric_type="L2")
    index.add_index("w", index_type="FLAT", metric_type="L2")
    client.create_collection(
        name, schema=schema, index_params=index, properties=properties, consistency_level="Strong"
    )
    rng = np.random.default_rng(3)
    v = rng.random((ROWS, 4), dtype=np.float32).tolist()
    w = rng.random((ROWS, 4), dtype=np.float32).tolist()
    client.insert(name, [{"id": i, "v": v[i], "w": w[i]} for i in range(ROWS)])


@pytest.fixture(scope="module")
def milvus(server: Any) -> Iterator[MilvusClient]:
    client = MilvusClient(uri=server.uri)
    _create(client, "large", {"query_mode": "large_topk"})
    _create(client, "plain", None)
    yield client
    client.close()


def test_property_reads_back(milvus: MilvusClient) -> None:
    assert milvus.describe_collection("large")["properties"]["query_mode"] == "large_topk"


def test_search_query_and_hybrid_past_16384(milvus: MilvusClient) -> None:
    queries = [[0.5, 0.5, 0.5, 0.5], [0.1, 0.2, 0.3, 0.4]]
    hits = milvus.search("large", queries, anns_field="v", limit=16500)
    assert [len(h) for h in hits] == [16500, 16500]
    distances = [h["distance"] for h in hits[0]]
    assert distances == sorted(distances)
    rows = milvus.query("large", filter="", output_fields=["id"], limit=16385)
    assert len(rows) == 16385
    legs = [AnnSearchRequest(queries, field, {}, 16400) for field in ("v", "w")]
    hybrid = milvus.hybrid_search("large", legs, RRFRanker(), limit=16400)
    assert [len(h) for h in hybrid] == [16400, 16400]


def test_plain_collection_refuses_past_16384(milvus: MilvusClient) -> None:
    queries = [[0.5, 0.5, 0.5, 0.5]]
    with pytest.raises(MilvusException) as info:
        milvus.search("plain", queries, anns_field="v", limit=16385)
    assert "topk [16385] is invalid, it should be in range [1, 16384]" in info.value.message
    legs = [AnnSearchRequest(queries, field, {}, 10) for field in ("v", "w")]
    with pytest.raises(MilvusException) as info:
        milvus.hybrid_search("plain", legs, RRFRanker(), limit=16385)
    assert (
        "invalid max query result window, (offset+limit) should be in range [1, 16384], "
        "but got 16385"
    ) in info.value.message


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"query_mode": "Large_TopK"}, 'invalid query_mode value "Large_TopK"'),
        ({"QUERY_MODE": "large_topk"}, 'invalid property key "QUERY_MODE", did you mean'),
    ],
)
def test_bad_property_over_grpc(
    milvus: MilvusClient, properties: dict[str, str], message: str
) -> None:
    schema = milvus.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=4)
    with pytest.raises(MilvusException) as info:
        milvus.create_collection("bad", schema=schema, properties=properties)
    assert message in info.value.message
    assert info.value.code == 65535


def test_alter_with_a_vector_index_is_refused(milvus: MilvusClient) -> None:
    with pytest.raises(MilvusException) as info:
        milvus.alter_collection_properties("plain", properties={"query_mode": "large_topk"})
    assert info.value.code == 702
    assert "can not alter query_mode if the collection already has a vector index" in (
        info.value.message
    )
