"""Aggregation queries through the embedded MilvusClient: the arguments as pymilvus
takes them (``group_by_fields`` a list, ``order_by_fields`` a list of dicts)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from elanus import DataType, MilvusClient
from elanus.errors import ElanusError


@pytest.fixture
def client(tmp_path: Path) -> Iterator[MilvusClient]:
    c = MilvusClient(str(tmp_path / "agg.db"))
    s = c.create_schema()
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    s.add_field("color", DataType.VARCHAR, max_length=8, nullable=True)
    s.add_field("price", DataType.INT32)
    ip = c.prepare_index_params()
    ip.add_index("vec", index_type="FLAT", metric_type="L2")
    c.create_collection("c", schema=s, index_params=ip)
    colors = ["red", "blue", None, "red", "green", "blue", "red"]
    rows = [
        {"id": i, "vec": [float(i), 0.0], "color": color, "price": 10 * (i + 1)}
        for i, color in enumerate(colors)
    ]
    c.insert("c", rows[:4])
    c.flush("c")
    c.insert("c", rows[4:])
    yield c
    c.close()


def test_group_by_with_aggregates(client: MilvusClient) -> None:
    rows = client.query(
        "c", group_by_fields=["color"], output_fields=["color", "count(*)", "sum(price)"]
    )
    assert rows == [
        {"color": "blue", "count(*)": 2, "sum(price)": 80},
        {"color": "green", "count(*)": 1, "sum(price)": 50},
        {"color": "red", "count(*)": 3, "sum(price)": 120},
        {"color": None, "count(*)": 1, "sum(price)": 30},
    ]


def test_grouped_query_without_output_fields_answers_its_groups(client: MilvusClient) -> None:
    rows = client.query("c", filter="price > 0", group_by_fields=["color"])
    assert [r["color"] for r in rows] == ["blue", "green", "red", None]


def test_order_by_fields_on_a_group_field(client: MilvusClient) -> None:
    rows = client.query(
        "c",
        group_by_fields=["color"],
        output_fields=["color", "max(price)"],
        order_by_fields=[{"field": "color", "order": "desc"}],
        limit=2,
    )
    assert rows == [{"color": None, "max(price)": 30}, {"color": "red", "max(price)": 70}]


def test_global_aggregation_needs_no_limit(client: MilvusClient) -> None:
    assert client.query("c", output_fields=["count(color)", "avg(price)", "min(color)"]) == [
        {"count(color)": 6, "avg(price)": 40.0, "min(color)": "blue"}
    ]


def test_group_by_fields_must_be_a_list(client: MilvusClient) -> None:
    with pytest.raises(ElanusError, match="group_by_fields must be a list"):
        client.query("c", group_by_fields="color", output_fields=["count(*)"])  # type: ignore[arg-type]
