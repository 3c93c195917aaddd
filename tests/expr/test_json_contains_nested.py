"""json_contains / _all / _any with array items: an item that is itself a list matches a
JSON array element equal to it, position by position."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pytest

from elanus.errors import ExpressionError
from elanus.expr import ArrowColumnSource, compile_filter
from elanus.schema import CollectionSchema, DataType, FieldSchema

SCHEMA = CollectionSchema(
    fields=(
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema("j", DataType.JSON, nullable=True),
        FieldSchema(
            "words",
            DataType.ARRAY,
            element_type=DataType.VARCHAR,
            params={"max_capacity": 4, "max_length": 8},
        ),
        FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 2}),
    )
)
DOCS: list[Any] = [
    {"a": [[1, 2], [3]]},  # 0
    {"a": [[1, 2], 3]},  # 1
    {"a": [[2, 1], [3, 4]]},  # 2
    {"a": [1, 2, 3]},  # 3
    {"a": [[1.0, 2.0], "x", True]},  # 4
    {"a": [[1, "2"], [[5]], []]},  # 5
    {"a": "not a list"},  # 6
    None,  # 7
    {"b": [[1, 2]]},  # 8
]


def matched(expression: str) -> list[int]:
    texts = [None if d is None else orjson.dumps(d).decode() for d in DOCS]
    source = ArrowColumnSource(
        {
            "id": pa.array(range(len(DOCS)), pa.int64()),
            "j": pa.array(texts, pa.string()),
            "words": pa.array([["x"]] * len(DOCS), pa.list_(pa.string())),
        }
    )
    mask = compile_filter(expression, SCHEMA).evaluate(source)
    return np.flatnonzero(mask).tolist()


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('json_contains_any(j["a"], [[1, 2], [3]])', [0, 1, 4]),
        ('json_contains_all(j["a"], [[1, 2], [3]])', [0]),
        ('json_contains_all(j["a"], [[1, 2], 3])', [1]),
        ('json_contains(j["a"], [1, 2])', [0, 1, 4]),
        # Order and length count: [2, 1] and [1, 2, 3] are other arrays.
        ('json_contains(j["a"], [2, 1])', [2]),
        ('json_contains_any(j["a"], [[1, 2, 3]])', []),
        # Elements compare as scalars do: 1 equals 1.0, never "1" or true.
        ('json_contains(j["a"], [1.0, 2])', [0, 1, 4]),
        ('json_contains(j["a"], [1, "2"])', [5]),
        ('json_contains(j["a"], [[5]])', [5]),
        ('json_contains(j["a"], [])', [5]),
        ('json_contains_any(j["a"], [[9], "x"])', [4]),
        ('json_contains_all(j["a"], [[1.0, 2.0], "x", true])', [4]),
    ],
)
def test_array_items_match_equal_array_elements(expression: str, expected: list[int]) -> None:
    assert matched(expression) == expected


def test_an_array_field_still_takes_only_scalars() -> None:
    with pytest.raises(ExpressionError, match="takes scalar values"):
        compile_filter('array_contains_any(words, [["a", "b"]])', SCHEMA)
