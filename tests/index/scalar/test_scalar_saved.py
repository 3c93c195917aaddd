"""Every scalar index answers the same after save and load, and the loaded one is
consulted by the filter (JSON path, ARRAY and RTREE leaves included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from elanus.index.scalar import (
    ArrayIndex,
    JsonPathIndex,
    RTreeIndex,
    create_scalar_index,
    load_scalar_index,
)
from elanus.schema import DataType, FieldSchema

TEXT = FieldSchema("t", DataType.VARCHAR, nullable=True, params={"max_length": 32})
NUM = FieldSchema("n", DataType.INT64, nullable=True)
TAGS = FieldSchema("a", DataType.ARRAY, element_type=DataType.INT64, params={"max_capacity": 4})
GEO = FieldSchema("g", DataType.GEOMETRY, nullable=True)
JSON = FieldSchema("j", DataType.JSON, nullable=True)
WORDS = pa.array(["apple", None, "banana", "apple", "cherry pie", "", "pineapple"] * 3)
NUMS = pa.array([5, None, -1, 5, 7, 0, 3] * 3, pa.int64())


def _answers(index: Any) -> list[Any]:
    out: list[Any] = []
    for ask in (
        lambda: index.equal(["apple", 5, 7]),
        lambda: index.range(0, True, 6, False),
        lambda: index.range("b", True, None, False),
        lambda: index.like("%pp%"),
        lambda: index.like("ap%"),
        lambda: index.is_null(),
    ):
        try:
            out.append(ask())
        except (TypeError, ValueError):
            out.append("error")
    return out


@pytest.mark.parametrize(
    ("name", "field", "column", "params"),
    [
        ("INVERTED", TEXT, WORDS, {}),
        ("BITMAP", TEXT, WORDS, {}),
        ("TRIE", TEXT, WORDS, {}),
        ("STL_SORT", TEXT, WORDS, {}),
        ("STL_SORT", NUM, NUMS, {}),
        ("NGRAM", TEXT, WORDS, {"min_gram": 2, "max_gram": 3}),
    ],
)
def test_saved_index_answers_the_same(
    tmp_path: Path, name: str, field: FieldSchema, column: pa.Array, params: dict
) -> None:
    built = create_scalar_index(name, field, column, params)
    built.save(str(tmp_path / "idx"))
    loaded = load_scalar_index(str(tmp_path / "idx"))
    assert type(loaded) is type(built)
    for a, b in zip(_answers(built), _answers(loaded)):
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b)
        else:
            assert a == b


def test_ngram_like_matches_a_scan() -> None:
    index = create_scalar_index("NGRAM", TEXT, WORDS, {"min_gram": 1, "max_gram": 2})
    import pyarrow.compute as pc

    for pattern in ["%pp%", "%ple", "b_n%", "%e p%", "%zz%", "%", "apple", "%an%an%"]:
        scan = pc.fill_null(pc.match_like(WORDS, pattern), False).to_numpy(zero_copy_only=False)
        assert np.array_equal(index.like(pattern), scan), pattern


def test_array_json_and_rtree_round_trip(tmp_path: Path) -> None:
    tags = pa.array([[1, 2], None, [], [3, 3, 1]], pa.list_(pa.int64()))
    arr = create_scalar_index("INVERTED", TAGS, tags)
    assert isinstance(arr, ArrayIndex)
    assert arr.contains([1], "one").tolist() == [True, False, False, True]
    assert arr.contains([1, 3], "all").tolist() == [False, False, False, True]
    doubles = pa.array([1.0, None, 2.5, 3.0])
    path = create_scalar_index("AUTOINDEX", JSON, doubles, {"json_cast_type": "double"})
    assert isinstance(path, JsonPathIndex)
    assert path.equal(["x"]) is None  # another type: the filter scans
    assert path.equal([2**60]) is None  # beyond exact float64 integers
    assert path.range(2, True, None, False).tolist() == [False, False, True, True]
    wkt = pa.array(["POINT (0 0)", None, "LINESTRING (5 5, 6 6)", "POINT (179.9 10)"])
    tree = create_scalar_index("AUTOINDEX", GEO, wkt)
    assert isinstance(tree, RTreeIndex)
    near = tree.spatial_candidates("intersects", "POLYGON ((-1 -1, 1 -1, 1 1, -1 1, -1 -1))")
    assert near is not None and near.tolist() == [True, False, False, False]
    # ST_DWITHIN wraps around the antimeridian
    wrapped = tree.spatial_candidates("dwithin", "POINT (-179.9 10)", 50_000)
    assert wrapped is not None and bool(wrapped[3])
    assert tree.spatial_candidates("isvalid", "POINT (0 0)") is None
    for i, index in enumerate((arr, path, tree)):
        index.save(str(tmp_path / str(i)))
        loaded = load_scalar_index(str(tmp_path / str(i)))
        assert type(loaded) is type(index)
    loaded_tree = load_scalar_index(str(tmp_path / "2"))
    assert np.array_equal(
        loaded_tree.spatial_candidates("intersects", "POINT (5.5 5.5)"),  # type: ignore[union-attr]
        tree.spatial_candidates("intersects", "POINT (5.5 5.5)"),
    )
