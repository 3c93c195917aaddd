"""Scalar columns: cast loosely typed values to the field's Arrow type and check them.

Casting and range, length, capacity and finiteness checks run in bulk (pyarrow
compute); per-row Python appears only for JSON documents and on the error path
that finds the offending row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from elanus.errors import DataError
from elanus.schema.arrow import scalar_arrow_type
from elanus.schema.column_checks import check_rows, dump_json, first_row, type_error, type_name
from elanus.schema.field import DYNAMIC_FIELD_NAME, FieldSchema
from elanus.schema.types import INTEGER_TYPES, DataType, integer_range

__all__ = ["apply_nulls", "arrow_type", "meta_column", "scalar_column", "timestamptz_text"]


def arrow_type(dtype: DataType, element_type: DataType | None = None) -> pa.DataType:
    """The Arrow type of a scalar field in the shared column convention."""
    if dtype == DataType.ARRAY and element_type is None:
        raise DataError("array field has no element type")
    return scalar_arrow_type(dtype, element_type)


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
            raise type_error(f, i, value) from None
    raise DataError(f"The data type of field {f.name} doesn't match, expected: {type_name(f)}")


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


def scalar_column(f: FieldSchema, values: Any, num_rows: int) -> pa.Array:
    """Cast one scalar column (no nulls filled yet) to the field's Arrow type and check it."""
    dtype = f.dtype
    if dtype == DataType.JSON:
        return _json_column(f, values, num_rows)
    if dtype == DataType.TIMESTAMPTZ:
        return _timestamp_column(f, values, num_rows)
    target = arrow_type(dtype, f.element_type)
    array = _as_arrow(f, values, target)
    check_rows(f, len(array), num_rows)
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
            row = first_row(pc.fill_null(out_of_range, False))
            raise DataError(
                f"the {row}th element ({array[row].as_py()}) of field {f.name} "
                f"out of range: [{low}, {high}]"
            )
    if dtype in (DataType.FLOAT, DataType.DOUBLE) and pa.types.is_floating(array.type):
        finite = pc.fill_null(pc.is_finite(array), True)
        if not pc.all(finite).as_py():
            row = first_row(pc.invert(finite))
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
            row = first_row(overflow)
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
        i = first_row(too_long)
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
            f"The data type of field {f.name} doesn't match, expected: {type_name(f)}, got {array.type}"
        )
    element = f.element_type
    assert element is not None
    if not _kind_ok(element, array.type.value_type):
        raise DataError(
            f"The data type of field {f.name} doesn't match, expected: {type_name(f)}, "
            f"got list of {array.type.value_type}"
        )
    capacity = f.max_capacity
    if capacity is not None:
        sizes = pc.fill_null(pc.list_value_length(array), 0)
        over = pc.greater(sizes, capacity)
        if pc.any(over).as_py():
            row = first_row(over)
            raise DataError(
                f"the length ({sizes[row].as_py()}) of {row}th array exceeds max capacity "
                f"({capacity}) of field {f.name}"
            )
    try:
        result = array.cast(target)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataError(f"array field {f.name} does not fit {type_name(f)}: {exc}") from None
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
    check_rows(f, len(items), num_rows)
    texts = [None if v is None else dump_json(v, f.name, i) for i, v in enumerate(items)]
    return pa.array(texts, type=pa.string())


def meta_column(given: Any, extra: Mapping[str, Any], num_rows: int) -> pa.Array:
    """The ``$meta`` column: the given documents merged with the non-field columns."""
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
        [dump_json(d, DYNAMIC_FIELD_NAME, i) for i, d in enumerate(docs)], type=pa.string()
    )


def _timestamp_column(f: FieldSchema, values: Any, num_rows: int) -> pa.Array:
    import pandas as pd

    target = pa.timestamp("us", tz="UTC")
    if isinstance(values, (pa.Array, pa.ChunkedArray)) and pa.types.is_timestamp(values.type):
        array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        check_rows(f, len(array), num_rows)
        if array.type.tz is None:
            array = pc.assume_timezone(array, "UTC")
        return array.cast(target)
    items = values.to_pylist() if isinstance(values, (pa.Array, pa.ChunkedArray)) else values
    series = pd.Series(
        items if not isinstance(items, pd.Series) else items.to_numpy(), dtype=object
    )
    check_rows(f, len(series), num_rows)
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


def apply_nulls(f: FieldSchema, array: pa.Array) -> pa.Array:
    """Fill nulls with the field's default; refuse them where the field is not nullable."""
    if array.null_count == 0:
        return array
    if f.has_default:
        # Milvus stores the default wherever a value is absent, nullable or not.
        default = f.default_value
        if f.dtype == DataType.JSON and not isinstance(default, str):
            default = orjson.dumps(default).decode()
        if f.dtype == DataType.TIMESTAMPTZ:
            # The default is ISO-8601 text, read as any inserted value is.
            return pc.fill_null(array, _timestamp_column(f, [default], 1)[0])
        return pc.fill_null(array, pa.scalar(default, type=array.type))
    if not f.nullable:
        row = first_row(pc.is_null(array))
        raise DataError(
            f"the value of field {f.name} at row {row} is None, but the field is not nullable"
        )
    return array


def timestamptz_text(values: pa.Array) -> pa.Array:
    """TIMESTAMPTZ values as Milvus writes them: ISO-8601 with the microseconds without
    trailing zeros, in UTC with a ``Z`` (``2025-01-01T00:00:00.5Z``), or in the time zone
    the array's type names with its offset (``2025-01-01T08:00:00.5+08:00``, ``Z`` where
    the offset is zero, as Go writes it); nulls stay null."""
    zone = getattr(values.type, "tz", None)
    if zone not in (None, "UTC", "+00:00"):
        local = values.cast(pa.timestamp("us", tz=zone))
        text = pc.strftime(local, format="%Y-%m-%dT%H:%M:%S%z")
        text = pc.replace_substring_regex(
            text, pattern=r"\.?0*([+-]\d{2})(\d{2})$", replacement=r"\1:\2"
        )
        return pc.replace_substring_regex(text, pattern=r"[+-]00:00$", replacement="Z")
    utc = values.cast(pa.timestamp("us", tz="UTC"))
    # Arrow's %S carries the fraction (six digits).
    text = pc.strftime(utc, format="%Y-%m-%dT%H:%M:%SZ")
    return pc.replace_substring_regex(text, pattern=r"\.?0*Z$", replacement="Z")
