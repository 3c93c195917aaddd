"""The embedded client's iterators while the collection changes: as pymilvus's
iterators against a server, each reads the snapshot of its first page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from elanus import DataType, MilvusClient
from elanus.errors import ParameterError


@pytest.fixture
def client(tmp_path: Path) -> Iterator[MilvusClient]:
    c = MilvusClient(str(tmp_path / "it.db"), engine_options={"sync": False})
    schema = c.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    index = c.prepare_index_params()
    index.add_index("v", index_type="FLAT", metric_type="L2")
    c.create_collection("it", schema=schema, index_params=index)
    c.insert("it", [{"id": i, "v": [i, 0]} for i in range(100)])
    yield c
    c.close()


def _drain(iterator: Any, key: str = "id") -> list[Any]:
    seen: list[Any] = []
    while page := iterator.next():
        seen.extend(row[key] for row in page)
    return seen


def test_query_iterator_has_no_gaps_when_read_rows_are_deleted(client: MilvusClient) -> None:
    it = client.query_iterator("it", batch_size=10, filter="id >= 0", output_fields=["id"])
    seen = [row["id"] for row in it.next()]
    client.delete("it", ids=[0, 1, 2, 3, 4, 60])
    client.insert("it", [{"id": 1000 + i, "v": [0, 0]} for i in range(3)])
    seen += _drain(it)
    assert seen == list(range(100))


def test_query_iterator_limit_offset_and_varchar_keys(tmp_path: Path) -> None:
    c = MilvusClient(str(tmp_path / "s.db"), engine_options={"sync": False})
    c.create_collection("s", dimension=2, id_type="string", max_length=16)
    keys = [f'k"{i:03d}' for i in range(30)]  # a quote in every key
    c.insert("s", [{"id": k, "vector": [1, 0]} for k in keys])
    it = c.query_iterator("s", batch_size=7, limit=20, output_fields=["id"], offset=3)
    assert _drain(it) == keys[3:23]
    c.close()


def test_search_iterator_reads_one_snapshot(client: MilvusClient) -> None:
    it = client.search_iterator(
        "it", data=[[0, 0]], batch_size=10, limit=50, search_params={"metric_type": "L2"}
    )
    seen = [hit["id"] for hit in it.next()]
    client.delete("it", ids=seen[:5])
    client.insert("it", [{"id": 500 + i, "v": [0.5 + i * 0.01, 0]} for i in range(3)])
    seen += _drain(it)
    assert seen == list(range(50))


def test_invalid_consistency_level_is_a_parameter_error(client: MilvusClient) -> None:
    with pytest.raises(ParameterError, match="invalid consistency level: Strongest") as info:
        client.query("it", filter="id > 1", limit=1, consistency_level="Strongest")
    assert info.value.code == 1100
