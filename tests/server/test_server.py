"""pymilvus's MilvusClient against a real ``elanus serve`` process, area by area."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient, MilvusException

DIM = 8
RNG = np.random.default_rng(7)
VECTORS = RNG.random((50, DIM), dtype=np.float32)


def _rows(start: int = 0, count: int = 50) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "title": f"book {i}",
            "year": 1990 + i % 20,
            "vec": VECTORS[i % len(VECTORS)].tolist(),
            "genre": ["sf", "poetry", "history"][i % 3],
        }
        for i in range(start, start + count)
    ]


def _schema(client: MilvusClient) -> Any:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("title", DataType.VARCHAR, max_length=64)
    schema.add_field("year", DataType.INT32)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    return schema


def _make(client: MilvusClient, name: str, rows: list[dict[str, Any]] | None = None) -> None:
    index = client.prepare_index_params()
    index.add_index(
        "vec", index_type="HNSW", metric_type="L2", params={"M": 8, "efConstruction": 64}
    )
    client.create_collection(name, schema=_schema(client), index_params=index)
    if rows:
        client.insert(name, rows)


@pytest.fixture(scope="module")
def books(client: MilvusClient) -> Iterator[str]:
    _make(client, "books", _rows())
    yield "books"


def test_health_and_version(client: MilvusClient) -> None:
    assert "elanus" in client.get_server_version()


def test_databases(client: MilvusClient) -> None:
    client.create_database("library")
    assert "library" in client.list_databases()
    assert client.describe_database("library")["name"] == "library"
    client.use_database("library")
    try:
        _make(client, "inside")
        assert client.list_collections() == ["inside"]
    finally:
        client.drop_collection("inside")
        client.use_database("default")
    assert "inside" not in client.list_collections()
    client.drop_database("library")
    assert "library" not in client.list_databases()


def test_collection_lifecycle(client: MilvusClient) -> None:
    _make(client, "temp")
    assert client.has_collection("temp")
    desc = client.describe_collection("temp")
    assert [f["name"] for f in desc["fields"]] == ["id", "title", "year", "vec"]
    assert desc["enable_dynamic_field"] is True
    assert desc["fields"][3]["params"]["dim"] == DIM
    client.rename_collection("temp", "temp2")
    assert client.has_collection("temp2") and not client.has_collection("temp")
    client.drop_collection("temp2")
    assert not client.has_collection("temp2")


def test_missing_collection_raises_milvus_code(client: MilvusClient) -> None:
    with pytest.raises(MilvusException) as info:
        client.describe_collection("no_such_collection")
    assert info.value.code == 100
    with pytest.raises(MilvusException) as info:
        client.query("no_such_collection", filter="id > 0")
    assert info.value.code == 100


def test_bad_filter_is_a_parameter_error(client: MilvusClient, books: str) -> None:
    with pytest.raises(MilvusException) as info:
        client.query(books, filter="year >>> 3", output_fields=["id"])
    assert info.value.code == 1100


def test_partitions(client: MilvusClient) -> None:
    _make(client, "parts")
    client.create_partition("parts", "p1")
    assert set(client.list_partitions("parts")) == {"_default", "p1"}
    assert client.has_partition("parts", "p1")
    client.insert("parts", _rows(0, 5), partition_name="p1")
    client.insert("parts", _rows(100, 3))
    got = client.query(
        "parts",
        filter="id >= 0",
        output_fields=["id"],
        partition_names=["p1"],
        consistency_level="Strong",
    )
    assert sorted(r["id"] for r in got) == [0, 1, 2, 3, 4]
    client.release_collection("parts")
    client.drop_partition("parts", "p1")
    assert client.list_partitions("parts") == ["_default"]
    client.drop_collection("parts")


def test_aliases(client: MilvusClient, books: str) -> None:
    client.create_alias(books, "shelf")
    assert client.describe_alias("shelf")["collection_name"] == books
    assert "shelf" in client.list_aliases(books)["aliases"]
    got = client.query(
        "shelf", filter="id == 3", output_fields=["title"], consistency_level="Strong"
    )
    assert got[0]["title"] == "book 3"
    client.drop_alias("shelf")
    assert client.list_aliases(books)["aliases"] == []


def test_index_describe(client: MilvusClient, books: str) -> None:
    assert client.list_indexes(books) == ["vec"]
    desc = client.describe_index(books, "vec")
    assert desc["index_type"] == "HNSW" and desc["metric_type"] == "L2"
    assert desc["field_name"] == "vec"


def test_insert_search_query_get(client: MilvusClient, books: str) -> None:
    hits = client.search(
        books,
        data=[VECTORS[4].tolist()],
        limit=3,
        output_fields=["title", "genre"],
        consistency_level="Strong",
    )
    assert len(hits) == 1 and len(hits[0]) == 3
    assert hits[0][0]["id"] == 4
    assert hits[0][0]["entity"]["title"] == "book 4"
    assert hits[0][0]["entity"]["genre"] == "poetry"
    filtered = client.search(
        books,
        data=[VECTORS[4].tolist()],
        limit=5,
        filter="year > 2000",
        output_fields=["year"],
        consistency_level="Strong",
    )
    assert all(h["entity"]["year"] > 2000 for h in filtered[0])
    rows = client.query(
        books,
        filter="genre == 'sf' and id < 10",
        output_fields=["id", "title"],
        consistency_level="Strong",
    )
    assert sorted(r["id"] for r in rows) == [0, 3, 6, 9]
    got = client.get(books, ids=[1, 2])
    assert sorted(r["id"] for r in got) == [1, 2]
    np.testing.assert_allclose(
        got[0]["vec"] if got[0]["id"] == 1 else got[1]["vec"], VECTORS[1], rtol=1e-6
    )
    count = client.query(books, filter="", output_fields=["count(*)"], consistency_level="Strong")
    assert count[0]["count(*)"] == 50


def test_filter_template_params(client: MilvusClient, books: str) -> None:
    rows = client.query(
        books,
        filter="id in {ids}",
        filter_params={"ids": [5, 7]},
        output_fields=["id"],
        consistency_level="Strong",
    )
    assert sorted(r["id"] for r in rows) == [5, 7]


def test_upsert_and_delete_with_session_consistency(client: MilvusClient) -> None:
    _make(client, "mutable", _rows(0, 10))
    client.upsert("mutable", [{**_rows(3, 1)[0], "title": "changed"}])
    got = client.query(
        "mutable", filter="id == 3", output_fields=["title"], consistency_level="Session"
    )
    assert got[0]["title"] == "changed"
    result = client.delete("mutable", ids=[1, 2])
    assert result["delete_count"] == 2
    left = client.query(
        "mutable", filter="id < 5", output_fields=["id"], consistency_level="Session"
    )
    assert sorted(r["id"] for r in left) == [0, 3, 4]
    client.delete("mutable", filter="id >= 4")
    left = client.query(
        "mutable", filter="", output_fields=["count(*)"], consistency_level="Strong"
    )
    assert left[0]["count(*)"] == 2
    client.drop_collection("mutable")


def test_dynamic_fields_round_trip(client: MilvusClient, books: str) -> None:
    got = client.query(books, filter="id == 6", output_fields=["*"], consistency_level="Strong")
    assert got[0]["genre"] == "sf" and got[0]["title"] == "book 6"
    got = client.query(
        books,
        filter='genre == "history"',
        output_fields=["genre"],
        limit=2,
        consistency_level="Strong",
    )
    assert len(got) == 2 and all(r["genre"] == "history" for r in got)


def test_flush_stats_and_segments(client: MilvusClient, books: str) -> None:
    client.flush(books)
    assert client.get_collection_stats(books)["row_count"] == 50


def test_load_release_state(client: MilvusClient) -> None:
    _make(client, "loadable", _rows(0, 5))
    assert client.get_load_state("loadable")["state"].name == "Loaded"
    client.release_collection("loadable")
    assert client.get_load_state("loadable")["state"].name == "NotLoad"
    with pytest.raises(MilvusException) as info:
        client.search("loadable", data=[VECTORS[0].tolist()], limit=1)
    assert info.value.code == 101
    client.load_collection("loadable")
    assert client.get_load_state("loadable")["state"].name == "Loaded"
    client.drop_collection("loadable")


def test_compaction(client: MilvusClient, books: str) -> None:
    job = client.compact(books)
    assert client.get_compaction_state(job) in ("Executing", "Completed")


def test_unsupported_rpc_is_refused_clearly(client: MilvusClient) -> None:
    with pytest.raises(MilvusException) as info:
        client.create_resource_group("reader")
    assert "not supported by Elanus: CreateResourceGroup" in info.value.message


def test_sigterm_keeps_data_across_restart(tmp_path: Path) -> None:
    from conftest import start_server  # the fixture module, on sys.path for this directory

    first = start_server(tmp_path / "data")
    client = MilvusClient(uri=first.uri)
    _make(client, "durable", _rows(0, 20))
    client.close()
    assert first.stop(signal.SIGTERM) == 0
    assert any("closing engine" in line for line in first.stderr)
    second = start_server(tmp_path / "data")
    try:
        client = MilvusClient(uri=second.uri)
        client.load_collection("durable")
        rows = client.query(
            "durable", filter="", output_fields=["count(*)"], consistency_level="Strong"
        )
        assert rows[0]["count(*)"] == 20
        client.close()
    finally:
        second.stop()


def test_json_meta_is_canonical(client: MilvusClient, books: str) -> None:
    got = client.query(books, filter="id == 0", output_fields=["$meta"], consistency_level="Strong")
    assert json.loads(json.dumps(got[0]))["genre"] == "sf"


def test_iterators(client: MilvusClient, books: str) -> None:
    seen: list[int] = []
    iterator = client.query_iterator(books, batch_size=7, filter="id >= 0", output_fields=["id"])
    while batch := iterator.next():
        seen.extend(r["id"] for r in batch)
    iterator.close()
    assert sorted(seen) == list(range(50))
    found: list[int] = []
    search_iter = client.search_iterator(
        books, data=[VECTORS[0].tolist()], batch_size=10, limit=30, output_fields=["id"]
    )
    while batch := search_iter.next():
        found.extend(h["id"] for h in batch)
    search_iter.close()
    assert len(found) == len(set(found)) == 30


def test_run_analyzer(client: MilvusClient) -> None:
    result = client.run_analyzer("Hello World", analyzer_params={"type": "standard"})
    assert list(result.tokens) == ["hello", "world"]
