"""pymilvus's AsyncMilvusClient against a real ``elanus serve`` process."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from conftest import ServerProcess
from pymilvus import AnnSearchRequest, AsyncMilvusClient, DataType, MilvusException, RRFRanker

DIM = 8
RNG = np.random.default_rng(5)
DENSE = RNG.random((60, DIM), dtype=np.float32)
SPARSE = [{int(i % 13): 1.0 + i % 5, int(20 + i % 7): 0.5} for i in range(60)]


async def _scenario(uri: str) -> dict[str, Any]:
    client = AsyncMilvusClient(uri=uri)
    try:
        schema = AsyncMilvusClient.create_schema(auto_id=False, enable_dynamic_field=True)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("tag", DataType.VARCHAR, max_length=16)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=DIM)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        index = AsyncMilvusClient.prepare_index_params()
        index.add_index("dense", index_type="FLAT", metric_type="L2")
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        await client.create_collection(
            "async_items", schema=schema, index_params=index, consistency_level="Strong"
        )
        rows = [
            {
                "id": i,
                "tag": ["a", "b", "c"][i % 3],
                "dense": DENSE[i].tolist(),
                "sparse": SPARSE[i],
                "extra": i * 10,
            }
            for i in range(60)
        ]
        inserted = await client.insert("async_items", rows)
        # Concurrent reads on one channel: the server answers them in parallel.
        searches = await asyncio.gather(
            *(
                client.search(
                    "async_items",
                    [DENSE[i].tolist()],
                    anns_field="dense",
                    limit=3,
                    output_fields=["tag", "extra"],
                )
                for i in range(5)
            )
        )
        queried = await client.query("async_items", filter="tag == 'b'", output_fields=["extra"])
        got = await client.get("async_items", ids=[1, 2])
        hybrid = await client.hybrid_search(
            "async_items",
            [
                AnnSearchRequest([DENSE[7].tolist()], "dense", {"metric_type": "L2"}, limit=5),
                AnnSearchRequest([SPARSE[7]], "sparse", {"metric_type": "IP"}, limit=5),
            ],
            RRFRanker(),
            limit=3,
            output_fields=["tag"],
        )
        deleted = await client.delete("async_items", filter="id >= 50")
        upserted = await client.upsert(
            "async_items",
            [{"id": 0, "tag": "z", "dense": DENSE[0].tolist(), "sparse": SPARSE[0]}],
        )
        count = await client.query("async_items", filter="", output_fields=["count(*)"])
        after = await client.get("async_items", ids=[0], output_fields=["tag"])
        stats = await client.get_collection_stats("async_items")
        described = await client.describe_collection("async_items")
        try:
            await client.describe_collection("async_missing")
            missing_code = 0
        except MilvusException as exc:
            missing_code = exc.code
        await client.drop_collection("async_items")
        return {
            "inserted": inserted,
            "searches": searches,
            "queried": queried,
            "got": got,
            "hybrid": hybrid,
            "deleted": deleted,
            "upserted": upserted,
            "count": count,
            "after": after,
            "stats": stats,
            "described": described,
            "missing_code": missing_code,
        }
    finally:
        await client.close()


def test_async_client_round_trip(server: ServerProcess) -> None:
    out = asyncio.run(_scenario(server.uri))
    assert out["inserted"]["insert_count"] == 60
    for i, result in enumerate(out["searches"]):
        assert result[0][0]["id"] == i
        assert result[0][0]["entity"]["extra"] == i * 10
    assert sorted(r["id"] for r in out["queried"]) == list(range(1, 60, 3))
    assert [r["id"] for r in out["got"]] == [1, 2]
    assert out["hybrid"][0][0]["id"] == 7
    assert out["hybrid"][0][0]["entity"]["tag"] == "b"
    assert out["deleted"]["delete_count"] == 10
    assert out["upserted"]["upsert_count"] == 1
    assert out["count"][0]["count(*)"] == 50
    assert out["after"][0]["tag"] == "z"
    assert out["stats"]["row_count"] == 61  # rows written: deletes count until compaction
    assert [f["name"] for f in out["described"]["fields"]] == ["id", "tag", "dense", "sparse"]
    assert out["missing_code"] == 100
