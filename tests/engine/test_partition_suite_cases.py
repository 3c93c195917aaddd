"""Partition rules Milvus's client suite checks, held against the engine.

A partition-key collection routes rows by key, so reads and deletes that name
partitions are refused, as inserts are; loading or releasing partitions resolves
every name before changing anything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import IndexSpec, QueryRequest, SearchRequest
from elanus.errors import ParameterError, PartitionNotFound
from elanus.schema import CollectionSchema, DataType, FieldSchema

NAMES_REFUSED = "not support manually specifying the partition names if partition key mode is used"
FLAT = IndexSpec("vec", "FLAT", "vec_idx", "L2", {})


def _schema(partition_key: bool) -> CollectionSchema:
    return CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 4}),
            FieldSchema("tag", DataType.INT64, is_partition_key=partition_key),
        )
    )


def _rows(n: int) -> dict[str, object]:
    return {
        "id": list(range(n)),
        "vec": np.eye(4, dtype=np.float32)[np.arange(n) % 4],
        "tag": [1] * n,
    }


def test_partition_key_collection_refuses_named_partitions_on_reads_and_deletes(
    tmp_path: Path,
) -> None:
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", _schema(True), indexes=[FLAT])
        e.insert("default", "c", _rows(8), 8)
        e.load_collection("default", "c")
        hidden = e.list_partitions("default", "c")[0].name
        q = np.ones((1, 4), np.float32)
        assert len(e.search("default", "c", SearchRequest(q, "vec", limit=3)).ids) == 3

        with pytest.raises(ParameterError, match=NAMES_REFUSED):
            e.search("default", "c", SearchRequest(q, "vec", limit=3, partition_names=[hidden]))
        with pytest.raises(ParameterError, match=NAMES_REFUSED):
            e.query("default", "c", QueryRequest(filter="id > 0", partition_names=[hidden]))
        with pytest.raises(ParameterError, match=NAMES_REFUSED):
            e.delete("default", "c", filter="id in [1]", partition=hidden)
        res = e.query("default", "c", QueryRequest(output_fields=["count(*)"]))
        assert int(res.columns["count(*)"][0]) == 8


def test_load_partitions_with_an_unknown_name_loads_none(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", _schema(False), indexes=[FLAT])
        e.create_partition("default", "c", "p1")
        e.release_collection("default", "c")
        with pytest.raises(PartitionNotFound, match=r"partition not found\[partition=12 s\]"):
            e.load_partitions("default", "c", ["p1", "12 s"])
        assert e.get_load_state("default", "c", "p1") == "NotLoad"
        e.load_partitions("default", "c", ["p1"])
        with pytest.raises(PartitionNotFound, match=r"partition not found\[partition=nope\]"):
            e.release_partitions("default", "c", ["p1", "nope"])
        assert e.get_load_state("default", "c", "p1") == "Loaded"
        assert e.get_load_state("default", "c", "_default") == "NotLoad"


def test_query_over_several_segments_returns_rows_in_primary_key_order(tmp_path: Path) -> None:
    # Upserted rows change their partition key, so the rows a query finds sit in
    # several partitions' segments; Milvus merges them in primary-key order.
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", _schema(True), indexes=[FLAT])
        e.insert("default", "c", _rows(40), 40)
        e.flush("default", "c")
        moved = {**_rows(40), "id": list(range(39, -1, -1)), "tag": list(range(40))}
        e.upsert("default", "c", moved, 40)
        e.insert("default", "c", {**_rows(3), "id": [100, 41, 40]}, 3)
        e.load_collection("default", "c")
        res = e.query("default", "c", QueryRequest(filter="id >= 0", output_fields=["tag"]))
        assert np.asarray(res.columns["id"]).tolist() == [*range(42), 100]
        assert np.asarray(res.columns["tag"]).tolist()[:3] == [39, 38, 37]


def test_row_count_counts_rows_written_until_compaction(tmp_path: Path) -> None:
    # Milvus's row_count: the same rows written twice count twice, a delete takes
    # nothing off, and compaction (which drops replaced and deleted rows) does.
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", _schema(False))
        e.create_partition("default", "c", "p1")
        e.insert("default", "c", _rows(10), 10, partition="p1")
        e.flush("default", "c")
        assert e.get_partition_stats("default", "c", "p1") == {"row_count": 10}
        e.insert("default", "c", _rows(10), 10, partition="p1")
        e.flush("default", "c")
        assert e.get_partition_stats("default", "c", "p1") == {"row_count": 20}
        e.delete("default", "c", ids=[1, 2])
        assert e.get_collection_stats("default", "c") == {"row_count": 20}
        assert e.get_partition_stats("default", "c", "_default") == {"row_count": 0}
        e.compact("default", "c")
        assert e.get_collection_stats("default", "c") == {"row_count": 8}
