"""Turn user data (rows or loosely typed columns) into the shared column convention.

``rows_to_columns`` pivots a list of row dicts once; ``normalize_columns`` casts
each column in bulk (pyarrow / numpy) and checks it against the schema. Any
problem raises ``DataError`` naming the field and, where one row is at fault,
the row, before anything is written: a batch is accepted whole or not at all.
Per-row Python appears only where the input itself is per-row Python objects
(row dicts, JSON documents, sparse dicts) or on the error path that finds the
offending row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from elanus.errors import DataError
from elanus.schema.arrow import scalar_arrow_type
from elanus.schema.collection import CollectionSchema
from elanus.schema.field import DYNAMIC_FIELD_NAME, FieldSchema
from elanus.schema.types import (
    INTEGER_TYPES,
    DataType,
    dense_vector_numpy_dtype,
    integer_range,
)

__all__ = ["arrow_type", "normalize_columns", "rows_to_columns"]

SPARSE_WIDTH = 2**32
_MISSING = object()


def arrow_type(dtype: DataType, element_type: DataType | None = None) -> pa.DataType:
    """The Arrow type of a scalar field in the shared column convention."""
    if dtype == DataType.ARRAY and element_type is None:
        raise DataError("array field has no element type")
    return scalar_arrow_type(dtype, element_type)


# --- rows -> columns -------------------------------------------------------------


def rows_to_columns(
    schema: CollectionSchema, rows: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], int]:
    """Pivot row dicts into columns of Python values (cast later by ``normalize_columns``).

    Keys that are not fields go into ``$meta`` (JSON text) when the dynamic field
    is enabled, else they are an error. A field missing from some rows is filled
    with ``None`` (its default, if any, is applied later); a field missing
    everywhere is left out so the caller decides (auto_id, partial update).
    """
    num_rows = len(rows)
    names = [f.name for f in schema.fields]
    field_names = set(names)
    uniform = _uniform_field_rows(rows, field_names)
    if uniform is not None:
        # Every row a dict with the same field keys (the usual batch): one list
        # comprehension per column instead of a Python step per value.
        out_fast: dict[str, Any] = {
            name: [r[name] for r in rows] for name in names if name in uniform
        }
        if schema.enable_dynamic_field:
            out_fast[DYNAMIC_FIELD_NAME] = ["{}"] * num_rows
        return out_fast, num_rows
    columns: dict[str, list[Any]] = {name: [None] * num_rows for name in names}
    present: set[str] = set()
    meta: list[str] | None = [] if schema.enable_dynamic_field else None
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise DataError(f"row {i} is not a dict: got {type(row).__name__}")
        extra: dict[str, Any] | None = None
        for key, value in row.items():
            if key in field_names:
                columns[key][i] = value
                present.add(key)
            elif key == DYNAMIC_FIELD_NAME and isinstance(value, Mapping):
                extra = {**(extra or {}), **value}
            elif meta is None:
                raise DataError(
                    f"Attempt to insert an unexpected field `{key}` to collection "
                    "without enabling dynamic field"
                )
            else:
                if extra is None:
                    extra = {}
                extra[key] = value
        if meta is not None:
            meta.append(_dump_json(extra or {}, DYNAMIC_FIELD_NAME, i))
    out: dict[str, Any] = {name: columns[name] for name in names if name in present}
    if meta is not None:
        out[DYNAMIC_FIELD_NAME] = meta
    return out, num_rows


def _uniform_field_rows(rows: Sequence[Any], field_names: set[str]) -> Any:
    """The shared key set when every row is a plain dict with the same keys, all of them
    fields; None otherwise (the general pivot handles it)."""
    if not rows or type(rows[0]) is not dict:
        return None
    keys = rows[0].keys()
    if not keys <= field_names:
        return None
    for r in rows:
        if type(r) is not dict or r.keys() != keys:
            return None
    return keys


def _dump_json(value: Any, field: str, row: int) -> str:
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8")
    if isinstance(value, str):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise DataError(f"Invalid JSON string for field {field} at row {row}: {exc}") from None
        return orjson.dumps(parsed).decode()
    try:
        return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    except TypeError as exc:
        raise DataError(f"field {field} at row {row} is not JSON serializable: {exc}") from None


# --- columns ---------------------------------------------------------------------


def normalize_columns(
    schema: CollectionSchema,
    columns: Mapping[str, Any],
    num_rows: int,
    *,
    for_upsert: bool = False,
    partial: bool = False,
) -> dict[str, Any]:
    """Cast and check every column; return them in the shared convention.

    Columns absent from ``columns``: the auto_id primary key on insert (the
    engine assigns it), function outputs (computed by the engine), fields with a
    default or nullable (filled), and, when ``partial``, any non-key field (the
    engine keeps the stored value). Anything else missing is an error.
    """
    out: dict[str, Any] = {}
    dynamic_extra: dict[str, Any] = {}
    outputs = schema.function_output_names
    for name, values in columns.items():
        if name == DYNAMIC_FIELD_NAME or schema.has_field(name):
            continue
        if not schema.enable_dynamic_field:
            raise DataError(
                f"Attempt to insert an unexpected field `{name}` to collection without enabling dynamic field"
            )
        dynamic_extra[name] = values
    for f in schema.fields:
        if f.name in outputs:
            if f.name in columns:
                raise DataError(
                    f"Attempt to insert an unexpected function output field `{f.name}` to collection"
                )
            continue
        values = columns.get(f.name, _MISSING)
        if values is _MISSING:
            if f.is_primary:
                if f.auto_id and not for_upsert:
                    continue
                raise DataError(f"Insert missed an field `{f.name}` to collection")
            if partial:
                continue
            if f.nullable or f.has_default:
                values = None
            else:
                raise DataError(
                    f"Insert missed an field `{f.name}` to collection without set "
                    "nullable==true or set default_value"
                )
        elif f.is_primary and f.auto_id and not for_upsert:
            raise DataError(
                f"Attempt to insert an unexpected field `{f.name}` to collection: "
                "the primary key is auto_id and is generated by the server"
            )
        out[f.name] = normalize_column(f, values, num_rows)
    if schema.enable_dynamic_field:
        out[DYNAMIC_FIELD_NAME] = _meta_column(
            columns.get(DYNAMIC_FIELD_NAME), dynamic_extra, num_rows
        )
    return out


def normalize_column(f: FieldSchema, values: Any, num_rows: int) -> Any:
    """Cast one column to its field's type and check it (``None`` = all null)."""
    if f.dtype.is_dense_vector:
        if values is None:
            raise DataError(f"vector field {f.name} does not accept null values")
        return _dense_vector(f, values, num_rows)
    if f.dtype == DataType.SPARSE_FLOAT_VECTOR:
        if values is None:
            raise DataError(f"vector field {f.name} does not accept null values")
        return _sparse_vector(f, values, num_rows)
    if values is None:
        array = pa.nulls(num_rows, arrow_type(f.dtype, f.element_type))
    else:
        array = _scalar(f, values, num_rows)
    return _apply_nulls(f, array)


def _length(values: Any) -> int:
    try:
        return len(values)
    except TypeError:
        raise DataError(f"column of type {type(values).__name__} has no length") from None


def _check_rows(f: FieldSchema, got: int, num_rows: int) -> None:
    if got != num_rows:
        raise DataError(
            f"the num_rows ({got}) of field ({f.name}) is not equal to passed num_rows ({num_rows})"
        )


def _as_arrow(f: FieldSchema, values: Any, target: pa.DataType) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    module = type(values).__module__
    try:
        if module.startswith("pandas"):
            return pa.Array.from_pandas(values)
        if isinstance(values, np.ndarray) and values.dtype != object:
            return pa.array(values)
        return pa.array(values if isinstance(values, list) else list(values))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        pass
    # Mixed Python values: find the first that does not fit, for the message.
    for i, value in enumerate(values):
        if value is None:
            continue
        try:
            pa.array([value], type=target)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            raise _type_error(f, i, value) from None
    raise DataError(f"The data type of field {f.name} doesn't match, expected: {_type_name(f)}")


def _type_name(f: FieldSchema) -> str:
    if f.dtype == DataType.ARRAY and f.element_type is not None:
        return f"ARRAY of {f.element_type.name}"
    return f.dtype.name


def _type_error(f: FieldSchema, row: int, value: Any) -> DataError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return DataError(
        f"The data type of field {f.name} doesn't match, expected: {_type_name(f)}, "
        f"got {type(value).__name__} {shown} at row {row}"
    )


def _kind_ok(dtype: DataType, source: pa.DataType) -> bool:
    if pa.types.is_null(source):
        return True
    if dtype == DataType.BOOL:
        return pa.types.is_boolean(source)
    if dtype in INTEGER_TYPES:
        return pa.types.is_integer(source)
    if dtype in (DataType.FLOAT, DataType.DOUBLE):
        return pa.types.is_integer(source) or pa.types.is_floating(source)
    return pa.types.is_string(source) or pa.types.is_large_string(source)


def _first_row(mask: pa.Array | np.ndarray) -> int:
    flags = np.asarray(mask.to_numpy(zero_copy_only=False) if isinstance(mask, pa.Array) else mask)
    return int(np.flatnonzero(flags)[0])


def _scalar(f: FieldSchema, values: Any, num_rows: int) -> pa.Array:
    dtype = f.dtype
    if dtype == DataType.JSON:
        return _json_column(f, values, num_rows)
    if dtype == DataType.TIMESTAMPTZ:
        return _timestamp_column(f, values, num_rows)
    target = arrow_type(dtype, f.element_type)
    array = _as_arrow(f, values, target)
    _check_rows(f, len(array), num_rows)
    if dtype == DataType.ARRAY:
        return _array_column(f, array, target)
    if not _kind_ok(dtype, array.type):
        raise DataError(
            f"The data type of field {f.name} doesn't match, expected: {dtype.name}, "
            f"got {array.type}"
        )
    if dtype in INTEGER_TYPES and array.type != target:
        low, high = integer_range(dtype)
        out_of_range = pc.or_(pc.less(array, low), pc.greater(array, high))
        if pc.any(out_of_range).as_py():
            row = _first_row(pc.fill_null(out_of_range, False))
            raise DataError(
                f"the {row}th element ({array[row].as_py()}) of field {f.name} "
                f"out of range: [{low}, {high}]"
            )
    if dtype in (DataType.FLOAT, DataType.DOUBLE) and pa.types.is_floating(array.type):
        finite = pc.fill_null(pc.is_finite(array), True)
        if not pc.all(finite).as_py():
            row = _first_row(pc.invert(finite))
            raise DataError(
                f"value '{array[row].as_py()}' at row {row} of field {f.name} is not a number or infinity"
            )
    result = array.cast(target)
    if dtype in (DataType.VARCHAR, DataType.TEXT, DataType.STRING):
        _check_lengths(f, result)
    elif dtype == DataType.GEOMETRY:
        result = _geometry_column(f, result)
    if dtype == DataType.FLOAT:
        overflow = pc.fill_null(pc.is_inf(result), False)
        if pc.any(overflow).as_py():
            row = _first_row(overflow)
            raise DataError(f"value at row {row} of field {f.name} overflows FLOAT")
    return result


def _check_lengths(f: FieldSchema, strings: pa.Array, row_of: np.ndarray | None = None) -> None:
    limit = f.max_length
    if limit is None or len(strings) == 0:
        return
    # Milvus counts max_length in bytes of UTF-8, as Go's len() does.
    lengths = pc.binary_length(strings)
    too_long = pc.fill_null(pc.greater(lengths, limit), False)
    if pc.any(too_long).as_py():
        i = _first_row(too_long)
        row = int(row_of[i]) if row_of is not None else i
        raise DataError(
            f"length of varchar field {f.name} exceeds max length, row number: {row}, "
            f"length: {lengths[i].as_py()}, max length: {limit}"
        )


def _array_column(f: FieldSchema, array: pa.Array, target: pa.ListType) -> pa.Array:
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), target)
    if not (
        pa.types.is_list(array.type)
        or pa.types.is_large_list(array.type)
        or pa.types.is_fixed_size_list(array.type)
    ):
        raise DataError(
            f"The data type of field {f.name} doesn't match, expected: {_type_name(f)}, got {array.type}"
        )
    element = f.element_type
    assert element is not None
    if not _kind_ok(element, array.type.value_type):
        raise DataError(
            f"The data type of field {f.name} doesn't match, expected: {_type_name(f)}, "
            f"got list of {array.type.value_type}"
        )
    capacity = f.max_capacity
    if capacity is not None:
        sizes = pc.fill_null(pc.list_value_length(array), 0)
        over = pc.greater(sizes, capacity)
        if pc.any(over).as_py():
            row = _first_row(over)
            raise DataError(
                f"the length ({sizes[row].as_py()}) of {row}th array exceeds max capacity "
                f"({capacity}) of field {f.name}"
            )
    try:
        result = array.cast(target)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataError(f"array field {f.name} does not fit {_type_name(f)}: {exc}") from None
    values = pc.list_flatten(result)
    if pc.any(pc.is_null(values)).as_py():
        raise DataError(f"array field {f.name} does not accept null elements")
    if element == DataType.VARCHAR:
        parents = pc.list_parent_indices(result).to_numpy()
        _check_lengths(f, values, parents)
    return result


def _json_column(f: FieldSchema, values: Any, num_rows: int) -> pa.Array:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = values.to_pylist()
    items = list(values)
    _check_rows(f, len(items), num_rows)
    texts = [None if v is None else _dump_json(v, f.name, i) for i, v in enumerate(items)]
    return pa.array(texts, type=pa.string())


def _meta_column(given: Any, extra: Mapping[str, Any], num_rows: int) -> pa.Array:
    if given is None and not extra:
        return pa.array(["{}"] * num_rows, type=pa.string())
    docs: list[dict[str, Any]] = [{} for _ in range(num_rows)]
    if given is not None:
        items = given.to_pylist() if isinstance(given, (pa.Array, pa.ChunkedArray)) else list(given)
        if len(items) != num_rows:
            raise DataError(
                f"the num_rows ({len(items)}) of field ($meta) is not equal to passed num_rows ({num_rows})"
            )
        for i, item in enumerate(items):
            if item is None:
                continue
            doc = orjson.loads(item) if isinstance(item, (str, bytes)) else item
            if not isinstance(doc, dict):
                raise DataError(f"dynamic field at row {i} must be a JSON object")
            docs[i].update(doc)
    for name, column in extra.items():
        items = (
            column.to_pylist() if isinstance(column, (pa.Array, pa.ChunkedArray)) else list(column)
        )
        if len(items) != num_rows:
            raise DataError(
                f"the num_rows ({len(items)}) of field ({name}) is not equal to passed num_rows ({num_rows})"
            )
        for i, item in enumerate(items):
            docs[i][name] = item
    return pa.array(
        [_dump_json(d, DYNAMIC_FIELD_NAME, i) for i, d in enumerate(docs)], type=pa.string()
    )


def _timestamp_column(f: FieldSchema, values: Any, num_rows: int) -> pa.Array:
    import pandas as pd

    target = pa.timestamp("us", tz="UTC")
    if isinstance(values, (pa.Array, pa.ChunkedArray)) and pa.types.is_timestamp(values.type):
        array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        _check_rows(f, len(array), num_rows)
        if array.type.tz is None:
            array = pc.assume_timezone(array, "UTC")
        return array.cast(target)
    items = values.to_pylist() if isinstance(values, (pa.Array, pa.ChunkedArray)) else values
    series = pd.Series(
        items if not isinstance(items, pd.Series) else items.to_numpy(), dtype=object
    )
    _check_rows(f, len(series), num_rows)
    try:
        parsed = pd.to_datetime(series, utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        for i, value in enumerate(series):
            if value is None:
                continue
            try:
                pd.to_datetime(pd.Series([value], dtype=object), utc=True, format="ISO8601")
            except (ValueError, TypeError, OverflowError):
                raise DataError(
                    f"got invalid timestamptz string '{value}' at row {i} of field {f.name}"
                ) from None
        raise DataError(f"invalid timestamptz values in field {f.name}") from None
    return pa.Array.from_pandas(parsed).cast(target)


def _geometry_column(f: FieldSchema, strings: pa.Array) -> pa.Array:
    import shapely

    raw = strings.to_numpy(zero_copy_only=False)
    present = ~pc.is_null(strings).to_numpy(zero_copy_only=False)
    try:
        geoms = shapely.from_wkt(np.where(present, raw, None), on_invalid="raise")
    except shapely.errors.GEOSException:
        for i in np.flatnonzero(present):
            try:
                shapely.from_wkt(raw[i], on_invalid="raise")
            except shapely.errors.GEOSException as exc:
                raise DataError(
                    f"invalid WKT at row {i} of geometry field {f.name}: {exc}"
                ) from None
        raise
    return pa.array(shapely.to_wkt(geoms, rounding_precision=-1), type=pa.string())


def _apply_nulls(f: FieldSchema, array: pa.Array) -> pa.Array:
    if array.null_count == 0:
        return array
    if f.has_default:
        # Milvus stores the default wherever a value is absent, nullable or not.
        default = f.default_value
        if f.dtype == DataType.JSON and not isinstance(default, str):
            default = orjson.dumps(default).decode()
        return pc.fill_null(array, pa.scalar(default, type=array.type))
    if not f.nullable:
        row = _first_row(pc.is_null(array))
        raise DataError(
            f"the value of field {f.name} at row {row} is None, but the field is not nullable"
        )
    return array


# --- vectors ---------------------------------------------------------------------


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


def _dense_vector(f: FieldSchema, values: Any, num_rows: int) -> np.ndarray:
    dtype = f.dtype
    dim = f.dim or 0
    width = dim // 8 if dtype == DataType.BINARY_VECTOR else dim
    target = dense_vector_numpy_dtype(dtype)
    rows = _vector_rows(f, values)
    if isinstance(rows, np.ndarray) and rows.dtype != object:
        matrix = rows
    else:
        rows = list(rows)
        _check_rows(f, len(rows), num_rows)
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
    _check_rows(f, matrix.shape[0], num_rows)
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


def _sparse_vector(f: FieldSchema, values: Any, num_rows: int) -> Any:
    import scipy.sparse as sp

    if sp.issparse(values):
        matrix = sp.csr_array(values, dtype=np.float32)
        if matrix.ndim == 1:
            matrix = sp.csr_array(matrix.reshape(1, -1))
        rows_csr = matrix
        _check_rows(f, rows_csr.shape[0], num_rows)
        if rows_csr.shape[1] > SPARSE_WIDTH:
            raise DataError(f"sparse vector index out of range in field {f.name}")
        indptr, indices, data = rows_csr.indptr, rows_csr.indices, rows_csr.data
    else:
        rows = _vector_rows(f, values)
        rows = list(rows)
        _check_rows(f, len(rows), num_rows)
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
