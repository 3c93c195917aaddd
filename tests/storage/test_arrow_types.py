from __future__ import annotations

import pyarrow as pa
import pytest
from storage_samples import sample_schema

from elanus.schema import DataType, FieldSchema
from elanus.schema.arrow import (
    SPARSE_ARROW_TYPE,
    arrow_type,
    dense_storage_type,
    scalar_arrow_schema,
    scalar_arrow_type,
)


def test_scalar_types_follow_the_column_convention() -> None:
    assert scalar_arrow_type(DataType.JSON) == pa.string()
    assert scalar_arrow_type(DataType.GEOMETRY) == pa.string()
    assert scalar_arrow_type(DataType.TIMESTAMPTZ) == pa.timestamp("us", tz="UTC")
    assert scalar_arrow_type(DataType.ARRAY, DataType.INT16) == pa.list_(pa.int16())
    with pytest.raises(ValueError):
        scalar_arrow_type(DataType.ARRAY)
    with pytest.raises(ValueError):
        scalar_arrow_type(DataType.FLOAT_VECTOR)


@pytest.mark.parametrize(
    ("dtype", "dim", "width"),
    [
        (DataType.FLOAT_VECTOR, 8, 32),
        (DataType.FLOAT16_VECTOR, 8, 16),
        (DataType.BFLOAT16_VECTOR, 8, 16),
        (DataType.INT8_VECTOR, 8, 8),
        (DataType.BINARY_VECTOR, 64, 8),
    ],
)
def test_dense_vectors_are_fixed_size_binary_of_the_row_bytes(dtype, dim, width) -> None:
    fld = FieldSchema("v", dtype, params={"dim": dim})
    assert dense_storage_type(fld) == pa.binary(width) == arrow_type(fld)


def test_sparse_and_schema() -> None:
    assert arrow_type(FieldSchema("s", DataType.SPARSE_FLOAT_VECTOR)) == SPARSE_ARROW_TYPE
    schema = scalar_arrow_schema(sample_schema())
    assert schema.names[0] == "id" and schema.names[-1] == "$meta"
    assert "fv" not in schema.names
