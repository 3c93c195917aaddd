"""Catalogue semantics and data kept across flush, compaction and restart."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from elanus.engine.engine import Engine
from elanus.errors import (
    CollectionNotFound,
    DatabaseNotFound,
    PartitionNotFound,
)
from elanus.schema import CollectionSchema, DataType, FieldSchema

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import rows, simple_schema, visible  # noqa: E402


def test_collection_catalogue_follows_milvus(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)) as e:
        e.create_collection("default", "c", simple_schema())
        e.create_collection("default", "c", simple_schema())  # identical repeat is a no-op
        with pytest.raises(
            CollectionNotFound, match=r"collection not found\[database=default\]\[collection=nope\]"
        ):
            e.describe_collection("default", "nope")
        with pytest.raises(DatabaseNotFound):
            e.list_collections("nodb")
        e.create_alias("default", "a", "c")
        assert e.describe_alias("default", "a") == "c"
        assert e.describe_collection("default", "a").aliases == ["a"]
        e.rename_collection("default", "c", "d")
        assert e.describe_alias("default", "a") == "d"
        e.create_partition("default", "d", "p1")
        e.create_partition("default", "d", "p1")  # again: a no-op, as in Milvus
        assert [p.name for p in e.list_partitions("default", "d")] == ["_default", "p1"]
        with pytest.raises(PartitionNotFound):
            e.insert("default", "d", *rows([1], 1), partition="p2")
        e.insert("default", "d", *rows([1, 2], 1), partition="p1")
        assert e.get_partition_stats("default", "d", "p1") == {"row_count": 2}
    with Engine.open(str(tmp_path)) as e:
        assert e.list_collections("default") == ["d"]
        assert [p.name for p in e.list_partitions("default", "d")] == ["_default", "p1"]
        assert e.get_collection_stats("default", "a") == {"row_count": 2}


def test_partition_key_collection_routes_rows_to_hidden_partitions(tmp_path: Path) -> None:
    schema = CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 4}),
            FieldSchema("tag", DataType.INT64, is_partition_key=True),
        )
    )
    with Engine.open(str(tmp_path)) as e:
        e.create_collection("default", "c", schema)
        assert len(e.list_partitions("default", "c")) == 16
        e.insert("default", "c", *rows(list(range(100)), 3))
        e.insert("default", "c", {"id": [100, 101], "vec": [[0.0] * 4] * 2, "tag": [1, 2]}, 2)
        assert e.get_collection_stats("default", "c") == {"row_count": 102}
        used = {
            v.partition_name
            for v in e.collections[e._meta("default", "c").collection_id].snapshot.segments
        }
        assert used <= {f"_default_{i}" for i in range(16)} and len(used) >= 2


def test_flush_compaction_and_restart_keep_data(tmp_path: Path) -> None:
    opts = {"seal_rows": 30, "compact_min_rows": 1000, "background": False}
    with Engine.open(str(tmp_path), **opts) as e:
        e.create_collection("default", "c", simple_schema())
        for b in range(5):
            e.insert("default", "c", *rows(list(range(b * 20, b * 20 + 20)), b))
            e.flush("default", "c")
        e.delete("default", "c", ids=list(range(0, 100, 3)))
        e.upsert("default", "c", *rows([1, 2], 9))
        before = visible(e)
        cid = e.compact("default", "c")
        assert e.get_compaction_state(cid) == "Completed"
        assert visible(e) == before
        sealed = [s for s in e.list_segments("default", "c") if s.state == "Flushed"]
        assert len(sealed) == 1
    with Engine.open(str(tmp_path), **opts) as e:
        assert visible(e) == before
