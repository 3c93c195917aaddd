"""Aggregation queries through real pymilvus over gRPC, compared with the embedded
client on the same rows: ``group_by_fields`` and count/sum/min/max/avg output
fields, their Python types, nulls, and Milvus's refusals with their codes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pymilvus import DataType, MilvusClient, MilvusException

from elanus import MilvusClient as EmbeddedClient
from elanus.errors import ElanusError

NAME = "agg"
N = 400


def _rows() -> list[dict[str, Any]]:
    rows = []
    for i in range(N):
        rows.append(
            {
                "pk": f"k{i:04d}",
                "cat": "ABCDE"[i % 5],
                "region": None if i % 7 == 0 else ["n", "s", "e"][i % 3],
                "level": None if i % 11 == 0 else i % 4,
                "score": None if i % 6 == 0 else float(i % 13) / 2,
                "weight": float(i % 3),
                "qty": i % 17,
                "at": f"2025-01-{1 + i % 28:02d}T00:00:00Z",
                "vec": [float(i % 5), 1.0],
            }
        )
    return rows


def _create(client: Any) -> None:
    schema = client.create_schema()
    schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=16)
    schema.add_field("cat", DataType.VARCHAR, max_length=8)
    schema.add_field("region", DataType.VARCHAR, max_length=8, nullable=True)
    schema.add_field("level", DataType.INT16, nullable=True)
    schema.add_field("score", DataType.DOUBLE, nullable=True)
    schema.add_field("weight", DataType.FLOAT)
    schema.add_field("qty", DataType.INT64)
    schema.add_field("at", DataType.TIMESTAMPTZ)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection(NAME, schema=schema, index_params=index, consistency_level="Strong")
    rows = _rows()
    client.insert(NAME, rows[: N // 2])
    client.flush(NAME)
    client.insert(NAME, rows[N // 2 :])


@pytest.fixture(scope="module")
def remote(server: Any) -> Iterator[MilvusClient]:
    client = MilvusClient(uri=server.uri)
    _create(client)
    yield client
    client.close()


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedClient]:
    client = EmbeddedClient(str(Path(tmp_path_factory.mktemp("agg")) / "agg.db"))
    _create(client)
    yield client
    client.close()


QUERIES: list[dict[str, Any]] = [
    {"group_by_fields": ["cat"], "output_fields": ["cat", "count(*)", "sum(qty)", "avg(score)"]},
    {
        "group_by_fields": ["region", "level"],
        "output_fields": ["region", "level", "min(score)", "max(weight)", "count(level)"],
    },
    {"group_by_fields": [], "output_fields": ["count(*)", "count(score)", "sum(weight)"]},
    {"filter": "qty > 10", "group_by_fields": ["cat"], "output_fields": ["max(cat)", "sum(level)"]},
    {
        "group_by_fields": ["region"],
        "output_fields": ["region", "COUNT(qty)"],
        "limit": 2,
        "order_by_fields": [{"field": "region", "order": "desc"}],
    },
    {"filter": "qty > 1000", "group_by_fields": ["cat"], "output_fields": ["cat", "count(*)"]},
]


@pytest.mark.parametrize("query", QUERIES)
def test_grpc_answers_as_the_embedded_client(
    remote: MilvusClient, local: EmbeddedClient, query: dict[str, Any]
) -> None:
    args = {"filter": ""} | query
    over_grpc = [dict(r) for r in remote.query(NAME, **args)]
    embedded = [dict(r) for r in local.query(NAME, **args)]
    assert over_grpc == embedded
    for a, b in zip(over_grpc, embedded):
        assert {k: type(v) for k, v in a.items()} == {k: type(v) for k, v in b.items()}


def test_timestamp_min_max(remote: MilvusClient, local: EmbeddedClient) -> None:
    args: dict[str, Any] = {
        "filter": "",
        "group_by_fields": ["cat"],
        "output_fields": ["cat", "min(at)", "max(at)"],
    }
    over_grpc = remote.query(NAME, **args)
    assert over_grpc[0] == {
        "cat": "A",
        "min(at)": "2025-01-01T00:00:00Z",
        "max(at)": "2025-01-28T00:00:00Z",
    }
    # The embedded client writes the same instants in Python's ISO form.
    embedded = local.query(NAME, **args)
    for a, b in zip(over_grpc, embedded):
        for key in ("min(at)", "max(at)"):
            assert datetime.fromisoformat(a[key]) == datetime.fromisoformat(b[key])


def test_values_and_types_over_grpc(remote: MilvusClient) -> None:
    rows = _rows()
    got = remote.query(
        NAME,
        filter="",
        group_by_fields=["region"],
        output_fields=["region", "count(*)", "count(score)", "sum(qty)", "avg(qty)", "sum(weight)"],
    )
    by_region = {r["region"]: r for r in got}
    assert set(by_region) == {"n", "s", "e", None}
    for region, row in by_region.items():
        part = [r for r in rows if r["region"] == region]
        assert row["count(*)"] == len(part)
        assert row["count(score)"] == sum(r["score"] is not None for r in part)
        assert row["sum(qty)"] == sum(r["qty"] for r in part)
        assert isinstance(row["sum(qty)"], int)
        assert isinstance(row["avg(qty)"], float)
        assert row["avg(qty)"] == pytest.approx(sum(r["qty"] for r in part) / len(part))
        assert isinstance(row["sum(weight)"], float)


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        (
            {"group_by_fields": ["score"], "output_fields": ["score", "count(qty)"]},
            1100,
            "group by field score has unsupported data type Double",
        ),
        (
            {"group_by_fields": ["cat"], "output_fields": ["cat", "sum(region)"]},
            65535,
            "aggregation operator sum does not support data type VarChar",
        ),
        (
            {"group_by_fields": ["cat"], "output_fields": ["cat", "qty", "count(*)"]},
            1100,
            "output field 'qty' is not allowed",
        ),
        (
            {"output_fields": ["count(*)"], "limit": 3},
            1100,
            "count entities with pagination is not allowed",
        ),
    ],
)
def test_refusals_over_grpc_and_embedded(
    remote: MilvusClient, local: EmbeddedClient, query: dict[str, Any], code: int, message: str
) -> None:
    with pytest.raises(MilvusException) as remote_error:
        remote.query(NAME, filter="", **query)
    assert remote_error.value.code == code
    assert message in remote_error.value.message
    with pytest.raises(ElanusError) as local_error:
        local.query(NAME, filter="", **query)
    assert local_error.value.code == code
    assert message in str(local_error.value)
