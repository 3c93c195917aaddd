"""Auto-generated primary keys, alone and beside every kind of field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from elanus import DataType, MilvusClient


@pytest.fixture
def client(tmp_path: Path) -> MilvusClient:
    c = MilvusClient(str(tmp_path / "db"))
    yield c
    c.close()


def _collection(client: MilvusClient, name: str, extra: tuple[str, DataType, dict]) -> None:
    schema = MilvusClient.create_schema(auto_id=True)
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    field, dtype, kwargs = extra
    schema.add_field(field, dtype, **kwargs)
    index = client.prepare_index_params()
    index.add_index("v", metric_type="L2")
    if dtype == DataType.FLOAT16_VECTOR:
        index.add_index(field, index_type="HNSW", metric_type="L2")
    if dtype == DataType.BINARY_VECTOR:
        index.add_index(field, index_type="BIN_FLAT", metric_type="HAMMING")
    client.create_collection(name, schema=schema, index_params=index)


@pytest.mark.parametrize(
    ("extra", "value"),
    [
        (("h", DataType.FLOAT16_VECTOR, {"dim": 4}), np.ones(4, dtype=np.float16)),
        (("b", DataType.BINARY_VECTOR, {"dim": 16}), bytes([1, 2])),
        (("a", DataType.ARRAY, {"element_type": DataType.INT32, "max_capacity": 4}), [1, 2]),
        (("g", DataType.GEOMETRY, {}), "POINT (1 2)"),
        (("j", DataType.JSON, {}), {"a": 1}),
        (("s", DataType.VARCHAR, {"max_length": 8}), "abc"),
    ],
    ids=lambda x: x[1].name if isinstance(x, tuple) else "",
)
def test_auto_id_insert_then_read_back(client: MilvusClient, extra: tuple, value: object) -> None:
    _collection(client, "c", extra)
    first = client.insert("c", [{"v": [1.0, 2.0], extra[0]: value}])
    second = client.insert("c", [{"v": [3.0, 4.0], extra[0]: value}] * 3)
    assert first["insert_count"] == 1 and second["insert_count"] == 3
    ids = first["ids"] + second["ids"]
    assert len(set(ids)) == 4 and all(isinstance(i, int) for i in ids)
    rows = client.query("c", filter=f"pk in {ids}", output_fields=["pk"])
    assert sorted(r["pk"] for r in rows) == sorted(ids)
    client.flush("c")
    assert client.query("c", filter="", output_fields=["count(*)"])[0]["count(*)"] == 4


def test_auto_id_rows_survive_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    c = MilvusClient(path)
    _collection(c, "c", ("s", DataType.VARCHAR, {"max_length": 8}))
    ids = c.insert("c", [{"v": [1.0, 2.0], "s": "x"}, {"v": [2.0, 1.0], "s": "y"}])["ids"]
    c.close()
    c = MilvusClient(path)
    got = c.query("c", filter="", output_fields=["pk", "s"], limit=10)
    assert sorted(r["pk"] for r in got) == sorted(ids)
    c.close()
