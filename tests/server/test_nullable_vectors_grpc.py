"""Nullable vector fields through real pymilvus over gRPC: ``valid_data`` both ways."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient

N = 12

CASES = [
    ("fv", DataType.FLOAT_VECTOR, {"dim": 4}, "FLAT", "L2"),
    ("hv", DataType.FLOAT16_VECTOR, {"dim": 4}, "FLAT", "L2"),
    ("bv", DataType.BINARY_VECTOR, {"dim": 8}, "BIN_FLAT", "HAMMING"),
    ("sv", DataType.SPARSE_FLOAT_VECTOR, {}, "SPARSE_INVERTED_INDEX", "IP"),
]


def _vector(dtype: DataType, i: int) -> Any:
    if dtype == DataType.FLOAT_VECTOR:
        return [float(i), 1.0, 0.0, 0.0]
    if dtype == DataType.FLOAT16_VECTOR:
        return np.array([i, 1, 0, 0], dtype=np.float16)
    if dtype == DataType.BINARY_VECTOR:
        return bytes([i])
    return {1: float(i + 1)}


def _is_null(i: int) -> bool:
    return i % 3 == 1


@pytest.mark.parametrize(("name", "dtype", "kwargs", "index", "metric"), CASES)
def test_null_vectors_round_trip_over_grpc(
    server: Any, name: str, dtype: DataType, kwargs: dict, index: str, metric: str
) -> None:
    client = MilvusClient(uri=server.uri)
    schema = client.create_schema()
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("v", dtype, nullable=True, **kwargs)
    params = client.prepare_index_params()
    params.add_index("v", index_type=index, metric_type=metric)
    client.create_collection(name, schema=schema, index_params=params)
    rows = [{"pk": i, "v": None if _is_null(i) else _vector(dtype, i)} for i in range(N)]
    assert client.insert(name, rows)["insert_count"] == N
    valid = {i for i in range(N) if not _is_null(i)}
    for flush in (False, True):
        if flush:
            client.flush(name)
        hits = client.search(
            name, [_vector(dtype, 0)], anns_field="v", limit=N, output_fields=["v"]
        )
        assert {int(h["pk"]) for h in hits[0]} <= valid
        assert all(h["entity"]["v"] is not None for h in hits[0])
        got = client.query(name, "pk >= 0", output_fields=["v"], limit=N)
        assert {r["pk"] for r in got if r["v"] is None} == set(range(N)) - valid
    assert client.query(name, "", output_fields=["count(*)"])[0]["count(*)"] == N
    client.upsert(name, [{"pk": 0, "v": None}, {"pk": 1, "v": _vector(dtype, 1)}])
    got = {r["pk"]: r["v"] for r in client.query(name, "pk in [0, 1]", output_fields=["v"])}
    assert got[0] is None and got[1] is not None
    client.drop_collection(name)
    client.close()


def test_float_vectors_read_back_exactly(server: Any) -> None:
    client = MilvusClient(uri=server.uri)
    schema = client.create_schema()
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2, nullable=True)
    params = client.prepare_index_params()
    params.add_index("v", index_type="FLAT", metric_type="L2")
    client.create_collection("exact", schema=schema, index_params=params)
    client.insert("exact", [{"pk": 1, "v": None}, {"pk": 2, "v": [1.0, 2.0]}, {"pk": 3, "v": None}])
    rows = client.query("exact", "pk > 0", output_fields=["v"])
    assert {r["pk"]: r["v"] for r in rows} == {1: None, 2: [1.0, 2.0], 3: None}
    hits = client.search("exact", [[0.0, 0.0]], anns_field="v", limit=3)
    assert [h["pk"] for h in hits[0]] == [2]
    client.drop_collection("exact")
    client.close()
