"""Bad input over gRPC: pymilvus gets a MilvusException with Milvus's code, the
collection is unchanged and the server keeps serving."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from conftest import ServerProcess
from pymilvus import DataType, MilvusClient, MilvusException

NAME = "bad_input"


def _row(pk: int) -> dict[str, Any]:
    return {
        "pk": pk,
        "i8": pk % 100,
        "s": f"s{pk}",
        "j": {"k": pk},
        "arr": [pk, 1],
        "a8": [pk % 100],
        "i16": pk,
        "g": f"POINT ({pk} 1)",
        "fv": [float(pk), 1.0, 0.0, 0.5],
        "bv": bytes([pk % 256, 1]),
        "sv": {pk % 50: 0.5},
    }


@pytest.fixture(scope="module")
def bad_client(client: MilvusClient) -> MilvusClient:
    s = client.create_schema()
    s.add_field("pk", DataType.INT64, is_primary=True)
    s.add_field("i8", DataType.INT8)
    s.add_field("s", DataType.VARCHAR, max_length=8)
    s.add_field("j", DataType.JSON)
    s.add_field("arr", DataType.ARRAY, element_type=DataType.INT32, max_capacity=3)
    s.add_field("a8", DataType.ARRAY, element_type=DataType.INT8, max_capacity=3)
    s.add_field("i16", DataType.INT16)
    s.add_field("g", DataType.GEOMETRY, nullable=True)
    s.add_field("fv", DataType.FLOAT_VECTOR, dim=4)
    s.add_field("bv", DataType.BINARY_VECTOR, dim=16)
    s.add_field("sv", DataType.SPARSE_FLOAT_VECTOR)
    ip = client.prepare_index_params()
    ip.add_index("fv", index_type="FLAT", metric_type="L2")
    ip.add_index("bv", index_type="BIN_FLAT", metric_type="HAMMING")
    ip.add_index("sv", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    client.create_collection(NAME, schema=s, index_params=ip, consistency_level="Strong")
    client.insert(NAME, [_row(1), _row(2), _row(3)])
    return client


def _spoiled(field: str, value: Any) -> Callable[[MilvusClient], Any]:
    rows = [_row(10), {**_row(11), field: value}]
    return lambda c: c.insert(NAME, rows)


# (what, call, the Milvus code the server answers with, text the message contains)
CASES: list[tuple[str, Callable[[MilvusClient], Any], int, str]] = [
    ("INT8 out of range", _spoiled("i8", 300), 1100, "i8"),
    ("oversize VARCHAR", _spoiled("s", "x" * 20), 1100, "s"),
    ("over capacity ARRAY", _spoiled("arr", [1, 2, 3, 4]), 1100, "arr"),
    ("bad WKT", _spoiled("g", "POINT (1"), 1100, "g"),
    ("NaN in a float vector", _spoiled("fv", [math.nan, 0.0, 0.0, 0.0]), 1100, "fv"),
    ("short float vector", _spoiled("fv", [1.0, 2.0, 3.0]), 1100, "fv"),
    ("ARRAY<INT8> element out of range", _spoiled("a8", [1, 200]), 1100, "a8"),
    ("INT16 out of range", _spoiled("i16", -40000), 1100, "i16"),
    ("upsert oversize VARCHAR", lambda c: c.upsert(NAME, [{**_row(2), "s": "y" * 9}]), 1100, "s"),
    (
        "search with a short vector",
        lambda c: c.search(NAME, data=[[1.0, 2.0]], anns_field="fv", limit=2),
        1100,
        "",
    ),
    (
        "search an unknown field",
        lambda c: c.search(NAME, data=[[1.0] * 4], anns_field="nosuch", limit=2),
        1100,
        "nosuch",
    ),
    (
        "search with a broken filter",
        lambda c: c.search(NAME, data=[[1.0] * 4], anns_field="fv", filter="i8 <", limit=2),
        1100,
        "i8 <",
    ),
    ("query with a broken filter", lambda c: c.query(NAME, filter="s in [1,"), 1100, "s in [1,"),
    (
        "query an unknown output field",
        lambda c: c.query(NAME, filter="pk > 0", output_fields=["nosuch"]),
        1100,
        "nosuch",
    ),
    ("delete with string ids", lambda c: c.delete(NAME, ids=["a"]), 1100, ""),
]


def _content(c: MilvusClient) -> list[dict[str, Any]]:
    rows = c.query(NAME, filter="pk >= 0", output_fields=["pk", "i8", "i16", "s", "arr", "a8", "g"])
    return sorted((dict(r) for r in rows), key=lambda r: r["pk"])


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_request_is_a_milvus_error_and_the_server_keeps_serving(
    server: ServerProcess, bad_client: MilvusClient, case: Any
) -> None:
    what, call, code, text = case
    before = _content(bad_client)
    with pytest.raises(MilvusException) as info:
        call(bad_client)
    assert info.value.code == code, f"{what}: {info.value}"
    assert text in info.value.message, f"{what}: {info.value.message}"
    assert server.process.poll() is None, f"server died on {what}"
    assert _content(bad_client) == before
    hits = bad_client.search(NAME, data=[[1.0, 1.0, 0.0, 0.5]], anns_field="fv", limit=1)
    assert hits[0][0]["pk"] == 1
