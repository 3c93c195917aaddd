"""Search by primary keys on a nullable dense vector field: a key whose vector is
null gives a query that matches nothing; the other keys search as usual."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import SearchRequest, SearchResults
from elanus.engine.search_by_key import PrimaryKeyQueries
from elanus.schema import CollectionSchema, DataType, FieldSchema

VECTORS = [None, [1.0, 0.0], [0.9, 0.1], None, [0.0, 1.0]]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    schema = CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("color", DataType.VARCHAR, params={"max_length": 8}),
            FieldSchema("vec", DataType.FLOAT_VECTOR, nullable=True, params={"dim": 2}),
        ),
    )
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", schema)
        n = len(VECTORS)
        colors = ["red", "red", "blue", "blue", "red"]
        e.insert("default", "c", {"id": list(range(n)), "color": colors, "vec": VECTORS}, n)
        yield e


def by_keys(engine: Engine, *keys: int, group_by: str | None = None) -> SearchResults:
    request = SearchRequest(
        PrimaryKeyQueries(keys),
        "vec",
        limit=10,
        search_params={"metric_type": "L2"},
        group_by_field=group_by,
    )
    return engine.search("default", "c", request)


def test_a_key_whose_vector_is_null_gets_no_hits(engine: Engine) -> None:
    res = by_keys(engine, 0, 1, 3)
    assert res.topks[0] == 0 and res.topks[2] == 0
    # Key 1's own vector: every row with a vector, nearest first.
    assert res.topks[1] == 3
    assert [int(k) for k in res.ids] == [1, 2, 4]
    np.testing.assert_allclose(res.distances[0], 0.0, atol=1e-6)


def test_null_key_queries_drop_their_groups_too(engine: Engine) -> None:
    res = by_keys(engine, 3, 2, group_by="color")
    assert res.topks[0] == 0 and res.topks[1] == 2
    assert [int(k) for k in res.ids] == [2, 1]
