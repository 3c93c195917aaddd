"""Rows and loosely typed columns become the shared column convention, or are rejected whole."""

from __future__ import annotations

import math
import re
from typing import Any

import ml_dtypes
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import scipy.sparse as sp

from elanus.errors import DataError
from elanus.schema import DYNAMIC_FIELD_NAME, CollectionSchema, DataType, FieldSchema
from elanus.schema.columns import normalize_column, normalize_columns, rows_to_columns
from elanus.schema.validate import validate_schema


def make(*fields: FieldSchema, dynamic: bool = False, auto_id: bool = False) -> CollectionSchema:
    pk = FieldSchema("id", DataType.INT64, is_primary=True, auto_id=auto_id)
    vec = FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 2})
    return validate_schema(
        CollectionSchema(fields=(pk, vec, *fields), enable_dynamic_field=dynamic)
    )


def field(name: str, dtype: DataType, **kw: Any) -> FieldSchema:
    return FieldSchema(name, dtype, **kw)


def test_rows_to_columns_and_meta() -> None:
    s = make(field("n", DataType.INT32, nullable=True), dynamic=True)
    cols, n = rows_to_columns(
        s, [{"id": 1, "vec": [1, 2], "x": 1}, {"id": 2, "vec": [3, 4], "n": 5}]
    )
    assert n == 2
    out = normalize_columns(s, cols, n)
    assert out["id"].to_pylist() == [1, 2]
    assert out["n"].to_pylist() == [None, 5]
    assert out["vec"].dtype == np.float32 and out["vec"].shape == (2, 2)
    assert out[DYNAMIC_FIELD_NAME].to_pylist() == ['{"x":1}', "{}"]


def test_unknown_field_without_dynamic() -> None:
    s = make()
    with pytest.raises(DataError, match="unexpected field `x`"):
        rows_to_columns(s, [{"id": 1, "vec": [1, 2], "x": 1}])
    with pytest.raises(DataError, match="unexpected field `x`"):
        normalize_columns(s, {"id": [1], "vec": [[1, 2]], "x": [1]}, 1)


def test_missing_required_field() -> None:
    s = make(field("n", DataType.INT32))
    cols, n = rows_to_columns(s, [{"id": 1, "vec": [1, 2]}])
    with pytest.raises(DataError, match="Insert missed an field `n`"):
        normalize_columns(s, cols, n)


def test_auto_id_pk_given_is_rejected_and_absent_is_fine() -> None:
    s = make(auto_id=True)
    assert "id" not in normalize_columns(s, {"vec": [[1, 2]]}, 1)
    with pytest.raises(DataError, match="auto_id"):
        normalize_columns(s, {"id": [1], "vec": [[1, 2]]}, 1)
    assert normalize_columns(s, {"id": [1], "vec": [[1, 2]]}, 1, for_upsert=True)[
        "id"
    ].to_pylist() == [1]


def test_partial_update_skips_missing_fields() -> None:
    s = make(field("n", DataType.INT32))
    out = normalize_columns(s, {"id": [1], "n": [3]}, 1, for_upsert=True, partial=True)
    assert set(out) == {"id", "n"}


def test_defaults_fill_nulls_and_missing() -> None:
    s = make(
        field("n", DataType.INT16, default_value=7),
        field("j", DataType.JSON, default_value={"a": 1}),
    )
    out = normalize_columns(s, {"id": [1, 2], "vec": [[1, 2], [3, 4]], "n": [None, 3]}, 2)
    assert out["n"].to_pylist() == [7, 3]
    assert out["j"].to_pylist() == ['{"a":1}', '{"a":1}']


@pytest.mark.parametrize(
    ("dtype", "values", "arrow", "expected"),
    [
        (DataType.BOOL, [True, False], pa.bool_(), [True, False]),
        (DataType.INT8, np.array([1, -2]), pa.int8(), [1, -2]),
        (DataType.INT16, pa.array([1, 2]), pa.int16(), [1, 2]),
        (DataType.INT32, pd.Series([1, 2]), pa.int32(), [1, 2]),
        (DataType.FLOAT, [1, 2.5], pa.float32(), [1.0, 2.5]),
        (DataType.DOUBLE, np.array([0.5, 1.5]), pa.float64(), [0.5, 1.5]),
    ],
)
def test_scalar_casts(
    dtype: DataType, values: Any, arrow: pa.DataType, expected: list[Any]
) -> None:
    out = normalize_column(field("x", dtype), values, 2)
    assert out.type == arrow and out.to_pylist() == expected


@pytest.mark.parametrize(
    ("dtype", "values", "message"),
    [
        (DataType.INT8, [1, 200], "out of range: [-128, 127]"),
        (DataType.INT64, ["a", "b"], "doesn't match, expected: INT64"),
        (DataType.INT32, [1.5, 2.0], "doesn't match, expected: INT32"),
        (DataType.BOOL, [1, 0], "doesn't match, expected: BOOL"),
        (DataType.FLOAT, [1.0, math.nan], "not a number or infinity"),
        (DataType.DOUBLE, [1.0, math.inf], "not a number or infinity"),
        (DataType.INT32, [1, None], "is not nullable"),
        (DataType.INT32, [1, "x"], "at row 1"),
        (DataType.FLOAT, [1e39, 1.0], "overflows FLOAT"),
    ],
)
def test_scalar_rejects(dtype: DataType, values: Any, message: str) -> None:
    with pytest.raises(DataError) as info:
        normalize_column(field("x", dtype), values, 2)
    assert message in info.value.message and info.value.code == 1100


def test_varchar_length_is_counted_in_utf8_bytes() -> None:
    f = validate_schema(make(field("s", DataType.VARCHAR, params={"max_length": 4}))).field("s")
    assert normalize_column(f, ["abcd", "éé"], 2).to_pylist() == ["abcd", "éé"]
    with pytest.raises(DataError, match="row number: 1, length: 6, max length: 4"):
        normalize_column(f, ["ab", "ééé"], 2)


def test_array_field() -> None:
    f = field("a", DataType.ARRAY, element_type=DataType.INT32, params={"max_capacity": 2})
    assert normalize_column(f, [[1, 2], []], 2).type == pa.list_(pa.int32())
    with pytest.raises(DataError, match="exceeds max capacity"):
        normalize_column(f, [[1, 2, 3], []], 2)
    with pytest.raises(DataError, match="expected: ARRAY of INT32"):
        normalize_column(f, [["a"], []], 2)
    s = field(
        "a",
        DataType.ARRAY,
        element_type=DataType.VARCHAR,
        params={"max_capacity": 3, "max_length": 2},
    )
    with pytest.raises(DataError, match="row number: 1"):
        normalize_column(s, [["ab"], ["a", "abc"]], 2)


def test_json_field() -> None:
    f = field("j", DataType.JSON)
    out = normalize_column(f, [{"a": [1, 2]}, '{"b": true}', 3], 3)
    assert out.to_pylist() == ['{"a":[1,2]}', '{"b":true}', "3"]
    with pytest.raises(DataError, match="Invalid JSON string"):
        normalize_column(f, ["{bad"], 1)


def test_geometry_and_timestamptz() -> None:
    g = normalize_column(field("g", DataType.GEOMETRY), ["POINT(1 2)", "LINESTRING(0 0, 1 1)"], 2)
    assert g.to_pylist() == ["POINT (1 2)", "LINESTRING (0 0, 1 1)"]
    with pytest.raises(DataError, match="invalid WKT at row 1"):
        normalize_column(field("g", DataType.GEOMETRY), ["POINT(1 2)", "POINT(("], 2)
    t = normalize_column(
        field("t", DataType.TIMESTAMPTZ),
        ["2024-01-01T00:00:00+02:00", pd.Timestamp("2024-01-01", tz="UTC")],
        2,
    )
    assert t.type == pa.timestamp("us", tz="UTC")
    assert t[0].as_py().isoformat() == "2023-12-31T22:00:00+00:00"
    with pytest.raises(DataError, match="invalid timestamptz string 'soon' at row 1"):
        normalize_column(field("t", DataType.TIMESTAMPTZ), ["2024-01-01T00:00:00Z", "soon"], 2)


def test_float_vector_inputs() -> None:
    f = field("v", DataType.FLOAT_VECTOR, params={"dim": 2})
    for values in (
        [[1, 2], [3, 4]],
        np.ones((2, 2)),
        pa.array([[1.0, 2.0], [3.0, 4.0]], pa.list_(pa.float32(), 2)),
        pd.Series([np.ones(2), np.zeros(2)]),
    ):
        out = normalize_column(f, values, 2)
        assert out.dtype == np.float32 and out.shape == (2, 2)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            [[1, 2], [3, 4, 5]],
            "the dim (3) of field data(v) is not equal to schema dim (2) at row 1",
        ),
        (np.ones((2, 3)), "the dim (3) of field data(v) is not equal to schema dim (2)"),
        ([[1, 2], [math.nan, 1]], "NaN or Inf at row 1"),
        ([[1, 2], [math.inf, 1]], "NaN or Inf at row 1"),
        ([[1, 2], None], "does not accept null"),
        ([["a", "b"], ["c", "d"]], "doesn't match"),
    ],
)
def test_float_vector_rejects(values: Any, message: str) -> None:
    with pytest.raises(DataError) as info:
        normalize_column(field("v", DataType.FLOAT_VECTOR, params={"dim": 2}), values, 2)
    assert message in info.value.message


def test_float_vector_batch_that_does_not_divide_by_dim() -> None:
    with pytest.raises(DataError) as info:
        normalize_column(field("v", DataType.FLOAT_VECTOR, params={"dim": 2}), np.ones((3, 3)), 3)
    assert "the length(9) of float data should divide the dim(2)" in info.value.message


def test_half_precision_vectors() -> None:
    h = field("h", DataType.FLOAT16_VECTOR, params={"dim": 2})
    assert normalize_column(h, [[1.0, 2.0]], 1).dtype == np.float16
    assert normalize_column(h, [np.array([1, 2], np.float16).tobytes()], 1).tolist() == [[1.0, 2.0]]
    with pytest.raises(DataError, match="NaN or Inf"):
        normalize_column(h, [[1e6, 1.0]], 1)
    b = field("b", DataType.BFLOAT16_VECTOR, params={"dim": 2})
    bits = normalize_column(b, [[1.5, 2.0]], 1)
    assert bits.dtype == np.uint16
    assert bits.view(ml_dtypes.bfloat16).astype(np.float32).tolist() == [[1.5, 2.0]]
    same = normalize_column(b, np.array([[1.5, 2.0]], dtype=ml_dtypes.bfloat16), 1)
    assert same.tolist() == bits.tolist()


def test_int8_and_binary_vectors() -> None:
    i = field("i", DataType.INT8_VECTOR, params={"dim": 2})
    assert normalize_column(i, [[1, -1]], 1).dtype == np.int8
    with pytest.raises(DataError, match="out of range"):
        normalize_column(i, [[1, 300]], 1)
    b = field("b", DataType.BINARY_VECTOR, params={"dim": 16})
    assert normalize_column(b, [b"\x01\x02"], 1).tolist() == [[1, 2]]
    with pytest.raises(
        DataError, match=re.escape("the dim (8) of field data(b) is not equal to schema dim (16)")
    ):
        normalize_column(b, [b"\x01"], 1)


def test_sparse_vectors() -> None:
    f = field("s", DataType.SPARSE_FLOAT_VECTOR)
    from_dicts = normalize_column(f, [{3: 0.5, 1: 1.0}, {}], 2)
    assert from_dicts.shape == (2, 2**32)
    assert from_dicts[[0]].indices.tolist() == [1, 3]
    from_pairs = normalize_column(f, [([1, 3], [1.0, 0.5]), [(2, 0.25)]], 2)
    assert from_pairs.nnz == 3
    from_scipy = normalize_column(f, sp.csr_array(np.array([[0, 1.0], [2.0, 0]])), 2)
    assert from_scipy.nnz == 2
    rows = normalize_column(f, [sp.csr_array(np.array([[0, 1.0]])), {5: 1.0}], 2)
    assert rows.nnz == 2
    with pytest.raises(DataError, match="NaN or Inf at row 1"):
        normalize_column(f, [{1: 1.0}, {2: math.nan}], 2)
    with pytest.raises(DataError, match="sparse vector index"):
        normalize_column(f, [{-1: 1.0}], 1)


def test_bad_batch_rejected_whole() -> None:
    s = make(field("n", DataType.INT8))
    rows = [{"id": i, "vec": [1, 2], "n": i} for i in range(200)]
    cols, n = rows_to_columns(s, rows)
    with pytest.raises(DataError, match="the 128th element"):
        normalize_columns(s, cols, n)


def test_dataframe_and_table_columns() -> None:
    s = make(field("n", DataType.INT32), dynamic=True)
    frame = pd.DataFrame(
        {"id": [1, 2], "vec": [[1.0, 2.0], [3.0, 4.0]], "n": [5, 6], "extra": ["a", "b"]}
    )
    out = normalize_columns(s, {c: frame[c] for c in frame.columns}, 2)
    assert out["n"].to_pylist() == [5, 6]
    assert out[DYNAMIC_FIELD_NAME].to_pylist() == ['{"extra":"a"}', '{"extra":"b"}']
    table = pa.table(
        {"id": [1], "vec": pa.array([[1.0, 2.0]], pa.list_(pa.float32(), 2)), "n": [1]}
    )
    out = normalize_columns(s, {c: table.column(c) for c in table.column_names}, 1)
    assert out["vec"].tolist() == [[1.0, 2.0]]


def test_function_output_must_not_be_given() -> None:
    from elanus.schema import FunctionSchema, FunctionType

    text = field("t", DataType.VARCHAR, params={"max_length": 10, "enable_analyzer": True})
    sparse = field("sp", DataType.SPARSE_FLOAT_VECTOR)
    fn = FunctionSchema("bm", FunctionType.BM25, ("t",), ("sp",))
    pk = FieldSchema("id", DataType.INT64, is_primary=True)
    s = validate_schema(CollectionSchema(fields=(pk, text, sparse), functions=(fn,)))
    assert set(normalize_columns(s, {"id": [1], "t": ["hi"]}, 1)) == {"id", "t"}
    with pytest.raises(DataError, match="unexpected function output field `sp`"):
        normalize_columns(s, {"id": [1], "t": ["hi"], "sp": [{1: 1.0}]}, 1)
