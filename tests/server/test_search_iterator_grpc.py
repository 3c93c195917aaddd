"""pymilvus's search iterator (v2) against a real ``elanus serve``: one snapshot per
iterator, every row exactly once, ties at page bounds kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient, MilvusException

from elanus.errors import ParameterError
from elanus.server.iterators import IteratorPageRequest, iterator_page_request

DIM = 4
ROWS = 400
RNG = np.random.default_rng(3)
VECTORS = RNG.random((ROWS, DIM), dtype=np.float32)
# Blocks of equal vectors give many equal distances, so page bounds fall on ties.
VECTORS[100:160] = VECTORS[0]
VECTORS[200:230] = VECTORS[1]


def _rows(ids: range) -> list[dict[str, Any]]:
    return [{"id": i, "vec": VECTORS[i % ROWS].tolist(), "n": i} for i in ids]


@pytest.fixture(scope="module")
def points(client: MilvusClient) -> Iterator[str]:
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("n", DataType.INT64)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    index = client.prepare_index_params()
    index.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection(
        "iter_points", schema=schema, index_params=index, consistency_level="Strong"
    )
    client.insert("iter_points", _rows(range(0, 250)))
    client.flush("iter_points")
    client.insert("iter_points", _rows(range(250, ROWS)))  # stays in a growing segment
    yield "iter_points"
    client.drop_collection("iter_points")


def _drain(iterator: Any) -> tuple[list[int], list[float]]:
    ids: list[int] = []
    distances: list[float] = []
    while page := iterator.next():
        ids.extend(hit["id"] for hit in page)
        distances.extend(hit["distance"] for hit in page)
    iterator.close()
    return ids, distances


def test_iterator_is_served_by_the_server_and_covers_every_row(
    client: MilvusClient, points: str
) -> None:
    iterator = client.search_iterator(points, [VECTORS[0].tolist()], batch_size=37)
    assert type(iterator).__name__ == "SearchIteratorV2"
    ids, distances = _drain(iterator)
    assert sorted(ids) == list(range(ROWS))
    assert np.all(np.diff(distances) >= 0)


def test_changes_during_iteration_are_not_seen(client: MilvusClient, points: str) -> None:
    iterator = client.search_iterator(
        points, [VECTORS[1].tolist()], batch_size=50, output_fields=["n"]
    )
    first = iterator.next()
    ids = [hit["id"] for hit in first]
    # Rows written and deleted after the first page do not change what the
    # iterator returns: it reads the snapshot of its first page.
    client.insert(points, _rows(range(ROWS, ROWS + 80)))
    client.delete(points, filter="id >= 300 and id < 350")
    client.upsert(points, [{"id": 5, "vec": VECTORS[1].tolist(), "n": -5}])
    rest, _ = _drain(iterator)
    ids.extend(rest)
    assert len(ids) == len(set(ids))
    assert sorted(ids) == list(range(ROWS))
    # A new iterator sees the new state.
    fresh, _ = _drain(client.search_iterator(points, [VECTORS[1].tolist()], batch_size=64))
    assert sorted(fresh) == sorted(set(range(ROWS + 80)) - set(range(300, 350)))


def test_limit_and_filter(client: MilvusClient, points: str) -> None:
    iterator = client.search_iterator(
        points, [VECTORS[2].tolist()], batch_size=16, limit=70, filter="n % 2 == 0"
    )
    ids, _ = _drain(iterator)
    assert len(ids) == len(set(ids)) == 70
    assert all(i % 2 == 0 for i in ids)


def test_page_parameters_are_read_from_search_params() -> None:
    assert iterator_page_request({"topk": "10"}) is None
    page = iterator_page_request(
        {
            "search_iter_v2": "True",
            "search_iter_batch_size": "20",
            "search_iter_id": "abc",
            "search_iter_last_bound": "0.25",
        }
    )
    assert page == IteratorPageRequest(20, "abc", 0.25)
    with pytest.raises(ParameterError):
        iterator_page_request({"search_iter_v2": "True", "search_iter_batch_size": "x"})


def test_unknown_token_over_the_wire(client: MilvusClient, points: str) -> None:
    with pytest.raises(MilvusException, match="unknown or expired"):
        client.search(
            points,
            [VECTORS[0].tolist()],
            limit=5,
            search_params={"metric_type": "L2"},
            iterator=True,
            search_iter_v2=True,
            search_iter_batch_size=5,
            search_iter_id="not-a-token",
            search_iter_last_bound=0.5,
        )


def test_query_iterator_reads_one_snapshot(client: MilvusClient, points: str) -> None:
    iterator = client.query_iterator(points, batch_size=60, filter="id >= 0", output_fields=["n"])
    ids = [row["id"] for row in iterator.next()]
    client.insert(points, _rows(range(ROWS + 100, ROWS + 140)))
    client.delete(points, filter="id >= 380 and id < 400")
    while page := iterator.next():
        ids.extend(row["id"] for row in page)
    iterator.close()
    assert len(ids) == len(set(ids))
    # Exactly the rows live when the iterator started (earlier tests changed some).
    fresh = client.query_iterator(points, batch_size=500, filter="id >= 0")
    now = {row["id"] for row in fresh.next()}
    fresh.close()
    assert set(ids) == (now - set(range(ROWS + 100, ROWS + 140))) | set(range(380, 400))
