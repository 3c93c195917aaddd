from __future__ import annotations

from dataclasses import replace

import pytest
from storage_samples import sample_schema

from elanus.errors import StorageError
from elanus.storage.catalog import (
    Catalog,
    CatalogStore,
    CollectionRecord,
    DatabaseRecord,
    IndexRecord,
    PartitionRecord,
)
from elanus.storage.fs import LocalFileSystem


def populated() -> Catalog:
    cat = Catalog()
    cat.databases["default"] = DatabaseRecord("default", cat.allocate_id(), {}, 1)
    cat.databases["db2"] = DatabaseRecord(
        "db2", cat.allocate_id(), {"database.replica.number": "1"}
    )
    cid = cat.allocate_id()
    cat.collections[cid] = CollectionRecord(
        collection_id=cid,
        name="books",
        database="default",
        schema=sample_schema(),
        properties={"collection.ttl.seconds": "60", "mmap.enabled": "true"},
        partitions=(PartitionRecord("_default", cat.allocate_id(), 5), PartitionRecord("p1", 9)),
        aliases=("novels",),
        indexes=(
            IndexRecord("fv_idx", "fv", "HNSW", "COSINE", {"M": 16, "efConstruction": 200}, 4),
            IndexRecord("sv_idx", "sv", "SPARSE_INVERTED_INDEX", "IP"),
        ),
        consistency_level="Strong",
        num_shards=2,
        num_partitions=16,
        created_timestamp=(1 << 40),
        update_timestamp=(1 << 41),
        extra={"load_state": "Loaded"},
    )
    return cat


def test_empty_directory_gives_an_empty_catalog(tmp_path) -> None:
    cat = CatalogStore(LocalFileSystem(), str(tmp_path / "catalog.json")).load()
    assert cat.databases == {} and cat.collections == {} and cat.next_id == 1


def test_catalog_round_trips_through_disk(tmp_path) -> None:
    store = CatalogStore(LocalFileSystem(), str(tmp_path / "catalog.json"))
    cat = populated()
    store.save(cat)
    assert cat.version == 1
    loaded = store.load()
    assert loaded == cat
    books = loaded.find_collection("default", "books")
    assert books is not None and books.schema == cat.collections[books.collection_id].schema
    assert books.schema.field("tags").element_type is not None
    assert loaded.find_collection("default", "novels") is books
    assert loaded.find_collection("db2", "books") is None
    assert books.partition("p1") == PartitionRecord("p1", 9)
    assert books.index("fv_idx") is not None and books.index("nope") is None
    assert [c.name for c in loaded.collections_in("default")] == ["books"]


def test_copy_then_save_leaves_the_original_untouched(tmp_path) -> None:
    store = CatalogStore(LocalFileSystem(), str(tmp_path / "catalog.json"))
    cat = populated()
    store.save(cat)
    draft = cat.copy()
    (cid,) = draft.collections
    draft.collections[cid] = replace(draft.collections[cid], name="renamed")
    del draft.databases["db2"]
    assert cat.collections[cid].name == "books" and "db2" in cat.databases
    store.save(draft)
    again = store.load()
    assert again.collections[cid].name == "renamed" and "db2" not in again.databases
    assert again.version == 2


def test_damaged_catalog_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "catalog.json"
    store = CatalogStore(LocalFileSystem(), str(path))
    store.save(populated())
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError, match="damaged"):
        store.load()
