"""Nullable vector fields: rows without a vector are never hits and read back None."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from elanus import DataType, MilvusClient
from elanus.errors import ElanusError

N = 30


@pytest.fixture
def client(tmp_path: Path) -> Iterator[MilvusClient]:
    c = MilvusClient(str(tmp_path / "db"))
    yield c
    c.close()


def _is_null(i: int) -> bool:
    return i % 3 == 1


def _vector(dtype: DataType, i: int) -> Any:
    if dtype == DataType.FLOAT_VECTOR:
        return [float(i), 1.0, 0.0, 0.0]
    if dtype == DataType.FLOAT16_VECTOR:
        return np.array([i, 1, 0, 0], dtype=np.float16)
    if dtype == DataType.BINARY_VECTOR:
        return bytes([i % 256])
    return {1: float(i + 1), 7: 1.0}


CASES = [
    (DataType.FLOAT_VECTOR, {"dim": 4}, "HNSW", "L2"),
    (DataType.FLOAT16_VECTOR, {"dim": 4}, "FLAT", "L2"),
    (DataType.BINARY_VECTOR, {"dim": 8}, "BIN_FLAT", "HAMMING"),
    (DataType.SPARSE_FLOAT_VECTOR, {}, "SPARSE_INVERTED_INDEX", "IP"),
]


def _create(client: MilvusClient, dtype: DataType, kwargs: dict, index: str, metric: str) -> None:
    schema = MilvusClient.create_schema()
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("v", dtype, nullable=True, **kwargs)
    params = client.prepare_index_params()
    params.add_index("v", index_type=index, metric_type=metric)
    client.create_collection("c", schema=schema, index_params=params)
    rows = [{"pk": i, "v": None if _is_null(i) else _vector(dtype, i)} for i in range(N)]
    client.insert("c", rows)


def _hit_ids(client: MilvusClient, dtype: DataType) -> set[int]:
    query = _vector(dtype, 0)
    hits = client.search("c", [query], anns_field="v", limit=N, output_fields=["v"])[0]
    assert all(h["entity"]["v"] is not None for h in hits)
    return {int(h["pk"]) for h in hits}


@pytest.mark.parametrize(("dtype", "kwargs", "index", "metric"), CASES)
def test_null_vectors_are_never_hits_and_read_none(
    client: MilvusClient, dtype: DataType, kwargs: dict, index: str, metric: str
) -> None:
    _create(client, dtype, kwargs, index, metric)
    valid = {i for i in range(N) if not _is_null(i)}
    assert _hit_ids(client, dtype) <= valid
    client.flush("c")
    assert _hit_ids(client, dtype) <= valid
    rows = client.query("c", "pk >= 0", output_fields=["v"], limit=N)
    got = {r["pk"]: r["v"] for r in rows}
    assert all((got[i] is None) == _is_null(i) for i in range(N))
    assert client.query("c", "", output_fields=["count(*)"])[0]["count(*)"] == N


def test_exact_search_skips_null_vectors(client: MilvusClient) -> None:
    _create(client, DataType.FLOAT_VECTOR, {"dim": 4}, "FLAT", "L2")
    hits = client.search("c", [[1.0, 1.0, 0.0, 0.0]], anns_field="v", limit=N)[0]
    assert [h["pk"] for h in hits][:2] == [0, 2]
    assert len(hits) == N - sum(_is_null(i) for i in range(N))


def test_upsert_null_over_vector_and_back_survives_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    client = MilvusClient(path)
    _create(client, DataType.FLOAT_VECTOR, {"dim": 4}, "FLAT", "L2")
    client.flush("c")
    client.upsert("c", [{"pk": 0, "v": None}, {"pk": 1, "v": [1.0, 1.0, 0.0, 0.0]}])
    hits = client.search("c", [[0.0, 1.0, 0.0, 0.0]], anns_field="v", limit=3)[0]
    assert [h["pk"] for h in hits] == [1, 2, 3]
    client.flush("c")
    client.close()
    client = MilvusClient(path)
    client.load_collection("c")
    rows = client.query("c", "pk in [0, 1, 2]", output_fields=["v"])
    assert {r["pk"]: r["v"] for r in rows} == {
        0: None,
        1: [1.0, 1.0, 0.0, 0.0],
        2: [2.0, 1.0, 0.0, 0.0],
    }
    assert client.query("c", "", output_fields=["count(*)"])[0]["count(*)"] == N
    client.close()


def test_partial_upsert_keeps_a_null_vector(client: MilvusClient) -> None:
    schema = MilvusClient.create_schema()
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2, nullable=True)
    schema.add_field("n", DataType.INT64, nullable=True)
    params = client.prepare_index_params()
    params.add_index("v", index_type="FLAT", metric_type="L2")
    client.create_collection("c", schema=schema, index_params=params)
    client.insert("c", [{"pk": 1, "v": None, "n": 1}, {"pk": 2, "v": [1.0, 2.0], "n": 2}])
    client.upsert("c", [{"pk": 1, "n": 5}, {"pk": 2, "n": 6}], partial_update=True)
    rows = client.query("c", "pk > 0", output_fields=["v", "n"])
    assert {r["pk"]: (r["v"], r["n"]) for r in rows} == {1: (None, 5), 2: ([1.0, 2.0], 6)}


def test_missing_nullable_vector_column_is_all_null(client: MilvusClient) -> None:
    _create(client, DataType.FLOAT_VECTOR, {"dim": 4}, "FLAT", "L2")
    client.insert("c", [{"pk": 100}])
    assert client.query("c", "pk == 100", output_fields=["v"]) == [{"pk": 100, "v": None}]


def test_non_nullable_vector_refuses_null(client: MilvusClient) -> None:
    schema = MilvusClient.create_schema()
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    client.create_collection("c", schema=schema)
    with pytest.raises(ElanusError):
        client.insert("c", [{"pk": 1, "v": None}])
