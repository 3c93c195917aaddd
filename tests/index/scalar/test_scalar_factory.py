"""create_scalar_index: Milvus names, parameters and field-type rules."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from elanus.errors import NotSupportedError, ParameterError
from elanus.index.scalar import (
    BitmapIndex,
    InvertedIndex,
    NgramIndex,
    SortIndex,
    TrieIndex,
    create_scalar_index,
)
from elanus.schema import DataType, FieldSchema

TEXT = FieldSchema("t", DataType.VARCHAR, nullable=True, params={"max_length": 32})
NUM = FieldSchema("n", DataType.INT32, nullable=True)
COL = pa.array(["apple", None, "banana", "apple", "cherry pie", ""])
NUMS = pa.array([5, None, -1, 5, 7, 0], pa.int32())


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("INVERTED", InvertedIndex),
        ("inverted", InvertedIndex),
        ("AUTOINDEX", InvertedIndex),
        ("", InvertedIndex),
        ("BITMAP", BitmapIndex),
        ("STL_SORT", SortIndex),
        ("TRIE", TrieIndex),
        ("NGRAM", NgramIndex),
    ],
)
def test_factory_builds_each_type(name: str, cls: type) -> None:
    index = create_scalar_index(name, TEXT, COL, {"min_gram": 2, "max_gram": 3})
    assert isinstance(index, cls)
    assert index.is_null().tolist() == [False, True, False, False, False, False]


def test_answers() -> None:
    inv = create_scalar_index("INVERTED", NUM, NUMS)
    assert inv.equal([5, 7.0]).tolist() == [True, False, False, True, True, False]
    assert inv.range(0, True, 5, False).tolist() == [False, False, False, False, False, True]
    srt = create_scalar_index("STL_SORT", NUM, NUMS)
    assert srt.range(None, False, 5, True).tolist() == [True, False, True, True, False, True]
    assert srt.like("x%") is None
    trie = create_scalar_index("TRIE", TEXT, COL)
    assert trie.like("app%").tolist() == [True, False, False, True, False, False]
    assert trie.like("%e").tolist() == [True, False, False, True, True, False]
    ngram = create_scalar_index("NGRAM", TEXT, COL, {"min_gram": 2, "max_gram": 3})
    assert ngram.like("%ana%").tolist() == [False, False, True, False, False, False]
    assert ngram.like("%y p%").tolist() == [False, False, False, False, True, False]
    assert ngram.equal(["apple"]) is None
    bitmap = create_scalar_index("BITMAP", NUM, NUMS)
    assert np.array_equal(bitmap.equal([5]), inv.equal([5]))


@pytest.mark.parametrize(
    ("name", "field", "params", "error", "message"),
    [
        ("HNSW", NUM, {}, ParameterError, "invalid index type"),
        ("TRIE", NUM, {}, ParameterError, "TRIE index is not supported on field n of type INT32"),
        (
            "BITMAP",
            FieldSchema("f", DataType.FLOAT),
            {},
            ParameterError,
            "bitmap index are only supported on bool, int, string",
        ),
        ("NGRAM", TEXT, {"min_gram": 2}, ParameterError, "requires parameter max_gram"),
        ("NGRAM", TEXT, {"min_gram": 4, "max_gram": 2}, ParameterError, "larger than max_gram"),
        ("NGRAM", TEXT, {"min_gram": "x", "max_gram": 2}, ParameterError, "must be an integer"),
        ("INVERTED", FieldSchema("j", DataType.JSON), {}, ParameterError, "json_cast_type"),
        (
            "INVERTED",
            FieldSchema("j", DataType.JSON),
            {"json_cast_type": "DOUBLE", "json_cast_function": "STRING_TO_DOUBLE"},
            NotSupportedError,
            "json_cast_function",
        ),
    ],
)
def test_factory_rejects(
    name: str, field: FieldSchema, params: dict, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        create_scalar_index(name, field, COL if field.dtype != DataType.INT32 else NUMS, params)
