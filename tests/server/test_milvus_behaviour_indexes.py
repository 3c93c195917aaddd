"""Index behaviours Milvus's own client suite checks, held against a real ``elanus
serve``: sparse inverted index algorithms and their knobs, JSON path indexes of every
index type Milvus takes on a path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from pymilvus import DataType, MilvusClient, MilvusException

ROWS = 60


@pytest.fixture
def fresh(client: MilvusClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A collection name unique to the test, dropped afterwards."""
    name = "bi_" + re.sub(r"\W", "_", request.node.name)
    yield name
    client.drop_collection(name)


def _sparse_collection(client: MilvusClient, name: str, fields: list[str]) -> None:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    for field in fields:
        schema.add_field(field, DataType.SPARSE_FLOAT_VECTOR)
    client.create_collection(name, schema=schema)


def _sparse_row(i: int) -> dict[int, float]:
    # dimension 1 ranks the rows by id (highest first); the rest tie every row
    return {1: float(ROWS - i), 2: 1.0, 3: 0.5}


SPARSE_VARIANTS = {
    "sindi": {"inverted_index_algo": "SINDI", "sindi_window_size": 4096},
    "block_wand": {"inverted_index_algo": "BLOCK_MAX_WAND", "block_max_block_size": 64},
    "block_maxscore": {"inverted_index_algo": "BLOCK_MAX_MAXSCORE"},
    "codec": {"inverted_index_algo": "DAAT_MAXSCORE", "inverted_index_codec": "block_streamvbyte"},
    "fp16": {"inverted_index_algo": "DAAT_MAXSCORE", "quant_type": "fp16"},
}


def test_sparse_algorithms_beyond_daat_are_accepted_and_exact(
    client: MilvusClient, fresh: str
) -> None:
    _sparse_collection(client, fresh, list(SPARSE_VARIANTS))
    client.insert(
        fresh, [{"id": i, **{f: _sparse_row(i) for f in SPARSE_VARIANTS}} for i in range(ROWS)]
    )
    index_params = client.prepare_index_params()
    for field, params in SPARSE_VARIANTS.items():
        index_params.add_index(
            field_name=field,
            index_name=field,
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="IP",
            params=params,
        )
    client.create_index(fresh, index_params)
    client.load_collection(fresh)
    for field, params in SPARSE_VARIANTS.items():
        described = client.describe_index(fresh, field)
        for key, value in params.items():
            assert str(described[key]) == str(value)
        hits = client.search(
            fresh, [{1: 1.0}], anns_field=field, limit=5, search_params={"metric_type": "IP"}
        )[0]
        assert [h["id"] for h in hits] == [0, 1, 2, 3, 4]
        assert [h["distance"] for h in hits] == pytest.approx([60.0, 59.0, 58.0, 57.0, 56.0])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"inverted_index_algo": "NOPE"}, "sparse inverted index algo NOPE not found"),
        ({"inverted_index_algo": "SINDI", "sindi_window_size": 100}, "sindi_window_size"),
        (
            {"inverted_index_algo": "BLOCK_MAX_WAND", "block_max_block_size": 0},
            "param 'block_max_block_size' (0) should be in range [1, 2147483647]",
        ),
        (
            {"inverted_index_codec": "zip"},
            "inverted_index_codec zip not found or not supported",
        ),
        ({"quant_type": "u16"}, "quant_type"),
    ],
)
def test_invalid_sparse_knobs_are_refused(
    client: MilvusClient, fresh: str, params: dict[str, Any], message: str
) -> None:
    _sparse_collection(client, fresh, ["sv"])
    index_params = client.prepare_index_params()
    index_params.add_index(
        field_name="sv", index_type="SPARSE_INVERTED_INDEX", metric_type="IP", params=params
    )
    with pytest.raises(MilvusException) as info:
        client.create_index(fresh, index_params)
    assert info.value.code == 1100
    assert message in info.value.message
    assert client.list_indexes(fresh, field_name="sv") == []


JSON_PATH_INDEXES = [
    ("INVERTED", "DOUBLE"),
    ("INVERTED", "JSON"),
    ("STL_SORT", "DOUBLE"),
    ("STL_SORT", "VARCHAR"),
    ("BITMAP", "BOOL"),
    ("BITMAP", "VARCHAR"),
]
JSON_FILTERS = [
    'meta["a"] > 20',
    'meta["a"] == 7',
    'meta["a"] in [3, 4, "5"]',
    'meta["s"] == "s3"',
    'meta["s"] like "s1%"',
    'meta["s"] >= "s5"',
    'meta["b"] == true',
    'not (meta["a"] < 10)',
]


def _json_rows() -> list[dict[str, Any]]:
    rows = []
    for i in range(ROWS):
        meta: dict[str, Any] = {"a": i, "s": f"s{i}", "b": i % 3 == 0}
        if i % 5 == 0:
            meta = {"a": str(i), "s": i, "b": "yes"}  # other types at the same paths
        if i % 7 == 0:
            meta = {}
        rows.append({"id": i, "vec": [float(i), 1.0], "meta": meta})
    return rows


@pytest.mark.parametrize(("index_type", "cast"), JSON_PATH_INDEXES)
def test_json_path_index_types_answer_as_a_scan(
    client: MilvusClient, fresh: str, index_type: str, cast: str
) -> None:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    schema.add_field("meta", DataType.JSON)
    index_params = client.prepare_index_params()
    index_params.add_index(field_name="vec", index_type="FLAT", metric_type="L2")
    client.create_collection(fresh, schema=schema, index_params=index_params)
    client.insert(fresh, _json_rows())
    client.flush(fresh)
    expected = {f: client.query(fresh, f, output_fields=["id"]) for f in JSON_FILTERS}
    client.release_collection(fresh)
    index_params = client.prepare_index_params()
    path = {"DOUBLE": "a", "VARCHAR": "s", "BOOL": "b", "JSON": "a"}[cast]
    index_params.add_index(
        field_name="meta",
        index_name="path_idx",
        index_type=index_type,
        params={"json_cast_type": cast.lower(), "json_path": f'meta["{path}"]'},
    )
    client.create_index(fresh, index_params)
    described = client.describe_index(fresh, "path_idx")
    assert described["index_type"] == index_type
    assert described["json_cast_type"].upper() == cast
    client.load_collection(fresh)
    for flt, rows in expected.items():
        got = client.query(fresh, flt, output_fields=["id"])
        assert sorted(r["id"] for r in got) == sorted(r["id"] for r in rows), flt


@pytest.mark.parametrize(
    ("index_type", "cast", "message"),
    [
        ("STL_SORT", "BOOL", "STL_SORT index on a JSON path takes json_cast_type"),
        ("BITMAP", "DOUBLE", "BITMAP index on a JSON path takes json_cast_type"),
        ("BITMAP", "JSON", "BITMAP index on a JSON path takes json_cast_type"),
        ("TRIE", "VARCHAR", "TRIE are only supported on varchar field"),
        (
            "(mn)",
            "DOUBLE",
            "invalid parameter[expected=valid index][actual=invalid index type: (mn)]",
        ),
    ],
)
def test_json_path_index_combinations_milvus_refuses(
    client: MilvusClient, fresh: str, index_type: str, cast: str, message: str
) -> None:
    client.create_collection(fresh, dimension=2)
    index_params = client.prepare_index_params()
    index_params.add_index(
        field_name="meta",
        index_type=index_type,
        params={"json_cast_type": cast, "json_path": 'meta["a"]'},
    )
    with pytest.raises(MilvusException) as info:
        client.create_index(fresh, index_params)
    assert info.value.code == 1100
    assert message in info.value.message


def test_float_search_param_bounds_are_printed_with_six_decimals(
    client: MilvusClient, fresh: str
) -> None:
    _sparse_collection(client, fresh, ["sv"])
    client.insert(fresh, [{"id": i, "sv": _sparse_row(i)} for i in range(ROWS)])
    index_params = client.prepare_index_params()
    index_params.add_index(
        field_name="sv",
        index_type="SPARSE_INVERTED_INDEX",
        metric_type="IP",
        params={"inverted_index_algo": "BLOCK_MAX_WAND"},
    )
    client.create_index(fresh, index_params)
    client.load_collection(fresh)
    with pytest.raises(MilvusException) as info:
        client.search(
            fresh,
            [{1: 1.0}],
            anns_field="sv",
            limit=3,
            search_params={"metric_type": "IP", "params": {"dim_max_score_ratio": 1.4}},
        )
    assert "should be in range [0.500000, 1.300000]" in info.value.message


def test_a_second_index_on_a_field_is_refused_as_milvus_words_it(
    client: MilvusClient, fresh: str
) -> None:
    client.create_collection(fresh, dimension=2)  # its vector index is named "vector"
    client.release_collection(fresh)
    other = client.prepare_index_params()
    other.add_index(field_name="vector", index_type="IVF_FLAT", metric_type="L2")
    with pytest.raises(MilvusException, match="at most one distinct index is allowed per field"):
        client.create_index(fresh, other)
    path = client.prepare_index_params()
    params = {"json_cast_type": "varchar", "json_path": 'meta["a"]'}
    path.add_index(field_name="meta", index_name="first", index_type="INVERTED", params=params)
    client.create_index(fresh, path)
    client.create_index(fresh, path)  # the same request again is fine
    again = client.prepare_index_params()
    again.add_index(field_name="meta", index_name="second", index_type="INVERTED", params=params)
    with pytest.raises(MilvusException, match="creating multiple indexes on same field"):
        client.create_index(fresh, again)
