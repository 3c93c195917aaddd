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


def test_load_fields_are_checked_and_fields_left_out_still_answered(client: Any) -> None:
    from pymilvus import DataType, MilvusException

    name = "load_fields"
    schema = client.create_schema(enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=2)
    schema.add_field("kept", DataType.INT64)
    schema.add_field("left", DataType.VARCHAR, max_length=8)
    index = client.prepare_index_params()
    index.add_index("vector", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index)
    client.insert(
        name,
        [{"id": i, "vector": [1.0, 0.0], "kept": i, "left": f"s{i}", "x": i} for i in range(5)],
    )
    client.flush(name)
    client.release_collection(name)
    with pytest.raises(MilvusException) as info:
        client.load_collection(name, load_fields=["vector", "kept"])
    assert "load field list [vector kept] does not contain primary key field id" in (
        info.value.message
    )
    with pytest.raises(MilvusException, match=r"fieldName\(nope\) not found"):
        client.load_collection(name, load_fields=["id", "vector", "nope"])
    assert str(client.get_load_state(name)["state"]) == "NotLoad"
    client.load_collection(name, load_fields=["id", "vector", "kept"], skip_load_dynamic_field=True)
    rows = client.query(name, filter='left == "s2" or x == 3', output_fields=["left", "x"])
    assert sorted((r["id"], r["left"], r["x"]) for r in rows) == [(2, "s2", 2), (3, "s3", 3)]
    client.drop_collection(name)


def test_more_replicas_than_one_process_serves_are_refused(client: Any) -> None:
    from pymilvus import MilvusException

    client.create_collection("replicas", dimension=2)
    client.release_collection("replicas")
    with pytest.raises(MilvusException) as info:
        client.load_collection("replicas", replica_number=3)
    assert info.value.code == 65535
    assert "when load 3 replica count: service resource insufficient" in info.value.message
    assert str(client.get_load_state("replicas")["state"]) == "NotLoad"
    client.load_collection("replicas", replica_number=1)
    assert str(client.get_load_state("replicas")["state"]) == "Loaded"
    client.drop_collection("replicas")


def test_an_isolated_search_must_pin_one_partition_key_value(client: Any) -> None:
    from pymilvus import AnnSearchRequest, DataType, MilvusException, RRFRanker

    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=2)
    schema.add_field("tenant", DataType.VARCHAR, max_length=8, is_partition_key=True)
    index = client.prepare_index_params()
    index.add_index("vector", index_type="FLAT", metric_type="L2")
    client.create_collection(
        "isolated", schema=schema, index_params=index, properties={"partitionkey.isolation": True}
    )
    client.insert(
        "isolated",
        [{"id": i, "vector": [1.0, float(i)], "tenant": "ab"[i % 2]} for i in range(6)],
    )
    hits = client.search("isolated", [[1.0, 0.0]], filter='tenant == "a"', limit=10)
    assert sorted(h["id"] for h in hits[0]) == [0, 2, 4]
    for expression, wording in [
        ("", "partition key not found in expr"),
        ('tenant in ["a", "b"]', "partition key isolation does not support IN"),
    ]:
        with pytest.raises(MilvusException, match=wording):
            client.search("isolated", [[1.0, 0.0]], filter=expression, limit=10)
        legs = [AnnSearchRequest([[1.0, 0.0]], "vector", {}, 5, expr=expression)] * 2
        with pytest.raises(MilvusException, match=wording):
            client.hybrid_search("isolated", legs, RRFRanker(), limit=5)
    with pytest.raises(MilvusException) as info:
        client.alter_collection_properties("isolated", {"partitionkey.isolation": False})
    assert info.value.code == 702
    client.drop_collection("isolated")
    client.create_collection("not_isolated", dimension=2)
    with pytest.raises(MilvusException) as info:
        client.alter_collection_properties("not_isolated", {"partitionkey.isolation": True})
    assert info.value.code == 1100
    assert "partition key isolation mode is enabled but no partition key field is set" in (
        info.value.message
    )
    client.drop_collection("not_isolated")


def test_a_databases_replica_number_is_the_default_for_its_loads(
    server: Any, client: Any
) -> None:
    from pymilvus import MilvusClient, MilvusException

    client.create_database("replicated", properties={"database.replica.number": 1})
    scoped = MilvusClient(uri=server.uri, db_name="replicated")
    try:
        scoped.create_collection("c", dimension=2)  # loads with the database's count, 1
        assert str(scoped.get_load_state("c")["state"]) == "Loaded"
        scoped.release_collection("c")
        client.alter_database_properties("replicated", {"database.replica.number": "2"})
        with pytest.raises(MilvusException) as info:
            scoped.load_collection("c")
        assert info.value.code == 65535
        assert "when load 2 replica count: service resource insufficient" in info.value.message
        assert str(scoped.get_load_state("c")["state"]) == "NotLoad"
        scoped.load_collection("c", replica_number=1)
        assert str(scoped.get_load_state("c")["state"]) == "Loaded"
        with pytest.raises(MilvusException) as info:
            client.alter_database_properties("replicated", {"database.replica.number": "two"})
        assert info.value.code == 1100
        assert "invalid database property: [key=database.replica.number] [value=two]" in (
            info.value.message
        )
        scoped.drop_collection("c")
    finally:
        scoped.close()
    client.drop_database("replicated")


def test_database_limits_and_deny_flags_hold(server: Any, client: Any) -> None:
    from pymilvus import MilvusClient, MilvusException

    client.create_database("limited", properties={"database.max.collections": 1})
    scoped = MilvusClient(uri=server.uri, db_name="limited")
    try:
        scoped.create_collection("first", dimension=2)
        with pytest.raises(MilvusException) as info:
            scoped.create_collection("second", dimension=2)
        assert info.value.code == 102
        assert "exceeded the limit number of collections[dbName=limited][limit=1]" in (
            info.value.message
        )
        scoped.insert("first", [{"id": 1, "vector": [1.0, 0.0]}])
        client.alter_database_properties("limited", {"database.force.deny.writing": True})
        with pytest.raises(MilvusException) as info:
            scoped.insert("first", [{"id": 2, "vector": [1.0, 0.0]}])
        assert info.value.code == 9
        assert "force deny writing in database properties" in info.value.message
        with pytest.raises(MilvusException, match="force deny writing"):
            scoped.delete("first", ids=[1])
        assert scoped.get("first", ids=[1])[0]["id"] == 1
        client.alter_database_properties(
            "limited",
            {"database.force.deny.writing": False, "database.force.deny.reading": True},
        )
        scoped.upsert("first", [{"id": 1, "vector": [0.0, 1.0]}])
        for read in (
            lambda: scoped.query("first", filter="id >= 0"),
            lambda: scoped.search("first", [[1.0, 0.0]], limit=2),
        ):
            with pytest.raises(MilvusException) as info:
                read()
            assert info.value.code == 9
            assert "force deny reading in database properties" in info.value.message
        client.drop_database_properties("limited", ["database.force.deny.reading"])
        assert scoped.query("first", output_fields=["count(*)"])[0]["count(*)"] == 1
        scoped.drop_collection("first")
    finally:
        scoped.close()
    client.drop_database("limited")


def test_timestamptz_values_are_written_in_the_zone_asked_for(client: Any) -> None:
    from pymilvus import DataType, MilvusException

    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=2)
    schema.add_field("at", DataType.TIMESTAMPTZ)
    index = client.prepare_index_params()
    index.add_index("vector", index_type="FLAT", metric_type="L2")
    client.create_collection(
        "zoned", schema=schema, index_params=index, properties={"timezone": "Asia/Shanghai"}
    )
    client.insert("zoned", [{"id": 1, "vector": [1.0, 0.0], "at": "2025-01-01T00:00:00.25Z"}])
    rows = client.query("zoned", filter="id == 1", output_fields=["at"])
    assert rows[0]["at"] == "2025-01-01T08:00:00.25+08:00"
    rows = client.query("zoned", filter="id == 1", output_fields=["at"], timezone="UTC")
    assert rows[0]["at"] == "2025-01-01T00:00:00.25Z"
    hits = client.search(
        "zoned", [[1.0, 0.0]], limit=1, output_fields=["at"], timezone="America/New_York"
    )
    assert hits[0][0]["entity"]["at"] == "2024-12-31T19:00:00.25-05:00"
    with pytest.raises(MilvusException) as info:
        client.query("zoned", filter="id == 1", output_fields=["at"], timezone="Mars/Base")
    assert info.value.code == 1100
    assert "unknown or invalid IANA Time Zone ID: Mars/Base" in info.value.message
    with pytest.raises(MilvusException, match="unknown or invalid IANA Time Zone ID: nowhere"):
        client.alter_collection_properties("zoned", {"timezone": "nowhere"})
    client.drop_collection("zoned")
