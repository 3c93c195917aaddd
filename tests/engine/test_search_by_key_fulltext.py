"""Search by primary keys on a BM25 output field: each key's stored text is the query."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import SearchRequest, SearchResults
from elanus.engine.search_by_key import PrimaryKeyQueries
from elanus.errors import ParameterError
from elanus.schema import CollectionSchema, DataType, FieldSchema, FunctionSchema, FunctionType

TEXTS = [None, "quick brown fox", "quick dog", "lazy brown dog", "", "fox"]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    schema = CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema(
                "text",
                DataType.VARCHAR,
                nullable=True,
                params={"max_length": 200, "enable_analyzer": True},
            ),
            FieldSchema("sparse", DataType.SPARSE_FLOAT_VECTOR, is_function_output=True),
        ),
        functions=(FunctionSchema("bm25", FunctionType.BM25, ("text",), ("sparse",)),),
    )
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", schema)
        e.insert("default", "c", {"id": list(range(len(TEXTS))), "text": TEXTS}, len(TEXTS))
        yield e


def by_keys(engine: Engine, *keys: int) -> SearchResults:
    request = SearchRequest(
        PrimaryKeyQueries(keys), "sparse", limit=10, search_params={"metric_type": "BM25"}
    )
    return engine.search("default", "c", request)


def per_query(res: SearchResults) -> list[set[int]]:
    out, at = [], 0
    for n in res.topks:
        out.append({int(k) for k in res.ids[at : at + n]})
        at += n
    return out


def test_each_key_searches_with_its_own_text(engine: Engine) -> None:
    res = by_keys(engine, 2, 5)
    assert per_query(res) == [{1, 2, 3}, {1, 5}]


def test_a_key_whose_text_is_null_or_empty_gets_no_hits(engine: Engine) -> None:
    res = by_keys(engine, 0, 1, 4)
    assert res.nq == 3
    assert per_query(res) == [set(), {1, 2, 3, 5}, set()]


def test_a_missing_key_is_an_error(engine: Engine) -> None:
    with pytest.raises(ParameterError, match=r"missing IDs = \[99\]"):
        by_keys(engine, 1, 99)
