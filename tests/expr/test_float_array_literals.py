"""Numbers compared with the float32 elements of an ARRAY of FLOAT are first rounded
to float32, as for a FLOAT field: a stored element equals the literal it came from."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from elanus.expr import ArrowColumnSource, compile_filter
from elanus.schema import CollectionSchema, DataType, FieldSchema

SCHEMA = CollectionSchema(
    fields=(
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema("af", DataType.ARRAY, element_type=DataType.FLOAT, params={"max_capacity": 4}),
        FieldSchema("ad", DataType.ARRAY, element_type=DataType.DOUBLE, params={"max_capacity": 4}),
        FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 2}),
    )
)
# Neither value is exactly representable as a float32.
VALUES = [[492710.03520180425, 38241.68284883746], [1.5], []]
SOURCE = ArrowColumnSource(
    {
        "id": pa.array([0, 1, 2], pa.int64()),
        "af": pa.array(VALUES, pa.list_(pa.float32())),
        "ad": pa.array(VALUES, pa.list_(pa.float64())),
    }
)


def matched(expression: str) -> list[int]:
    return np.flatnonzero(compile_filter(expression, SCHEMA).evaluate(SOURCE)).tolist()


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("array_contains(af, 492710.03520180425)", [0]),
        ("array_contains_all(af, [492710.03520180425, 38241.68284883746])", [0]),
        ("array_contains_any(af, [38241.68284883746, 7])", [0]),
        ("af[0] == 492710.03520180425", [0]),
        ("af[0] in [492710.03520180425, 1.5]", [0, 1]),
        # DOUBLE elements keep the literal as it is.
        ("array_contains(ad, 492710.03520180425)", [0]),
        ("array_contains(ad, 492710.03125)", []),
    ],
)
def test_float_elements_equal_their_own_literals(expression: str, expected: list[int]) -> None:
    assert matched(expression) == expected
