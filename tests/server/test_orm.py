"""pymilvus's ORM API (connections, Collection, Partition, Index, utility) against a
real ``elanus serve`` process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from conftest import ServerProcess
from pymilvus import (
    Collection,
    CollectionSchema,
    DataType,
    FieldSchema,
    Index,
    MilvusException,
    Partition,
    connections,
    utility,
)
from pymilvus.exceptions import SchemaNotReadyException

# The ORM is deprecated in pymilvus 3 but must keep working until it is removed.
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

DIM = 8
ROWS = 300
RNG = np.random.default_rng(11)
VECTORS = RNG.random((ROWS, DIM), dtype=np.float32)


@pytest.fixture(scope="module")
def alias(server: ServerProcess) -> Iterator[str]:
    connections.connect(alias="elanus-orm", uri=server.uri)
    yield "elanus-orm"
    connections.disconnect("elanus-orm")


def _schema() -> CollectionSchema:
    return CollectionSchema(
        [
            FieldSchema("pk", DataType.INT64, is_primary=True),
            FieldSchema("title", DataType.VARCHAR, max_length=64),
            FieldSchema("score", DataType.DOUBLE),
            FieldSchema("vec", DataType.FLOAT_VECTOR, dim=DIM),
        ],
        description="orm books",
    )


def _columns(start: int, count: int) -> list[Any]:
    ids = list(range(start, start + count))
    return [
        ids,
        [f"title {i}" for i in ids],
        [float(i % 7) for i in ids],
        VECTORS[start : start + count].tolist(),
    ]


def _index_params() -> dict[str, Any]:
    return {"index_type": "HNSW", "metric_type": "L2", "params": {"M": 8, "efConstruction": 64}}


@pytest.fixture(scope="module")
def books(alias: str) -> Iterator[Collection]:
    collection = Collection("orm_books", _schema(), using=alias, consistency_level="Strong")
    collection.insert(_columns(0, ROWS))
    collection.flush()
    collection.create_index("vec", _index_params())
    utility.wait_for_index_building_complete("orm_books", using=alias)
    collection.load()
    utility.wait_for_loading_complete("orm_books", using=alias)
    yield collection
    collection.drop()


def test_collection_metadata(books: Collection, alias: str) -> None:
    assert books.name == "orm_books"
    assert books.description == "orm books"
    assert [f.name for f in books.schema.fields] == ["pk", "title", "score", "vec"]
    assert books.primary_field.name == "pk"
    assert books.num_entities == ROWS
    assert books.is_empty is False
    assert books.has_index()
    assert utility.has_collection("orm_books", using=alias)
    assert "orm_books" in utility.list_collections(using=alias)
    # Opening an existing collection by name alone reads its schema back.
    again = Collection("orm_books", using=alias)
    assert again.schema == books.schema


def test_index_objects_and_progress(books: Collection, alias: str) -> None:
    index = books.index()
    assert index.field_name == "vec"
    assert index.params["index_type"] == "HNSW"
    assert index.params["metric_type"] == "L2"
    assert [i.field_name for i in books.indexes] == ["vec"]
    progress = utility.index_building_progress("orm_books", using=alias)
    assert progress["total_rows"] == ROWS
    assert progress["indexed_rows"] == ROWS
    assert progress["pending_index_rows"] == 0
    assert utility.loading_progress("orm_books", using=alias)["loading_progress"] == "100%"
    assert str(utility.load_state("orm_books", using=alias)) == "Loaded"


def test_search_and_query(books: Collection) -> None:
    result = books.search(
        VECTORS[:2].tolist(),
        "vec",
        {"metric_type": "L2", "params": {"ef": 64}},
        limit=3,
        output_fields=["title"],
    )
    assert len(result) == 2
    assert result[0].ids[0] == 0 and result[1].ids[0] == 1
    assert result[0][0].entity.get("title") == "title 0"
    rows = books.query("pk < 5", output_fields=["title", "score"])
    assert sorted(r["pk"] for r in rows) == [0, 1, 2, 3, 4]
    filtered = books.search(
        VECTORS[:1].tolist(), "vec", {"metric_type": "L2"}, limit=5, expr="score == 3"
    )
    assert all(hit.id % 7 == 3 for hit in filtered[0])
    assert books.query("", output_fields=["count(*)"])[0]["count(*)"] == ROWS


def test_iterators(books: Collection) -> None:
    seen: list[int] = []
    iterator = books.query_iterator(batch_size=70, expr="pk >= 0", output_fields=["pk"])
    while page := iterator.next():
        seen.extend(r["pk"] for r in page)
    iterator.close()
    assert sorted(seen) == list(range(ROWS))
    hits: list[int] = []
    search_iter = books.search_iterator(
        VECTORS[:1].tolist(), "vec", {"metric_type": "L2"}, batch_size=64, limit=200
    )
    while page := search_iter.next():
        hits.extend(page.ids())
    search_iter.close()
    assert len(hits) == 200 and len(set(hits)) == 200 and hits[0] == 0


def test_writes_and_partitions(alias: str) -> None:
    collection = Collection("orm_writes", _schema(), using=alias, consistency_level="Strong")
    try:
        partition = Partition(collection, "recent", description="newer rows")
        assert collection.has_partition("recent")
        assert {p.name for p in collection.partitions} == {"_default", "recent"}
        collection.insert(_columns(0, 20))
        partition.insert(_columns(20, 10))
        collection.flush()
        assert partition.num_entities == 10
        assert collection.num_entities == 30
        collection.create_index("vec", _index_params())
        collection.load()
        assert partition.query("pk >= 0", output_fields=["pk"], limit=100).__len__() == 10
        hits = partition.search(VECTORS[:1].tolist(), "vec", {"metric_type": "L2"}, limit=50)
        assert {h.id for h in hits[0]} == set(range(20, 30))
        deleted = collection.delete("pk in [0, 1, 2]")
        assert deleted.delete_count == 3
        upserted = collection.upsert(_columns(3, 1))
        assert upserted.upsert_count == 1
        rows = collection.query("pk < 5", output_fields=["pk"])
        assert sorted(r["pk"] for r in rows) == [3, 4]
        collection.release()
        assert str(utility.load_state("orm_writes", using=alias)) == "NotLoad"
        partition.load()
        assert str(utility.load_state("orm_writes", partition_names=["recent"], using=alias)) == (
            "Loaded"
        )
        partition.release()
    finally:
        collection.drop()
    assert not utility.has_collection("orm_writes", using=alias)


def test_utility_rename_alias_and_drop(alias: str) -> None:
    collection = Collection("orm_named", _schema(), using=alias)
    utility.create_alias("orm_named", "orm_nick", using=alias)
    assert utility.list_aliases("orm_named", using=alias) == ["orm_nick"]
    utility.rename_collection("orm_named", "orm_renamed", using=alias)
    assert utility.has_collection("orm_renamed", using=alias)
    assert not utility.has_collection("orm_named", using=alias)
    utility.drop_alias("orm_nick", using=alias)
    utility.drop_collection("orm_renamed", using=alias)
    assert not utility.has_collection("orm_renamed", using=alias)
    del collection


def test_index_object_create_and_drop(alias: str) -> None:
    collection = Collection("orm_index", _schema(), using=alias)
    try:
        index = Index(collection, "vec", _index_params(), index_name="vec_idx")
        assert index.index_name == "vec_idx"
        assert collection.index(index_name="vec_idx").params["index_type"] == "HNSW"
        index.drop()
        assert not collection.has_index()
    finally:
        collection.drop()


def test_missing_collection_is_refused(alias: str) -> None:
    # As with Milvus, the ORM turns the server's "collection not found" into this.
    with pytest.raises(SchemaNotReadyException):
        Collection("orm_missing", using=alias)
    with pytest.raises(MilvusException) as info:
        utility.index_building_progress("orm_missing", using=alias)
    assert info.value.code == 100
    assert utility.has_collection("orm_missing", using=alias) is False


def test_default_consistency_is_the_collections_level(alias: str, server: ServerProcess) -> None:
    from pymilvus import MilvusClient

    collection = Collection("orm_strong", _schema(), using=alias, consistency_level="Strong")
    writer = MilvusClient(uri=server.uri)  # another connection: no cached write timestamp
    try:
        collection.create_index("vec", _index_params())
        collection.load()
        assert collection.describe()["consistency_level"] == 0  # Strong
        cols = _columns(0, 5)
        writer.insert(
            "orm_strong",
            [{"pk": i, "title": t, "score": s, "vec": v} for i, t, s, v in zip(*cols)],
        )
        # No level given: the collection's Strong applies and the write is seen.
        assert collection.query("", output_fields=["count(*)"])[0]["count(*)"] == 5
    finally:
        writer.close()
        collection.drop()
