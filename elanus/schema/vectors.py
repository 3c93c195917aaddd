"""Vector columns: dense vectors to a 2-D numpy matrix, sparse vectors to a CSR array.

Dense input is stacked once and checked in bulk (width, finiteness, value range);
sparse input is per-row Python objects (dicts, pairs, scipy rows) by nature.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from elanus.errors import DataError
from elanus.schema.column_checks import check_rows
from elanus.schema.field import FieldSchema
from elanus.schema.types import DataType, dense_vector_numpy_dtype

__all__ = ["SPARSE_WIDTH", "dense_vector_column", "expand_vector_rows", "sparse_vector_column"]

SPARSE_WIDTH = 2**32


def _vector_rows(f: FieldSchema, values: Any) -> Any:
    """Unwrap Arrow and pandas containers into numpy or a Python list of rows."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if pa.types.is_fixed_size_list(values.type) and values.null_count == 0:
            flat = values.flatten().to_numpy(zero_copy_only=False)
            return flat.reshape(len(values), values.type.list_size)
        return values.to_pylist()
    if type(values).__module__.startswith("pandas"):
        return list(values.to_numpy())
    return values


def dense_vector_column(f: FieldSchema, values: Any, num_rows: int) -> np.ndarray:
    """A dense vector column as a contiguous (rows, width) matrix of the field's dtype."""
    dtype = f.dtype
    dim = f.dim or 0
    width = dim // 8 if dtype == DataType.BINARY_VECTOR else dim
    target = dense_vector_numpy_dtype(dtype)
    rows = _vector_rows(f, values)
    if isinstance(rows, np.ndarray) and rows.dtype != object:
        matrix = rows
    else:
        rows = list(rows)
        check_rows(f, len(rows), num_rows)
        if any(r is None for r in rows):
            raise DataError(f"vector field {f.name} does not accept null values")
        if rows and isinstance(rows[0], (bytes, bytearray, memoryview)):
            return _from_bytes(f, rows, width, target)
        try:
            matrix = np.asarray(rows) if rows else np.empty((0, width), dtype=target)
        except ValueError:
            matrix = np.empty(0, dtype=object)
        if matrix.dtype == object or matrix.ndim != 2:
            for i, row in enumerate(rows):
                size = len(row) if hasattr(row, "__len__") else -1
                if size != width:
                    raise _dim_error(f, size, width, i)
            raise DataError(
                f"The data type of field {f.name} doesn't match, expected: {dtype.name}"
            )
    if matrix.ndim == 1 and num_rows == 1 and len(matrix) == width:
        matrix = matrix.reshape(1, width)
    if matrix.ndim != 2:
        raise DataError(f"vector field {f.name} expects one vector per row")
    check_rows(f, matrix.shape[0], num_rows)
    if matrix.shape[1] != width:
        raise _flat_dim_error(f, matrix.shape[0], matrix.shape[1], width)
    return _cast_dense(f, matrix, target)


def _flat_dim_error(f: FieldSchema, rows: int, got: int, width: int) -> DataError:
    """Milvus sees a batch of vectors as one flat run of values: a run that does not
    divide by the dim is reported as such, one that does as a dim mismatch."""
    total = rows * got
    if total % width == 0:
        return _dim_error(f, got, width, None)
    if f.dtype == DataType.BINARY_VECTOR:
        return DataError(f"the length({total * 8}) of all bits should divide the dim({width * 8})")
    return DataError(f"the length({total}) of float data should divide the dim({width})")


def _dim_error(f: FieldSchema, got: int, width: int, row: int | None) -> DataError:
    unit = 8 if f.dtype == DataType.BINARY_VECTOR else 1
    where = "" if row is None else f" at row {row}"
    return DataError(
        f"the dim ({got * unit if got >= 0 else got}) of field data({f.name}) is not equal to "
        f"schema dim ({width * unit}){where}"
    )


def _from_bytes(f: FieldSchema, rows: list[Any], width: int, target: np.dtype) -> np.ndarray:
    size = width * target.itemsize
    for i, row in enumerate(rows):
        if not isinstance(row, (bytes, bytearray, memoryview)) or len(row) != size:
            got = len(row) // target.itemsize if hasattr(row, "__len__") else -1
            raise _dim_error(f, got, width, i)
    matrix = np.frombuffer(b"".join(bytes(r) for r in rows), dtype=target).reshape(len(rows), width)
    return _cast_dense(f, matrix, target)


def _cast_dense(f: FieldSchema, matrix: np.ndarray, target: np.dtype) -> np.ndarray:
    dtype = f.dtype
    kind = matrix.dtype.kind
    if dtype == DataType.BFLOAT16_VECTOR:
        import ml_dtypes

        if matrix.dtype == ml_dtypes.bfloat16:
            values = matrix
        elif kind in "fiu" and matrix.dtype != np.uint16:
            values = matrix.astype(ml_dtypes.bfloat16)
        elif matrix.dtype == np.uint16:
            return np.ascontiguousarray(matrix, dtype=target)
        else:
            raise DataError(
                f"The data type of field {f.name} doesn't match, expected: BFLOAT16_VECTOR"
            )
        _check_finite(f, values.astype(np.float32))
        return np.ascontiguousarray(values).view(np.uint16).astype(target, copy=False)
    if dtype in (DataType.FLOAT_VECTOR, DataType.FLOAT16_VECTOR):
        if kind not in "fiu":
            raise DataError(
                f"The data type of field {f.name} doesn't match, expected: {dtype.name}"
            )
        if kind == "f":
            _check_finite(f, matrix)
        with np.errstate(over="ignore"):
            out = np.ascontiguousarray(matrix, dtype=target)
        if kind == "f" or dtype == DataType.FLOAT16_VECTOR:
            _check_finite(f, out)
        return out
    if dtype == DataType.INT8_VECTOR:
        if kind not in "iu":
            raise DataError(f"The data type of field {f.name} doesn't match, expected: INT8_VECTOR")
        if matrix.size and (matrix.min() < -128 or matrix.max() > 127):
            row = int(np.flatnonzero(((matrix < -128) | (matrix > 127)).any(axis=1))[0])
            raise DataError(
                f"int8 vector value out of range [-128, 127] at row {row} of field {f.name}"
            )
        return np.ascontiguousarray(matrix, dtype=target)
    # BINARY_VECTOR: packed bytes, dim/8 per row
    if kind not in "iu":
        raise DataError(f"The data type of field {f.name} doesn't match, expected: BINARY_VECTOR")
    if matrix.size and (matrix.min() < 0 or matrix.max() > 255):
        raise DataError(f"binary vector bytes out of range [0, 255] in field {f.name}")
    return np.ascontiguousarray(matrix, dtype=target)


def _check_finite(f: FieldSchema, matrix: np.ndarray) -> None:
    finite = np.isfinite(matrix)
    if not finite.all():
        row = int(np.flatnonzero(~finite.all(axis=1))[0])
        raise DataError(f"float vector field {f.name} contains NaN or Inf at row {row}")


def sparse_vector_column(f: FieldSchema, values: Any, num_rows: int) -> Any:
    """A sparse vector column as a (rows, 2**32) float32 CSR array."""
    import scipy.sparse as sp

    if sp.issparse(values):
        matrix = sp.csr_array(values, dtype=np.float32)
        if matrix.ndim == 1:
            matrix = sp.csr_array(matrix.reshape(1, -1))
        rows_csr = matrix
        check_rows(f, rows_csr.shape[0], num_rows)
        if rows_csr.shape[1] > SPARSE_WIDTH:
            raise DataError(f"sparse vector index out of range in field {f.name}")
        indptr, indices, data = rows_csr.indptr, rows_csr.indices, rows_csr.data
    else:
        rows = _vector_rows(f, values)
        rows = list(rows)
        check_rows(f, len(rows), num_rows)
        index_parts: list[np.ndarray] = []
        value_parts: list[np.ndarray] = []
        for i, row in enumerate(rows):
            idx, val = _sparse_row(f, row, i)
            order = np.argsort(idx, kind="stable")
            index_parts.append(idx[order])
            value_parts.append(val[order])
        counts = np.array([len(p) for p in index_parts], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        indices = np.concatenate(index_parts) if index_parts else np.empty(0, np.int64)
        data = np.concatenate(value_parts) if value_parts else np.empty(0, np.float32)
    data = np.asarray(data, dtype=np.float32)
    indices = np.asarray(indices, dtype=np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= SPARSE_WIDTH - 1):
        raise DataError(f"sparse vector index must be in [0, {SPARSE_WIDTH - 2}] in field {f.name}")
    finite = np.isfinite(data)
    if not finite.all():
        at = int(np.flatnonzero(~finite)[0])
        row = int(np.searchsorted(indptr, at, side="right") - 1)
        raise DataError(f"sparse float vector field {f.name} contains NaN or Inf at row {row}")
    return sp.csr_array(
        (data, indices.astype(np.uint32).astype(np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(num_rows, SPARSE_WIDTH),
    )


def _sparse_row(f: FieldSchema, row: Any, i: int) -> tuple[np.ndarray, np.ndarray]:
    import scipy.sparse as sp

    if isinstance(row, Mapping):
        try:
            idx = np.fromiter((int(k) for k in row), dtype=np.int64, count=len(row))
            val = np.fromiter((float(v) for v in row.values()), dtype=np.float64, count=len(row))
        except (TypeError, ValueError):
            raise DataError(
                f"sparse vector at row {i} of field {f.name} must map int indices to float values"
            ) from None
        return idx, val
    if sp.issparse(row):
        coo = sp.coo_array(row)
        return np.asarray(coo.coords[-1], dtype=np.int64), np.asarray(coo.data, dtype=np.float64)
    if isinstance(row, (tuple, list)) and len(row) == 2 and all(hasattr(p, "__len__") for p in row):
        idx = np.asarray(row[0])
        val = np.asarray(row[1])
        if idx.ndim == 1 and val.ndim == 1 and len(idx) == len(val) and idx.dtype.kind in "iu":
            return idx.astype(np.int64), val.astype(np.float64)
    if isinstance(row, (list, tuple)) and all(
        isinstance(p, (tuple, list)) and len(p) == 2 for p in row
    ):
        pairs = np.asarray(row, dtype=np.float64).reshape(-1, 2)
        return pairs[:, 0].astype(np.int64), pairs[:, 1]
    raise DataError(
        f"The data type of field {f.name} doesn't match, expected: SPARSE_FLOAT_VECTOR, "
        f"got {type(row).__name__} at row {i}"
    )


def expand_vector_rows(column: Any, valid: np.ndarray) -> Any:
    """Spread the vectors of the valid rows over ``len(valid)`` rows; the others
    are zero (dense) or empty (sparse)."""
    import scipy.sparse as sp

    n = len(valid)
    if isinstance(column, np.ndarray):
        out = np.zeros((n, column.shape[1]), dtype=column.dtype)
        out[valid] = column
        return out
    counts = np.zeros(n, dtype=np.int64)
    counts[valid] = np.diff(column.indptr)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sp.csr_array((column.data, column.indices, indptr), shape=(n, column.shape[1]))
