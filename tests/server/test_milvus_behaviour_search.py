"""Search behaviours Milvus's own client suite checks, held against a real ``elanus
serve``: ORDER BY on search (scalar, dynamic and JSON-path keys, nulls, offset and
grouping) and its refusals."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from pymilvus import DataType, MilvusClient, MilvusException


@pytest.fixture
def fresh(client: MilvusClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A collection name unique to the test, dropped afterwards."""
    name = "bs_" + re.sub(r"\W", "_", request.node.name)
    yield name
    client.drop_collection(name)


def _shop(client: MilvusClient, name: str, *, dynamic: bool = True) -> None:
    """Five items on a line: item 1 is closest to [1, 0], item 5 farthest."""
    schema = client.create_schema(auto_id=False, enable_dynamic_field=dynamic)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("kind", DataType.VARCHAR, max_length=8)
    schema.add_field("cost", DataType.INT64)
    schema.add_field("stars", DataType.DOUBLE, nullable=True)
    schema.add_field("info", DataType.JSON)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index(field_name="v", index_type="FLAT", metric_type="IP")
    client.create_collection(name, schema=schema, index_params=index)
    rows = [
        (1, "x", 50, 4.0, 7),
        (2, "x", 20, None, 3),
        (3, "y", 40, 1.0, 9),
        (4, "z", 10, 4.0, 1),
        (5, "y", 30, 2.0, 5),
    ]
    client.insert(
        name,
        [
            {
                "id": i,
                "kind": kind,
                "cost": cost,
                "stars": stars,
                "info": {"size": size, "deep": {"w": -size}},
                **({"extra": size * 2} if dynamic else {}),
                "v": [1.0 - i / 10, 0.0],
            }
            for i, kind, cost, stars, size in rows
        ],
    )


def _ids(client: MilvusClient, name: str, order: list[dict[str, str]], **kw: object) -> list[int]:
    res = client.search(
        name, [[1.0, 0.0]], anns_field="v", order_by_fields=order, output_fields=["cost"], **kw
    )
    return [hit["id"] for hit in res[0]]


def test_order_by_sorts_the_best_hits_then_pages(client: MilvusClient, fresh: str) -> None:
    _shop(client, fresh)
    # the 3 best hits (1, 2, 3) re-sorted by cost, then the first skipped
    assert _ids(client, fresh, [{"field": "cost", "order": "asc"}], limit=2, offset=1) == [3, 1]
    assert _ids(client, fresh, [{"field": "cost", "order": "descending"}], limit=5) == [
        1,
        3,
        5,
        2,
        4,
    ]
    res = client.search(
        fresh,
        [[1.0, 0.0]],
        anns_field="v",
        limit=5,
        order_by_fields=[{"field": "cost", "order": "asc"}],
        output_fields=["kind"],
    )
    # the key is not added to the entity when not asked for
    assert set(res[0][0]["entity"]) == {"kind"}


def test_order_by_several_keys_and_nulls(client: MilvusClient, fresh: str) -> None:
    _shop(client, fresh)
    both = [{"field": "stars", "order": "desc"}, {"field": "cost", "order": "asc"}]
    # descending: nulls first, then 4.0 (cost 10 before 50), 2.0, 1.0
    assert _ids(client, fresh, both, limit=5) == [2, 4, 1, 5, 3]
    # ascending: nulls last
    assert _ids(client, fresh, [{"field": "stars", "order": "asc"}], limit=5)[-1] == 2


def test_order_by_json_path_and_dynamic_key(client: MilvusClient, fresh: str) -> None:
    _shop(client, fresh)
    # info["size"] ascending: 1, 3, 5, 7, 9 -> ids 4, 2, 5, 1, 3
    assert _ids(client, fresh, [{"field": 'info["size"]', "order": "asc"}], limit=5) == [
        4,
        2,
        5,
        1,
        3,
    ]
    assert _ids(client, fresh, [{"field": 'info["deep"]["w"]', "order": "desc"}], limit=5) == [
        4,
        2,
        5,
        1,
        3,
    ]
    assert _ids(client, fresh, [{"field": "extra", "order": "asc"}], limit=5) == [4, 2, 5, 1, 3]


def test_order_by_with_grouping_orders_groups_by_their_best_hit(
    client: MilvusClient, fresh: str
) -> None:
    _shop(client, fresh)
    res = client.search(
        fresh,
        [[1.0, 0.0]],
        anns_field="v",
        limit=2,
        offset=1,
        group_by_field="kind",
        order_by_fields=[{"field": "cost", "order": "asc"}],
        output_fields=["kind", "cost"],
    )
    # group heads by score: x (id 1, 50), y (id 3, 40), z (id 4, 10); by cost z, y, x
    assert [hit["id"] for hit in res[0]] == [3, 1]


@pytest.mark.parametrize(
    ("order", "message"),
    [
        ({"field": "nope", "order": "asc"}, "order_by field 'nope' does not exist in collection"),
        ({"field": "v", "order": "asc"}, "order_by field 'v' has unsortable type FloatVector"),
        ({"field": "info", "order": "asc"}, "unsortable type JSON"),
        ({"field": "info[bad", "order": "asc"}, "does not exist in collection schema"),
        ({"field": "cost", "order": "up"}, "invalid order direction 'up' for field 'cost'"),
    ],
)
def test_order_by_refusals(
    client: MilvusClient, fresh: str, order: dict[str, str], message: str
) -> None:
    _shop(client, fresh, dynamic=False)
    with pytest.raises(MilvusException, match=re.escape(message)):
        _ids(client, fresh, [order], limit=3)


def test_order_by_unknown_name_on_a_dynamic_collection_is_a_dynamic_key(
    client: MilvusClient, fresh: str
) -> None:
    _shop(client, fresh)
    # no row has the key: every value is null, the score order stands
    assert _ids(client, fresh, [{"field": "nope", "order": "asc"}], limit=3) == [1, 2, 3]
