"""``partitionkey.isolation``: a search must pin one partition-key value, refused
otherwise with Milvus's wording; the setting needs a partition key and no vector index
to change."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import HybridSearchRequest, IndexSpec, RankerSpec, SearchRequest
from elanus.errors import ParameterError
from elanus.schema import CollectionSchema, DataType, FieldSchema

DB = "default"
ISOLATED = {"partitionkey.isolation": "true"}


def _schema(partition_key: bool = True) -> CollectionSchema:
    return CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 2}),
            FieldSchema(
                "tenant", DataType.VARCHAR, params={"max_length": 8}, is_partition_key=partition_key
            ),
            FieldSchema("n", DataType.INT64),
        )
    )


def _search(e: Engine, expression: str) -> list[int]:
    request = SearchRequest(
        np.ones((1, 2), dtype=np.float32),
        anns_field="vec",
        limit=20,
        filter=expression,
        search_params={"metric_type": "L2"},
    )
    return sorted(np.asarray(e.search(DB, "c", request).ids).tolist())


@pytest.fixture()
def engine(tmp_path: Path) -> Engine:
    e = Engine.open(str(tmp_path))
    e.create_collection(DB, "c", _schema(), properties=ISOLATED)
    n = 12
    columns = {
        "id": list(range(n)),
        "vec": np.ones((n, 2), dtype=np.float32),
        "tenant": ["a", "b", "c"] * 4,
        "n": list(range(n)),
    }
    e.insert(DB, "c", columns, n)
    return e


def test_a_search_pinned_to_one_key_value_runs(engine: Engine) -> None:
    assert _search(engine, 'tenant == "a"') == [0, 3, 6, 9]
    assert _search(engine, 'tenant == "b" and n > 4') == [7, 10]
    assert _search(engine, '"c" == tenant and (n < 3 or n > 10)') == [2, 11]
    engine.close()


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "",
            "partition key not found in expr or the expr is invalid when validating "
            "partition key isolation",
        ),
        ("n > 3", "partition key not found in expr"),
        ('tenant in ["a", "b"]', "partition key isolation does not support IN"),
        ('tenant not in ["a"]', "partition key isolation does not support IN"),
        ('tenant == "a" or n == 1', "partition key isolation does not support OR"),
        ('tenant != "a"', "partition key isolation does not support NotEqual"),
        ('not (tenant == "a" and n > 1)', "partition key isolation does not support NOT"),
        ('tenant > "a"', "partition key isolation does not support GreaterThan"),
    ],
)
def test_a_search_not_pinned_to_one_key_value_is_refused(
    engine: Engine, expression: str, message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        _search(engine, expression)
    leg = SearchRequest(
        np.ones((1, 2), dtype=np.float32),
        anns_field="vec",
        limit=5,
        filter=expression,
        search_params={"metric_type": "L2"},
    )
    with pytest.raises(ParameterError, match=message):
        engine.hybrid_search(DB, "c", HybridSearchRequest([leg, leg], RankerSpec("rrf"), limit=5))
    with pytest.raises(ParameterError, match=message):
        engine.search_iterator_page(DB, "c", leg, batch_size=5)
    engine.close()


def test_without_isolation_any_filter_searches(engine: Engine) -> None:
    engine.drop_index(DB, "c", "vec")
    engine.alter_collection_properties(DB, "c", {"partitionkey.isolation": "false"})
    engine.create_index(DB, "c", IndexSpec("vec", "FLAT", "vec", "L2"))
    assert _search(engine, 'tenant in ["a", "b"]') == [0, 1, 3, 4, 6, 7, 9, 10]
    engine.close()


def test_isolation_needs_a_partition_key_and_no_vector_index(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)) as e:
        message = "partition key isolation mode is enabled but no partition key field is set"
        with pytest.raises(ParameterError, match=message) as info:
            e.create_collection(DB, "plain", _schema(partition_key=False), properties=ISOLATED)
        assert info.value.code == 1100
        e.create_collection(DB, "plain", _schema(partition_key=False))
        with pytest.raises(ParameterError, match=message):
            e.alter_collection_properties(DB, "plain", ISOLATED)
        with pytest.raises(ParameterError, match="failed to parse partition key isolation"):
            e.alter_collection_properties(DB, "plain", {"partitionkey.isolation": "maybe"})
        e.create_collection(DB, "c", _schema(), indexes=[IndexSpec("vec", "FLAT", "vec", "L2")])
        with pytest.raises(
            ParameterError,
            match="can not alter partition key isolation mode if the collection already has a "
            "vector index",
        ) as info:
            e.alter_collection_properties(DB, "c", ISOLATED)
        assert info.value.code == 702
        e.alter_collection_properties(DB, "c", {"partitionkey.isolation": "false"})  # no change
        e.release_collection(DB, "c")
        e.drop_index(DB, "c", "vec")
        e.alter_collection_properties(DB, "c", ISOLATED)
        assert e.describe_collection(DB, "c").properties["partitionkey.isolation"] == "true"
