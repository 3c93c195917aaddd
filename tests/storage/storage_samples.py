"""Sample schema and columns covering every data type, for the storage tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from elanus.schema import CollectionSchema, DataType, FieldSchema

SPARSE_DIM = 1 << 32


def sample_schema(pk: DataType = DataType.INT64) -> CollectionSchema:
    def f(name: str, dtype: DataType, **kw: Any) -> FieldSchema:
        return FieldSchema(name=name, dtype=dtype, **kw)

    fields = [
        f("id", pk, is_primary=True, params={"max_length": 64} if pk == DataType.VARCHAR else {}),
        f("flag", DataType.BOOL, nullable=True),
        f("i8", DataType.INT8),
        f("i16", DataType.INT16),
        f("i32", DataType.INT32, nullable=True),
        f("i64", DataType.INT64),
        f("f32", DataType.FLOAT),
        f("f64", DataType.DOUBLE, nullable=True),
        f("name", DataType.VARCHAR, nullable=True, params={"max_length": 64}),
        f("doc", DataType.JSON, nullable=True),
        f("tags", DataType.ARRAY, element_type=DataType.INT64, params={"max_capacity": 8}),
        f(
            "words",
            DataType.ARRAY,
            element_type=DataType.VARCHAR,
            nullable=True,
            params={"max_capacity": 4, "max_length": 16},
        ),
        f("at", DataType.TIMESTAMPTZ, nullable=True),
        f("shape", DataType.GEOMETRY, nullable=True),
        f("fv", DataType.FLOAT_VECTOR, params={"dim": 8}),
        f("hv", DataType.FLOAT16_VECTOR, params={"dim": 4}),
        f("bfv", DataType.BFLOAT16_VECTOR, params={"dim": 4}),
        f("iv", DataType.INT8_VECTOR, params={"dim": 4}),
        f("bv", DataType.BINARY_VECTOR, params={"dim": 16}),
        f("sv", DataType.SPARSE_FLOAT_VECTOR),
    ]
    fields = [fld.with_id(100 + i) for i, fld in enumerate(fields)]
    return CollectionSchema(fields=tuple(fields), enable_dynamic_field=True)


def _nullify(values: list[Any], rng: np.random.Generator) -> list[Any]:
    mask = rng.random(len(values)) < 0.3
    return [None if m else v for v, m in zip(values, mask)]


def sample_columns(n: int, seed: int = 0) -> dict[str, Any]:
    """Columns in the shared convention; vectors hold arbitrary bit patterns."""
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {
        "flag": pa.array(_nullify(list(rng.random(n) < 0.5), rng), type=pa.bool_()),
        "i8": pa.array(rng.integers(-128, 128, n), type=pa.int8()),
        "i16": pa.array(rng.integers(-(2**15), 2**15, n), type=pa.int16()),
        "i32": pa.array(_nullify(rng.integers(-(2**31), 2**31, n).tolist(), rng), pa.int32()),
        "i64": pa.array(rng.integers(-(2**63), 2**63 - 1, n, dtype=np.int64), type=pa.int64()),
        "f32": pa.array(rng.standard_normal(n).astype(np.float32)),
        "f64": pa.array(_nullify(rng.standard_normal(n).tolist(), rng), type=pa.float64()),
        "name": pa.array(_nullify([f"näme-{i}" for i in range(n)], rng), type=pa.string()),
        "doc": pa.array(
            _nullify([f'{{"k": {i}, "v": [1, "x", null]}}' for i in range(n)], rng), pa.string()
        ),
        "tags": pa.array([list(range(i % 5)) for i in range(n)], type=pa.list_(pa.int64())),
        "words": pa.array(
            _nullify([["a", "b"][: i % 3] for i in range(n)], rng), type=pa.list_(pa.string())
        ),
        "at": pa.array(
            _nullify(rng.integers(0, 2**50, n).tolist(), rng), type=pa.timestamp("us", tz="UTC")
        ),
        "shape": pa.array(_nullify([f"POINT ({i} {i + 1})" for i in range(n)], rng), pa.string()),
        "$meta": pa.array([f'{{"extra": {i}}}' for i in range(n)], type=pa.string()),
        "fv": rng.standard_normal((n, 8)).astype(np.float32),
        # Raw bit patterns, NaN payloads and subnormals included: storage must keep bits.
        "hv": rng.integers(0, 2**16, (n, 4), dtype=np.uint16).view(np.float16),
        "bfv": rng.integers(0, 2**16, (n, 4), dtype=np.uint16),
        "iv": rng.integers(-128, 128, (n, 4), dtype=np.int8),
        "bv": rng.integers(0, 256, (n, 2), dtype=np.uint8),
        "sv": sample_sparse(n, rng),
    }
    return cols


def sample_sparse(n: int, rng: np.random.Generator) -> sp.csr_array:
    counts = rng.integers(0, 5, n)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    nnz = int(indptr[-1])
    indices = np.concatenate(
        [np.sort(rng.choice(SPARSE_DIM - 1, c, replace=False)) for c in counts] or [[]]
    ).astype(np.int64)
    data = rng.standard_normal(nnz).astype(np.float32)
    return sp.csr_array((data, indices, indptr), shape=(n, SPARSE_DIM))


def assert_column_equal(name: str, got: Any, want: Any) -> None:
    if isinstance(want, pa.Array):
        assert isinstance(got, pa.Array), name
        assert got.type == want.type, (name, got.type, want.type)
        assert got.equals(want), name
    elif sp.issparse(want):
        assert sp.issparse(got), name
        assert got.shape == want.shape, name
        assert np.array_equal(got.indptr, want.indptr), name
        assert np.array_equal(got.indices, want.indices), name
        assert got.data.dtype == np.float32
        assert np.array_equal(got.data.view(np.uint32), want.data.view(np.uint32)), name
    else:
        got = np.asarray(got)
        assert got.dtype == want.dtype and got.shape == want.shape, (name, got.dtype, got.shape)
        assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), name
