"""The embedded MilvusClient end to end: pymilvus's calls and result shapes over a tmp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import elanus
from elanus import DataType, MilvusClient
from elanus.errors import (
    AliasNotFound,
    CollectionNotFound,
    DataError,
    ElanusError,
    NotSupportedError,
    SchemaError,
)

needs_filters = pytest.mark.skipif(
    not hasattr(
        elanus.expr if hasattr(elanus, "expr") else __import__("elanus.expr").expr, "compile_filter"
    ),
    reason="filter language not in this tree yet",
)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[MilvusClient]:
    c = MilvusClient(str(tmp_path / "milvus.db"))
    yield c
    c.close()


def quick(client: MilvusClient, rows: int = 10) -> None:
    client.create_collection("demo", dimension=4)
    data = [
        {"id": i, "vector": [float(i), 1.0, 0.0, 0.5], "color": "red" if i % 2 else "blue"}
        for i in range(rows)
    ]
    assert client.insert("demo", data) == {"insert_count": rows, "ids": list(range(rows))}


def test_quick_setup_is_built_like_pymilvus(client: MilvusClient) -> None:
    client.create_collection("demo", dimension=8)
    d = client.describe_collection("demo")
    assert d["collection_name"] == "demo"
    assert d["enable_dynamic_field"] is True
    assert d["auto_id"] is False
    assert d["fields"] == [
        {
            "field_id": 100,
            "name": "id",
            "description": "",
            "type": DataType.INT64,
            "params": {},
            "is_primary": True,
        },
        {
            "field_id": 101,
            "name": "vector",
            "description": "",
            "type": DataType.FLOAT_VECTOR,
            "params": {"dim": 8},
        },
    ]
    assert d["consistency_level"] == 2
    assert str(client.get_load_state("demo")["state"]) == "Loaded"
    index = client.describe_index("demo", client.list_indexes("demo")[0])
    assert index["index_type"] == "AUTOINDEX" and index["metric_type"] == "COSINE"
    assert index["field_name"] == "vector"


def test_search_hits_have_pymilvus_shape(client: MilvusClient) -> None:
    quick(client)
    res = client.search(
        "demo", [[1.0, 1.0, 0.0, 0.5], [9.0, 1.0, 0.0, 0.5]], limit=3, output_fields=["color"]
    )
    assert len(res) == 2 and all(len(hits) == 3 for hits in res)
    top = res[0][0]
    assert top == {"id": 1, "distance": pytest.approx(1.0), "entity": {"color": "red"}}
    assert top["id"] == 1 and top["color"] == "red" and top["entity"]["color"] == "red"
    assert top.id == 1 and top.distance == pytest.approx(1.0)
    assert res[1][0]["id"] == 9
    distances = [h["distance"] for h in res[0]]
    assert distances == sorted(distances, reverse=True)


def test_search_round_decimal_and_offset(client: MilvusClient) -> None:
    quick(client)
    full = client.search("demo", [[1.0, 1.0, 0.0, 0.5]], limit=4)
    paged = client.search("demo", [[1.0, 1.0, 0.0, 0.5]], limit=2, offset=2, round_decimal=2)
    assert [h["id"] for h in paged[0]] == [h["id"] for h in full[0]][2:4]
    assert all(round(h["distance"], 2) == h["distance"] for h in paged[0])


def test_get_query_delete_upsert(client: MilvusClient) -> None:
    quick(client)
    got = client.get("demo", ids=[1, 2])
    assert got == [
        {"id": 1, "vector": [1.0, 1.0, 0.0, 0.5], "color": "red"},
        {"id": 2, "vector": [2.0, 1.0, 0.0, 0.5], "color": "blue"},
    ]
    assert client.get("demo", 3, output_fields=["color"]) == [{"id": 3, "color": "red"}]
    assert client.delete("demo", ids=[1, 2]) == {"delete_count": 2}
    assert client.query("demo", output_fields=["count(*)"]) == [{"count(*)": 8}]
    assert client.get("demo", ids=[1]) == []
    assert client.upsert("demo", [{"id": 3, "vector": [0, 0, 0, 1], "color": "green"}]) == {
        "upsert_count": 1,
        "ids": [3],
    }
    assert client.get("demo", 3, output_fields=["color"]) == [{"id": 3, "color": "green"}]
    # Milvus's row_count counts rows written (deleted and replaced ones until compaction).
    assert client.get_collection_stats("demo") == {"row_count": 11}


@needs_filters
def test_filters(client: MilvusClient) -> None:
    quick(client)
    rows = client.query("demo", filter="id < 3", output_fields=["color"])
    assert sorted(r["id"] for r in rows) == [0, 1, 2]
    hits = client.search("demo", [[1.0, 1.0, 0.0, 0.5]], filter='color == "blue"', limit=3)
    assert all(h["id"] % 2 == 0 for h in hits[0])
    assert client.delete("demo", filter="id >= 8")["delete_count"] == 2


def test_inserts_from_columns_frames_and_tables(client: MilvusClient) -> None:
    client.create_collection("demo", dimension=2)
    assert (
        client.insert("demo", {"id": [1, 2], "vector": np.ones((2, 2), np.float32)})["insert_count"]
        == 2
    )
    frame = pd.DataFrame({"id": [3, 4], "vector": [[1.0, 0.0], [0.0, 1.0]], "tag": ["a", "b"]})
    assert client.insert("demo", frame)["ids"] == [3, 4]
    table = pa.table({"id": [5], "vector": pa.array([[0.5, 0.5]], pa.list_(pa.float32(), 2))})
    assert client.insert("demo", table)["ids"] == [5]
    assert client.insert("demo", {"id": 6, "vector": [1.0, 1.0]})["ids"] == [6]
    assert client.get("demo", 4, output_fields=["tag"]) == [{"id": 4, "tag": "b"}]
    assert client.query("demo", output_fields=["count(*)"]) == [{"count(*)": 6}]


def test_schema_and_index_params_from_pymilvus_builders(client: MilvusClient) -> None:
    schema = MilvusClient.create_schema(auto_id=True, enable_dynamic_field=False)
    schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("emb", DataType.FLOAT_VECTOR, dim=3)
    schema.add_field("n", DataType.INT32, nullable=True, default_value=7)
    schema.add_field(
        "tags", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=4, max_length=8
    )
    index = MilvusClient.prepare_index_params()
    index.add_index("emb", index_type="FLAT", metric_type="L2", index_name="emb_idx")
    client.create_collection("c", schema=schema, index_params=index)
    d = client.describe_collection("c")
    assert d["auto_id"] is True
    assert [f["field_id"] for f in d["fields"]] == [100, 101, 102, 103]
    assert d["fields"][2]["nullable"] is True
    assert d["fields"][3]["element_type"] == DataType.VARCHAR
    assert d["fields"][3]["params"] == {"max_capacity": 4, "max_length": 8}
    assert client.list_indexes("c") == ["emb_idx"]
    res = client.insert(
        "c", [{"emb": [1, 2, 3], "tags": ["x"]}, {"emb": [3, 2, 1], "n": 1, "tags": []}]
    )
    assert res["insert_count"] == 2 and all(isinstance(i, str) for i in res["ids"])
    rows = client.get("c", res["ids"], output_fields=["n", "tags"])
    assert sorted((r["n"], tuple(r["tags"])) for r in rows) == [(1, ()), (7, ("x",))]
    hits = client.search("c", [[1, 2, 3]], limit=1)
    assert hits[0][0]["pk"] == res["ids"][0] and hits[0][0]["distance"] == pytest.approx(0.0)


def test_collection_without_index_is_not_loaded(client: MilvusClient) -> None:
    schema = MilvusClient.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    client.create_collection("c", schema=schema)
    assert str(client.get_load_state("c")["state"]) == "NotLoad"


def test_partitions(client: MilvusClient) -> None:
    client.create_collection("demo", dimension=2)
    client.create_partition("demo", "p1")
    assert client.has_partition("demo", "p1")
    assert client.list_partitions("demo") == ["_default", "p1"]
    client.insert("demo", [{"id": 1, "vector": [1, 0]}], partition_name="p1")
    client.insert("demo", [{"id": 2, "vector": [1, 0]}])
    hits = client.search("demo", [[1, 0]], limit=5, partition_names=["p1"])
    assert [h["id"] for h in hits[0]] == [1]
    assert client.get_partition_stats("demo", "p1") == {"row_count": 1}
    client.release_partitions("demo", ["p1"])
    client.drop_partition("demo", "p1")
    assert not client.has_partition("demo", "p1")


def test_aliases(client: MilvusClient) -> None:
    quick(client)
    client.create_alias("demo", "current")
    assert client.describe_alias("current") == {
        "alias": "current",
        "collection_name": "demo",
        "db_name": "default",
    }
    assert client.list_aliases("demo")["aliases"] == ["current"]
    assert client.search("current", [[1, 1, 0, 0.5]], limit=1)[0][0]["id"] == 1
    client.create_collection("other", dimension=4)
    client.alter_alias("other", "current")
    assert client.describe_alias("current")["collection_name"] == "other"
    client.drop_alias("current")
    with pytest.raises(AliasNotFound):
        client.describe_alias("current")


def test_databases(client: MilvusClient) -> None:
    client.create_database("db2", properties={"database.max.collections": 5})
    assert set(client.list_databases()) == {"default", "db2"}
    client.using_database("db2")
    client.create_collection("demo", dimension=2)
    assert client.list_collections() == ["demo"]
    client.using_database("default")
    assert client.list_collections() == []
    client.use_database("db2")
    client.drop_collection("demo")
    client.use_database("default")
    client.drop_database("db2")
    assert client.list_databases() == ["default"]


def test_collection_lifecycle(client: MilvusClient) -> None:
    quick(client)
    assert client.has_collection("demo") and client.list_collections() == ["demo"]
    client.rename_collection("demo", "renamed")
    assert client.list_collections() == ["renamed"]
    client.alter_collection_properties("renamed", {"collection.ttl.seconds": 60})
    assert client.describe_collection("renamed")["properties"]["collection.ttl.seconds"] == "60"
    client.release_collection("renamed")
    assert str(client.get_load_state("renamed")["state"]) == "NotLoad"
    client.load_collection("renamed")
    client.flush("renamed")
    job = client.compact("renamed")
    assert client.get_compaction_state(job) in ("Executing", "Completed")
    client.drop_collection("renamed")
    assert not client.has_collection("renamed")


def test_bad_input_is_rejected_whole(client: MilvusClient) -> None:
    quick(client)
    bad = [{"id": 100, "vector": [1, 1, 1, 1]}, {"id": 101, "vector": [1, 1, 1]}]
    with pytest.raises(DataError) as info:
        client.insert("demo", bad)
    assert info.value.code == 1100 and "dim" in info.value.message
    with pytest.raises(DataError, match="NaN or Inf"):
        client.insert("demo", [{"id": 100, "vector": [1, float("nan"), 1, 1]}])
    with pytest.raises(DataError, match="Insert missed an field `vector`"):
        client.insert("demo", [{"id": 100}])
    assert client.get("demo", [100, 101]) == []
    with pytest.raises(CollectionNotFound) as missing:
        client.insert("nope", [{"id": 1, "vector": [1, 1, 1, 1]}])
    assert missing.value.code == 100
    with pytest.raises(ElanusError):
        client.create_collection("bad_dim", dimension=1)


def test_bad_collection_name(client: MilvusClient) -> None:
    with pytest.raises(SchemaError, match="first character of a collection name"):
        client.create_collection("1bad", dimension=4)


def test_unknown_field_without_dynamic(client: MilvusClient) -> None:
    client.create_collection("c", dimension=2, enable_dynamic_field=False)
    with pytest.raises(DataError, match="unexpected field `extra`"):
        client.insert("c", [{"id": 1, "vector": [1, 0], "extra": 1}])


def test_clients_on_one_path_share_one_engine(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    a = MilvusClient(path)
    b = MilvusClient(path)
    a.create_collection("demo", dimension=2)
    assert b.has_collection("demo")
    a.close()
    b.insert("demo", [{"id": 1, "vector": [1, 0]}])
    b.close()
    with MilvusClient(path) as c:
        assert c.get("demo", 1, output_fields=["id"]) == [{"id": 1}]


def test_remote_uri_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotSupportedError, match="pymilvus.MilvusClient"):
        MilvusClient("http://localhost:19530")


def test_query_iterator_pages_by_primary_key(client: MilvusClient) -> None:
    quick(client, rows=25)
    it = client.query_iterator("demo", batch_size=10, output_fields=["id"])
    pages = []
    while page := it.next():
        pages.append([r["id"] for r in page])
    it.close()
    assert [len(p) for p in pages] == [10, 10, 5]
    assert sorted(i for p in pages for i in p) == list(range(25))


def test_search_iterator(client: MilvusClient) -> None:
    quick(client, rows=25)
    it = client.search_iterator("demo", [[1.0, 1.0, 0.0, 0.5]], batch_size=10, limit=22)
    seen = [h["id"] for page in it for h in page]
    assert len(seen) == 22 and len(set(seen)) == 22


def test_hybrid_search_with_pymilvus_rankers(client: MilvusClient) -> None:
    from elanus import AnnSearchRequest, RRFRanker, WeightedRanker

    client.create_collection("demo", dimension=2)
    client.insert("demo", [{"id": i, "vector": [1, i]} for i in range(5)])
    legs = [
        AnnSearchRequest([[1, 0]], "vector", {}, 3),
        AnnSearchRequest([[0, 1]], "vector", {}, 3),
    ]
    fused = client.hybrid_search("demo", legs, RRFRanker(), limit=3)
    assert len(fused) == 1 and len(fused[0]) == 3
    assert fused[0][0]["distance"] >= fused[0][-1]["distance"]
    weighted = client.hybrid_search("demo", legs[:1], WeightedRanker(1.0), limit=2)
    assert [h["id"] for h in weighted[0]] == [0, 1]
