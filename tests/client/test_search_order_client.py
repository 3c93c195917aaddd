"""Search ORDER BY through the embedded MilvusClient: ``order_by_fields`` as pymilvus
takes it (a list of {"field", "order"}), across segments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from elanus import DataType, MilvusClient
from elanus.errors import ElanusError

COSTS = [50, 20, 40, 10, 30, 60]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[MilvusClient]:
    c = MilvusClient(str(tmp_path / "order.db"))
    s = c.create_schema(enable_dynamic_field=True)
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    s.add_field("cost", DataType.INT64)
    ip = c.prepare_index_params()
    ip.add_index("vec", index_type="FLAT", metric_type="L2")
    c.create_collection("c", schema=s, index_params=ip)
    # id 0 is nearest to [0, 0], id 5 farthest; two segments
    rows = [
        {"id": i, "vec": [float(i), 0.0], "cost": cost, "tag": {"w": -cost}}
        for i, cost in enumerate(COSTS)
    ]
    c.insert("c", rows[:3])
    c.flush("c")
    c.insert("c", rows[3:])
    yield c
    c.close()


def _ids(client: MilvusClient, **kw: object) -> list[int]:
    res = client.search("c", [[0.0, 0.0]], anns_field="vec", **kw)
    return [hit["id"] for hit in res[0]]


def test_embedded_search_orders_the_best_hits(client: MilvusClient) -> None:
    order = [{"field": "cost", "order": "asc"}]
    # best 4: ids 0..3 (costs 50, 20, 40, 10) -> by cost 3, 1, 2, 0 -> skip 1
    assert _ids(client, limit=3, offset=1, order_by_fields=order) == [1, 2, 0]
    by_path = [{"field": 'tag["w"]', "order": "desc"}]
    assert _ids(client, limit=4, order_by_fields=by_path) == [3, 1, 2, 0]
    assert _ids(client, limit=4, order_by_fields=[]) == [0, 1, 2, 3]


def test_embedded_search_order_refusals(client: MilvusClient) -> None:
    with pytest.raises(ElanusError, match="'field' key is required"):
        _ids(client, limit=3, order_by_fields=[{"order": "asc"}])
    with pytest.raises(ElanusError, match="unsortable type FloatVector"):
        _ids(client, limit=3, order_by_fields=[{"field": "vec"}])
