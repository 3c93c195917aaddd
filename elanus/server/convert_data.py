"""Field data on the wire (``schema_pb2.FieldData``) ⇄ columns in the shared convention.

Milvus's wire format is already columnar. Nullable columns travel compact on the
way in (``data`` holds only the valid rows, ``valid_data`` the mask) and full on the
way out (a placeholder where ``valid_data`` is False), which is what pymilvus sends
and reads. Fixed-width payloads (floats, vectors) are moved as raw little-endian
bytes in one go rather than element by element: protobuf's packed encoding of a
repeated float is exactly the array's bytes behind a short header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from pymilvus.grpc_gen import schema_pb2

from elanus.errors import DataError
from elanus.schema import DYNAMIC_FIELD_NAME, CollectionSchema, DataType
from elanus.schema.arrow import SCALAR_ARROW_TYPES
from elanus.schema.scalars import timestamptz_text
from elanus.schema.types import dense_vector_numpy_dtype
from elanus.schema.vector_validity import is_validity_column, validity_column_name

__all__ = [
    "columns_from_fields_data",
    "field_data_from_column",
    "fields_data_from_columns",
    "ids_from_proto",
    "ids_to_proto",
    "scalar_values_from_proto",
]

_SPARSE_DIM = 2**32
_SPARSE_PAIR = np.dtype([("index", "<u4"), ("value", "<f4")])

# The ScalarField slot carrying each scalar data type (Arrow types: SCALAR_ARROW_TYPES).
_WIRE_TYPES: dict[DataType, pa.DataType] = {DataType.INT8: pa.int32(), DataType.INT16: pa.int32()}
_SLOTS: dict[DataType, str] = {
    DataType.BOOL: "bool_data",
    DataType.INT8: "int_data",
    DataType.INT16: "int_data",
    DataType.INT32: "int_data",
    DataType.INT64: "long_data",
    DataType.FLOAT: "float_data",
    DataType.DOUBLE: "double_data",
    DataType.VARCHAR: "string_data",
    DataType.STRING: "string_data",
    DataType.TEXT: "string_data",
    DataType.JSON: "json_data",
    DataType.GEOMETRY: "geometry_wkt_data",
    DataType.TIMESTAMPTZ: "string_data",
}
# What an ARRAY field may hold (its cells are ScalarFields of these slots).
_ARRAY_ELEMENTS = frozenset(
    {
        DataType.BOOL,
        DataType.INT8,
        DataType.INT16,
        DataType.INT32,
        DataType.INT64,
        DataType.FLOAT,
        DataType.DOUBLE,
        DataType.VARCHAR,
        DataType.STRING,
    }
)
_VECTOR_SLOTS: dict[DataType, str] = {
    DataType.FLOAT_VECTOR: "float_vector",
    DataType.BINARY_VECTOR: "binary_vector",
    DataType.FLOAT16_VECTOR: "float16_vector",
    DataType.BFLOAT16_VECTOR: "bfloat16_vector",
    DataType.INT8_VECTOR: "int8_vector",
}


# --- raw packed helpers -------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def packed_field(field_number: int, raw: bytes) -> bytes:
    """Serialized bytes of a packed repeated field (or a bytes field) holding ``raw``."""
    return _varint((field_number << 3) | 2) + _varint(len(raw)) + raw


def _floats_from_repeated(values: Any, dtype: str) -> np.ndarray:
    return np.asarray(values, dtype=dtype)


# --- ids ----------------------------------------------------------------------------


def ids_to_proto(ids: Any) -> schema_pb2.IDs:
    """Primary keys (list, numpy array or pyarrow array) as ``IDs``."""
    out = schema_pb2.IDs()
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    if isinstance(ids, pa.Array):
        if pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type):
            out.str_id.data.extend(ids.to_pylist())
            return out
        ids = ids.to_numpy(zero_copy_only=False)
    if isinstance(ids, np.ndarray):
        if ids.dtype.kind in "iu":
            out.int_id.data.extend(ids.astype(np.int64, copy=False).tolist())
        else:
            out.str_id.data.extend([str(v) for v in ids.tolist()])
        return out
    values = list(ids)
    if values and isinstance(values[0], str):
        out.str_id.data.extend(values)
    else:
        out.int_id.data.extend([int(v) for v in values])
    return out


def ids_from_proto(ids: schema_pb2.IDs) -> list[Any]:
    which = ids.WhichOneof("id_field")
    if which == "int_id":
        return list(ids.int_id.data)
    if which == "str_id":
        return list(ids.str_id.data)
    return []


# --- wire → columns -----------------------------------------------------------------


def _expand_nulls(values: pa.Array, valid: np.ndarray | None, num_rows: int) -> pa.Array:
    """Place compact values at the valid positions of a ``num_rows`` column."""
    if valid is None:
        return values
    if len(valid) != num_rows:
        raise DataError(f"valid_data has {len(valid)} entries, expected {num_rows}")
    if len(values) == num_rows:
        return pc.if_else(pa.array(valid), values, pa.nulls(num_rows, values.type))
    if len(values) != int(np.count_nonzero(valid)):
        raise DataError(
            f"field has {len(values)} values but valid_data marks {int(np.count_nonzero(valid))} rows"
        )
    positions = np.cumsum(valid, dtype=np.int64) - 1
    return values.take(pa.array(positions, mask=~valid))


def _timestamps_from_strings(values: Sequence[str]) -> pa.Array:
    strings = pa.array(values, pa.string())
    try:
        return strings.cast(pa.timestamp("us", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        import pandas as pd

        try:
            parsed = pd.to_datetime(pd.Series(list(values)), utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise DataError(f"invalid timestamptz value: {exc}") from None
        return pa.array(parsed, pa.timestamp("us", tz="UTC"))


def scalar_values_from_proto(dtype: DataType, scalars: schema_pb2.ScalarField) -> pa.Array:
    """The values of one ScalarField as an Arrow array of the type's convention."""
    if dtype == DataType.JSON:
        raw = pa.array(list(scalars.json_data.data), pa.binary())
        return raw.cast(pa.string())
    if dtype == DataType.TIMESTAMPTZ:
        if len(scalars.timestamptz_data.data):
            micros = np.asarray(scalars.timestamptz_data.data, dtype=np.int64)
            return pa.array(micros, pa.timestamp("us", tz="UTC"))
        return _timestamps_from_strings(list(scalars.string_data.data))
    if dtype == DataType.GEOMETRY:
        return pa.array(list(scalars.geometry_wkt_data.data), pa.string())
    if dtype == DataType.ARRAY:
        return _array_column(scalars.array_data)
    slot = _SLOTS.get(dtype)
    if slot is None:
        raise DataError(f"unsupported scalar data type {dtype.name}")
    data = getattr(scalars, slot).data
    # INT8/INT16 travel as int32: kept that wide so the engine's range check sees
    # an out-of-range value instead of a silently wrapped one.
    arrow_type = _WIRE_TYPES.get(dtype, SCALAR_ARROW_TYPES[dtype])
    if pa.types.is_string(arrow_type):
        return pa.array(list(data), arrow_type)
    values = np.asarray(data, dtype=arrow_type.to_pandas_dtype())
    return pa.array(values, arrow_type)


_SLOT_TYPES: dict[str, DataType] = {
    "bool_data": DataType.BOOL,
    "int_data": DataType.INT32,
    "long_data": DataType.INT64,
    "float_data": DataType.FLOAT,
    "double_data": DataType.DOUBLE,
    "string_data": DataType.VARCHAR,
}


def _named_data_type(code: int, what: str) -> DataType:
    """The DataType a request names, refused clearly when the number is not one."""
    try:
        return DataType(code)
    except ValueError:
        raise DataError(f"{what}: unknown data type {code}") from None


def _array_column(array: schema_pb2.ArrayArray) -> pa.Array:
    element = _named_data_type(array.element_type, "array") if array.element_type else None
    if element is not None and element not in _ARRAY_ELEMENTS:
        raise DataError(f"unsupported array element type {element.name}")
    if element is None:
        # pymilvus leaves element_type unset; the cells' oneof says what they hold.
        slots = {cell.WhichOneof("data") for cell in array.data} - {None}
        if len(slots) > 1:
            raise DataError(f"array field mixes element kinds {sorted(slots)}")  # type: ignore[type-var]
        element = _SLOT_TYPES.get(slots.pop()) if slots else None  # type: ignore[arg-type]
    rows = [] if element is None else [getattr(c, _SLOTS[element]).data for c in array.data]
    if element is None:
        rows = [[] for _ in array.data]
    element_type = (
        pa.null() if element is None else _WIRE_TYPES.get(element, SCALAR_ARROW_TYPES.get(element))
    )
    if element_type is None:
        raise DataError(f"unsupported array element type {element.name if element else ''}")
    # One ScalarField per row is the protocol's shape; the rows are stitched into a
    # single list array from their lengths.
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int32, count=len(rows))
    offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int32)]).astype(np.int32)
    flat: list[Any] = [v for r in rows for v in r]
    if pa.types.is_string(element_type) or pa.types.is_null(element_type):
        values = pa.array(flat, element_type)
    else:
        values = pa.array(np.asarray(flat, dtype=element_type.to_pandas_dtype()), element_type)
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _dense_from_proto(
    dtype: DataType, vectors: schema_pb2.VectorField, name: str = ""
) -> np.ndarray:
    dim = int(vectors.dim)
    field = f"{dtype.name} field {name}" if name else f"{dtype.name} field"
    if dim <= 0:
        raise DataError(f"{field} data has no dim")
    if dtype == DataType.BINARY_VECTOR and dim % 8:
        raise DataError(f"{field} dim {dim} is not a multiple of 8")
    if dtype == DataType.FLOAT_VECTOR:
        flat = _floats_from_repeated(vectors.float_vector.data, "<f4")
    else:
        raw = getattr(vectors, _VECTOR_SLOTS[dtype])
        numpy_dtype = np.dtype(dense_vector_numpy_dtype(dtype))
        if len(raw) % numpy_dtype.itemsize:
            raise DataError(f"{field} data of {len(raw)} bytes is not a whole number of values")
        flat = np.frombuffer(raw, dtype=numpy_dtype)
    width = dim // 8 if dtype == DataType.BINARY_VECTOR else dim
    if flat.size % width:
        raise DataError(
            f"{field} data of {flat.size} elements is not a whole number of rows of dim {dim}"
        )
    return flat.reshape(-1, width)


def sparse_from_rows(rows: Sequence[bytes]) -> sp.csr_array:
    """Sparse rows as the protocol packs them: (uint32 index, float32 value) pairs."""
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    if np.any(lengths % 8):
        raise DataError("sparse float vector row is not a whole number of (index, value) pairs")
    pairs = np.frombuffer(b"".join(rows), dtype=_SPARSE_PAIR)
    indptr = np.concatenate([[0], np.cumsum(lengths // 8)])
    return sp.csr_array(
        (pairs["value"].astype(np.float32), pairs["index"].astype(np.int64), indptr),
        shape=(len(rows), _SPARSE_DIM),
    )


def _column_from_field_data(fd: schema_pb2.FieldData, num_rows: int) -> Any:
    dtype = _named_data_type(fd.type, f"field {fd.field_name}")
    valid = np.asarray(fd.valid_data, dtype=bool) if len(fd.valid_data) else None
    if dtype.is_dense_vector:
        return _dense_from_proto(dtype, fd.vectors, fd.field_name)
    if dtype == DataType.SPARSE_FLOAT_VECTOR:
        return sparse_from_rows(list(fd.vectors.sparse_float_vector.contents))
    values = scalar_values_from_proto(dtype, fd.scalars)
    return _expand_nulls(values, valid, num_rows)


def field_num_rows(fd: schema_pb2.FieldData) -> int:
    """Rows a FieldData describes (the valid mask counts when present)."""
    if len(fd.valid_data):
        return len(fd.valid_data)
    dtype = _named_data_type(fd.type, f"field {fd.field_name}")
    if dtype.is_dense_vector:
        return int(_dense_from_proto(dtype, fd.vectors, fd.field_name).shape[0])
    if dtype == DataType.SPARSE_FLOAT_VECTOR:
        return len(fd.vectors.sparse_float_vector.contents)
    if dtype == DataType.ARRAY:
        return len(fd.scalars.array_data.data)
    slot = _SLOTS.get(dtype)
    return 0 if slot is None else len(getattr(fd.scalars, slot).data)


def columns_from_fields_data(
    fields_data: Sequence[schema_pb2.FieldData], num_rows: int
) -> dict[str, Any]:
    """Columns by field name; the dynamic field arrives as ``$meta``."""
    columns: dict[str, Any] = {}
    for fd in fields_data:
        name = DYNAMIC_FIELD_NAME if fd.is_dynamic else fd.field_name
        if name in columns:
            raise DataError(f"duplicated field name {name} in insert data")
        columns[name] = _column_from_field_data(fd, num_rows)
        if _named_data_type(fd.type, f"field {fd.field_name}").is_vector and len(fd.valid_data):
            # The vectors of the valid rows only; the engine spreads them out.
            columns[validity_column_name(name)] = pa.array(
                np.asarray(fd.valid_data, dtype=bool), type=pa.bool_()
            )
    return columns


# --- columns → wire -----------------------------------------------------------------


def _as_arrow(column: Any) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks()
    if isinstance(column, pa.Array):
        return column
    return pa.array(column)


def _wire_type_of(column: Any) -> DataType:
    """A data type for a column the schema does not name (e.g. ``count(*)``)."""
    if isinstance(column, np.ndarray) and column.ndim == 2:
        for dtype in (
            DataType.FLOAT_VECTOR,
            DataType.FLOAT16_VECTOR,
            DataType.INT8_VECTOR,
            DataType.BINARY_VECTOR,
        ):
            if column.dtype == dense_vector_numpy_dtype(dtype):
                return dtype
        if column.dtype == np.uint16:
            return DataType.BFLOAT16_VECTOR
    if sp.issparse(column):
        return DataType.SPARSE_FLOAT_VECTOR
    arrow_type = _as_arrow(column).type
    for dtype, candidate in SCALAR_ARROW_TYPES.items():
        if candidate == arrow_type:
            return dtype
    if pa.types.is_list(arrow_type):
        return DataType.ARRAY
    if pa.types.is_timestamp(arrow_type):
        return DataType.TIMESTAMPTZ
    if pa.types.is_integer(arrow_type):
        return DataType.INT64
    return DataType.VARCHAR


def _fill_scalars(dtype: DataType, values: pa.Array, scalars: schema_pb2.ScalarField) -> None:
    if dtype == DataType.ARRAY:
        _fill_array(values, scalars.array_data)
        return
    if dtype == DataType.TIMESTAMPTZ:
        text = timestamptz_text(values)
        scalars.string_data.data.extend(text.fill_null("").to_pylist())
        return
    slot = _SLOTS[dtype]
    target = getattr(scalars, slot)
    if dtype == DataType.JSON:
        target.data.extend(values.cast(pa.binary()).fill_null(b"").to_pylist())
    elif pa.types.is_string(SCALAR_ARROW_TYPES[dtype]):
        target.data.extend(values.fill_null("").to_pylist())
    elif dtype in (DataType.FLOAT, DataType.DOUBLE):
        raw = values.fill_null(0).to_numpy(zero_copy_only=False)
        little = raw.astype("<f4" if dtype == DataType.FLOAT else "<f8", copy=False)
        target.MergeFromString(packed_field(1, little.tobytes()))
    elif dtype == DataType.BOOL:
        target.data.extend(values.fill_null(False).to_pylist())
    else:
        target.data.extend(values.fill_null(0).to_numpy(zero_copy_only=False).tolist())


def _fill_array(values: pa.Array, target: schema_pb2.ArrayArray) -> None:
    value_type = values.type.value_type
    element = next(
        (d for d, t in SCALAR_ARROW_TYPES.items() if t == value_type and d != DataType.STRING),
        DataType.VARCHAR,
    )
    if element in (DataType.JSON, DataType.GEOMETRY, DataType.TEXT):
        element = DataType.VARCHAR
    target.element_type = int(element)
    slot = _SLOTS[element]
    for row in values.to_pylist():
        cell = target.data.add()
        if row is not None:
            getattr(cell, slot).data.extend(row)


def field_data_from_column(
    name: str,
    dtype: DataType,
    column: Any,
    *,
    is_dynamic: bool = False,
    field_id: int = 0,
) -> schema_pb2.FieldData:
    """One output column as FieldData (full length; nulls marked in ``valid_data``)."""
    fd = schema_pb2.FieldData(
        type=int(dtype), field_name=name, is_dynamic=is_dynamic, field_id=field_id
    )
    if dtype.is_dense_vector:
        matrix = np.asarray(column)
        if matrix.ndim != 2:
            raise DataError(f"vector column {name} is not 2-D")
        dim = matrix.shape[1] * (8 if dtype == DataType.BINARY_VECTOR else 1)
        fd.vectors.dim = dim
        little = matrix.astype(dense_vector_numpy_dtype(dtype), copy=False)
        if dtype == DataType.FLOAT_VECTOR:
            fd.vectors.float_vector.MergeFromString(packed_field(1, little.tobytes()))
        else:
            setattr(fd.vectors, _VECTOR_SLOTS[dtype], little.tobytes())
        return fd
    if dtype == DataType.SPARSE_FLOAT_VECTOR:
        _fill_sparse(sp.csr_array(column), fd.vectors)
        return fd
    values = _as_arrow(column)
    if values.null_count:
        fd.valid_data.extend(values.is_valid().to_numpy(zero_copy_only=False).tolist())
    _fill_scalars(dtype, values, fd.scalars)
    return fd


def _fill_sparse(matrix: sp.csr_array, vectors: schema_pb2.VectorField) -> None:
    pairs = np.empty(matrix.nnz, dtype=_SPARSE_PAIR)
    pairs["index"] = matrix.indices
    pairs["value"] = matrix.data
    raw = pairs.tobytes()
    bounds = (np.asarray(matrix.indptr, dtype=np.int64) * 8).tolist()
    vectors.sparse_float_vector.contents.extend(
        [raw[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]
    )
    max_index = int(matrix.indices.max()) + 1 if matrix.nnz else 0
    vectors.sparse_float_vector.dim = max_index
    vectors.dim = max_index


def fields_data_from_columns(
    columns: Mapping[str, Any],
    names: Sequence[str],
    schema: CollectionSchema | None,
) -> list[schema_pb2.FieldData]:
    """Output columns, in ``names`` order, typed by the schema where it names them."""
    out: list[schema_pb2.FieldData] = []
    for name in names:
        if name not in columns or is_validity_column(name):
            continue
        column = columns[name]
        valid = columns.get(validity_column_name(name))
        if valid is not None:
            out.append(_nullable_vector_field_data(name, column, valid, schema))
            continue
        if name == DYNAMIC_FIELD_NAME:
            out.append(field_data_from_column(name, DataType.JSON, column, is_dynamic=True))
            continue
        field = schema.get(name) if schema is not None else None
        if field is not None:
            out.append(field_data_from_column(name, field.dtype, column, field_id=field.field_id))
        else:
            out.append(field_data_from_column(name, _wire_type_of(column), column))
    return out


def _nullable_vector_field_data(
    name: str, column: Any, valid: Any, schema: CollectionSchema | None
) -> schema_pb2.FieldData:
    """A nullable vector field as the protocol carries it: ``valid_data`` for every
    row and the vectors of the valid rows only."""
    if isinstance(valid, (pa.Array, pa.ChunkedArray)):
        valid = valid.to_numpy(zero_copy_only=False)
    mask = np.asarray(valid, dtype=bool)
    field = schema.get(name) if schema is not None else None
    dtype = field.dtype if field is not None else _wire_type_of(column)
    kept = sp.csr_array(column)[mask] if sp.issparse(column) else np.asarray(column)[mask]
    fd = field_data_from_column(
        name, dtype, kept, field_id=field.field_id if field is not None else 0
    )
    fd.valid_data.extend(mask.tolist())
    return fd


def json_dumps(value: Any) -> bytes:
    return orjson.dumps(value)
