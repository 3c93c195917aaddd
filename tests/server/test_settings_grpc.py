"""Collection, database, load and read settings over gRPC: each changes what it
names or is refused as Milvus refuses it (pymilvus against ``elanus serve``)."""

from __future__ import annotations

import time
from typing import Any

import pytest


def _wait_compacted(client: Any, name: str) -> None:
    job = client.compact(name)
    for _ in range(200):
        if str(client.get_compaction_state(job)) == "Completed":
            return
        time.sleep(0.05)
    raise AssertionError("compaction did not complete")


def test_expired_rows_vanish_from_every_read_and_compaction_drops_them(client: Any) -> None:
    name = "ttl_reads"
    client.create_collection(name, dimension=2, properties={"collection.ttl.seconds": 1})
    assert client.describe_collection(name)["properties"]["collection.ttl.seconds"] == "1"
    client.insert(name, [{"id": i, "vector": [float(i), 1.0]} for i in range(10)])
    client.flush(name)
    assert client.query(name, output_fields=["count(*)"])[0]["count(*)"] == 10
    time.sleep(1.5)  # past the TTL; no later write moves the Bounded read timestamp
    for level in ("Bounded", "Eventually", "Session", "Strong"):
        counted = client.query(name, output_fields=["count(*)"], consistency_level=level)
        assert counted[0]["count(*)"] == 0, level
        hits = client.search(name, [[1.0, 1.0]], limit=5, consistency_level=level)
        assert len(hits[0]) == 0, level
    assert client.get(name, ids=[1, 2]) == []
    assert client.query(name, filter="id >= 0", limit=5) == []
    iterator = client.query_iterator(name, batch_size=3, filter="id >= 0")
    assert iterator.next() == []
    iterator.close()
    client.insert(name, [{"id": 100, "vector": [1.0, 1.0]}])
    assert [r["id"] for r in client.query(name, filter="id >= 0", limit=5)] == [100]
    # Raising the TTL shows the old rows again until compaction drops them.
    client.alter_collection_properties(name, {"collection.ttl.seconds": 1000})
    assert client.query(name, output_fields=["count(*)"])[0]["count(*)"] == 11
    client.alter_collection_properties(name, {"collection.ttl.seconds": 1})
    _wait_compacted(client, name)
    assert client.get_collection_stats(name)["row_count"] == 1
    client.alter_collection_properties(name, {"collection.ttl.seconds": 1000})
    assert [r["id"] for r in client.query(name, filter="id >= 0", limit=20)] == [100]
    client.drop_collection(name)


def test_a_ttl_out_of_range_is_refused_as_milvus_words_it(client: Any) -> None:
    from pymilvus import MilvusException

    huge = 9223372036854775800
    with pytest.raises(MilvusException) as info:
        client.create_collection(
            "ttl_bad", dimension=2, properties={"collection.ttl.seconds": huge}
        )
    assert info.value.code == 1100
    assert (
        f"collection TTL is out of range, expect [-1, 3155760000], got {huge}: invalid parameter"
        in info.value.message
    )
    assert not client.has_collection("ttl_bad")
