"""``query_mode=large_topk`` through the engine: the property's checks, the wider
search / query / hybrid window it gives, and the rule that it changes only while
the collection has no vector index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import (
    HybridSearchRequest,
    IndexSpec,
    QueryRequest,
    RankerSpec,
    SearchRequest,
)
from elanus.errors import ParameterError
from elanus.schema import CollectionSchema, DataType, FieldSchema

DB = "default"
ROWS = 17_000
LARGE = {"query_mode": "large_topk"}


def _schema() -> CollectionSchema:
    return CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("v", DataType.FLOAT_VECTOR, params={"dim": 4}),
            FieldSchema("w", DataType.FLOAT_VECTOR, params={"dim": 4}),
        )
    )


def _fill(engine: Engine, name: str) -> None:
    rng = np.random.default_rng(5)
    columns = {
        "id": np.arange(ROWS, dtype=np.int64),
        "v": rng.random((ROWS, 4), dtype=np.float32),
        "w": rng.random((ROWS, 4), dtype=np.float32),
    }
    engine.insert(DB, name, columns, ROWS)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = Path(tmp_path_factory.mktemp("large-topk")) / "data"
    with Engine.open(str(path), sync=False, background=False) as eng:
        for name, properties in (("large", LARGE), ("plain", None)):
            eng.create_collection(
                DB, name, _schema(), properties=properties, consistency_level="Strong"
            )
            eng.create_index(DB, name, IndexSpec("v", "FLAT", metric_type="L2"))
            eng.create_index(DB, name, IndexSpec("w", "HNSW", metric_type="L2"))
            _fill(eng, name)
        eng.flush(DB, "large")
        yield eng


def _search(engine: Engine, name: str, limit: int, field: str = "v", offset: int = 0) -> list[int]:
    queries = np.full((2, 4), 0.5, dtype=np.float32)
    request = SearchRequest(queries=queries, anns_field=field, limit=limit, offset=offset)
    return [int(k) for k in engine.search(DB, name, request).topks]


def test_large_topk_searches_past_16384(engine: Engine) -> None:
    assert _search(engine, "large", 16385) == [16385, 16385]
    assert _search(engine, "large", 16900, field="w") == [16900, 16900]
    assert _search(engine, "large", 20_000) == [ROWS, ROWS]


def test_results_of_a_deep_search_stay_best_first(engine: Engine) -> None:
    queries = np.full((1, 4), 0.5, dtype=np.float32)
    res = engine.search(DB, "large", SearchRequest(queries=queries, anns_field="v", limit=16500))
    distances = np.asarray(res.distances)
    assert np.all(np.diff(distances) >= 0)
    assert len(set(np.asarray(res.ids).tolist())) == 16500


def test_plain_collections_keep_the_16384_window(engine: Engine) -> None:
    assert _search(engine, "plain", 16384) == [16384, 16384]
    with pytest.raises(
        ParameterError, match=r"topk \[16385\] is invalid, it should be in range \[1, 16384\]"
    ):
        _search(engine, "plain", 16385)
    with pytest.raises(ParameterError, match=r"query result window.*\[1, 16384\], but got 16385"):
        engine.query(DB, "plain", QueryRequest(limit=16385))


def test_the_large_window_stops_at_a_million(engine: Engine) -> None:
    with pytest.raises(
        ParameterError, match=r"topk \[1000001\] is invalid, it should be in range \[1, 1000000\]"
    ):
        _search(engine, "large", 1_000_001)
    with pytest.raises(
        ParameterError, match=r"\(offset\+limit\) should be in range \[1, 1000000\]"
    ):
        _search(engine, "large", 999_999, offset=2)


def test_query_limit_past_16384(engine: Engine) -> None:
    res = engine.query(DB, "large", QueryRequest(output_fields=["id"], limit=16385))
    assert res.num_rows == 16385
    with pytest.raises(ParameterError, match=r"should be in range \[1, 1000000\], but got 1000001"):
        engine.query(DB, "large", QueryRequest(limit=1_000_000, offset=1))


def _hybrid(engine: Engine, name: str, limit: int) -> list[int]:
    queries = np.full((1, 4), 0.5, dtype=np.float32)
    legs = [
        SearchRequest(queries=queries, anns_field="v", limit=limit),
        SearchRequest(queries=queries, anns_field="w", limit=limit),
    ]
    request = HybridSearchRequest(requests=legs, ranker=RankerSpec("rrf"), limit=limit)
    return [int(k) for k in engine.hybrid_search(DB, name, request).topks]


def test_hybrid_search_window(engine: Engine) -> None:
    assert _hybrid(engine, "large", 16385) == [16385]
    with pytest.raises(ParameterError) as info:
        _hybrid(engine, "plain", 16385)
    assert (
        "invalid max query result window, (offset+limit) should be in range [1, 16384], "
        "but got 16385"
    ) in str(info.value)


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        (
            {"query_mode": "LARGE_TOPK"},
            'invalid query_mode value "LARGE_TOPK", valid values: [large_topk]',
        ),
        ({"query_mode": "fast"}, 'invalid query_mode value "fast", valid values: [large_topk]'),
        (
            {"Query_Mode": "large_topk"},
            'invalid property key "Query_Mode", did you mean "query_mode"?',
        ),
    ],
)
def test_bad_property_is_refused_at_create(
    engine: Engine, properties: dict[str, str], message: str
) -> None:
    with pytest.raises(ParameterError) as info:
        engine.create_collection(DB, "bad", _schema(), properties=properties)
    assert message in str(info.value)
    assert info.value.code == 65535
    assert not engine.has_collection(DB, "bad")


def test_mode_changes_only_without_a_vector_index(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path / "data"), sync=False, background=False) as eng:
        eng.create_collection(DB, "c", _schema(), consistency_level="Strong")
        eng.create_index(DB, "c", IndexSpec("v", "FLAT", metric_type="L2", index_name="v"))
        with pytest.raises(
            ParameterError,
            match="can not alter query_mode if the collection already has a vector index",
        ) as info:
            eng.alter_collection_properties(DB, "c", LARGE)
        assert info.value.code == 702
        # Other properties still change freely.
        eng.alter_collection_properties(DB, "c", {"mmap.enabled": "true"})
        eng.release_collection(DB, "c")
        eng.drop_index(DB, "c", "v")
        eng.alter_collection_properties(DB, "c", LARGE)
        assert eng.describe_collection(DB, "c").properties["query_mode"] == "large_topk"
        eng.create_index(DB, "c", IndexSpec("v", "FLAT", metric_type="L2", index_name="v"))
        with pytest.raises(ParameterError, match="can not alter query_mode") as info:
            eng.drop_collection_properties(DB, "c", ["query_mode"])
        assert info.value.code == 702
        eng.drop_index(DB, "c", "v")
        eng.drop_collection_properties(DB, "c", ["query_mode"])
        assert "query_mode" not in eng.describe_collection(DB, "c").properties


def test_mode_survives_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "data")
    with Engine.open(path, sync=False, background=False) as eng:
        eng.create_collection(DB, "c", _schema(), properties=LARGE, consistency_level="Strong")
        _fill(eng, "c")
        eng.flush(DB, "c")
    with Engine.open(path, sync=False, background=False) as eng:
        assert _search(eng, "c", 16400) == [16400, 16400]
