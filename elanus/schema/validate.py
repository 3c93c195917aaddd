"""Schema validation with Milvus's rules, limits and error messages.

``validate_schema`` checks a collection schema the way Milvus's proxy does on
``CreateCollection`` and returns the schema with field ids assigned from 100 in
declaration order and function outputs marked. Every problem is a
``SchemaError`` (code 1100) whose message reads like Milvus's.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import orjson

from elanus.errors import SchemaError
from elanus.schema.collection import CollectionSchema
from elanus.schema.field import DYNAMIC_FIELD_NAME, FieldSchema, FunctionSchema
from elanus.schema.multi_analyzer import check_multi_analyzer_fields
from elanus.schema.types import (
    INTEGER_TYPES,
    DataType,
    FunctionType,
    integer_range,
)

__all__ = [
    "FIRST_FIELD_ID",
    "MAX_ARRAY_CAPACITY",
    "MAX_DIMENSION",
    "MAX_FIELD_NUM",
    "MAX_NAME_LENGTH",
    "MAX_VARCHAR_LENGTH",
    "MAX_VECTOR_FIELD_NUM",
    "RESERVED_FIELD_NAMES",
    "check_default_value",
    "validate_field",
    "validate_name",
    "validate_schema",
]

FIRST_FIELD_ID = 100
MAX_NAME_LENGTH = 255
MAX_FIELD_NUM = 64
MAX_VECTOR_FIELD_NUM = 10  # Milvus 2.6 raised it from 4
MAX_DIMENSION = 32768
MAX_VARCHAR_LENGTH = 65535
MAX_ARRAY_CAPACITY = 4096
MAX_DESCRIPTION_LENGTH = 1024

# Names Milvus keeps for itself: system columns and words of the filter language.
RESERVED_FIELD_NAMES = frozenset({"RowID", "Timestamp", "__virtual_pk__"})
_KEYWORDS = frozenset(
    {
        "$meta",
        "like",
        "LIKE",
        "in",
        "IN",
        "not",
        "NOT",
        "and",
        "AND",
        "or",
        "OR",
        "exists",
        "EXISTS",
        "json_contains",
        "JSON_CONTAINS",
        "json_contains_all",
        "JSON_CONTAINS_ALL",
        "json_contains_any",
        "JSON_CONTAINS_ANY",
        "array_contains",
        "ARRAY_CONTAINS",
        "array_contains_all",
        "ARRAY_CONTAINS_ALL",
        "array_contains_any",
        "ARRAY_CONTAINS_ANY",
        "array_length",
        "ARRAY_LENGTH",
        "true",
        "True",
        "TRUE",
        "false",
        "False",
        "FALSE",
        "text_match",
        "TEXT_MATCH",
        "phrase_match",
        "PHRASE_MATCH",
        "random_sample",
        "RANDOM_SAMPLE",
    }
)

_ARRAY_ELEMENT_TYPES = frozenset(
    {
        DataType.BOOL,
        DataType.INT8,
        DataType.INT16,
        DataType.INT32,
        DataType.INT64,
        DataType.FLOAT,
        DataType.DOUBLE,
        DataType.VARCHAR,
    }
)
_KEY_TYPES = frozenset({DataType.INT64, DataType.VARCHAR})
_CLUSTERING_KEY_TYPES = frozenset(
    {
        DataType.INT8,
        DataType.INT16,
        DataType.INT32,
        DataType.INT64,
        DataType.FLOAT,
        DataType.DOUBLE,
        DataType.VARCHAR,
    }
) | {DataType.FLOAT_VECTOR}


def _is_alpha(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z")


def _broken_name_rule(
    name: str, *, digit_first: bool = False, also_allowed: str = ""
) -> str | None:
    """The first of Milvus's name rules a non-empty name breaks: "length" (too long),
    "first" (first character not an underscore or letter) or "chars" (a character other
    than ASCII letters, digits and underscores); None when it keeps them all."""
    if len(name) > MAX_NAME_LENGTH:
        return "length"
    first = name[0]
    if first != "_" and not _is_alpha(first) and not (digit_first and first.isdigit()):
        return "first"
    allowed = "_" + also_allowed
    for c in name[1:]:
        if not c.isascii() or (c not in allowed and not _is_alpha(c) and not c.isdigit()):
            return "chars"
    return None


def validate_name(kind: str, name: object) -> str:
    """Check a collection, alias, database, partition or field name; return it.

    ``kind`` is one of "collection", "alias", "database", "partition", "field".
    """
    if not isinstance(name, str):
        raise SchemaError(f"`{kind}_name` value {name!r} is illegal")
    if kind == "field":
        return _validate_field_name(name)
    if kind == "partition":
        return _validate_partition_name(name)
    label = (
        "database name"
        if kind == "database"
        else f"collection {kind if kind == 'alias' else 'name'}"
    )
    if kind == "database":
        return _validate_database_name(name)
    if name == "":
        raise SchemaError(f"{label} should not be empty")
    rule = _broken_name_rule(name)
    if rule is not None:
        broken = {
            "length": f"the length of a {label} must be less than {MAX_NAME_LENGTH} characters",
            "first": f"the first character of a {label} must be an underscore or letter",
            "chars": f"{label} can only contain numbers, letters and underscores",
        }[rule]
        raise SchemaError(f"Invalid {label}: {name}. {broken}")
    return name


def _validate_database_name(name: str) -> str:
    # Milvus words these "<rule>: invalid database name[database=<name>]" (code 802).
    where = f"invalid database name[database={name}]"
    if name == "":
        raise SchemaError(f"database name couldn't be empty: {where}", code=802)
    rule = _broken_name_rule(name)
    if rule is not None:
        broken = {
            "length": f"the length of a database name must be less than {MAX_NAME_LENGTH} characters",
            "first": "the first character of a database name must be an underscore or letter",
            "chars": "database name can only contain numbers, letters and underscores",
        }[rule]
        raise SchemaError(f"{broken}: {where}", code=802)
    return name


def _validate_field_name(name: str) -> str:
    stripped = name.strip()
    if stripped == "":
        raise SchemaError("field name should not be empty")
    invalid = f"Invalid field name: {stripped}. "
    rule = _broken_name_rule(stripped)
    if rule is not None:
        broken = {
            "length": f"The length of a field name must be less than {MAX_NAME_LENGTH} characters.",
            "first": "The first character of a field name must be an underscore or letter.",
            "chars": "Field name can only contain numbers, letters, and underscores.",
        }[rule]
        raise SchemaError(f"{invalid}{broken}")
    if stripped in _KEYWORDS:
        raise SchemaError(f"{invalid}{stripped} is keyword in milvus.")
    if stripped in RESERVED_FIELD_NAMES:
        raise SchemaError(
            f"{invalid}field name {stripped!r} is reserved for internal use and cannot be used in user schemas"
        )
    return name


def _validate_partition_name(name: str) -> str:
    stripped = name.strip()
    invalid = f"Invalid partition name: {stripped}. "
    if stripped == "":
        raise SchemaError(f"{invalid}Partition name should not be empty.")
    # Milvus lets a partition name start with a digit and contain dashes.
    rule = _broken_name_rule(stripped, digit_first=True, also_allowed="-")
    if rule is not None:
        broken = {
            "length": "The length of a partition name must be less than "
            f"{MAX_NAME_LENGTH} characters.",
            "first": "The first character of a partition name must be an underscore or letter.",
            "chars": "Partition name can only contain numbers, letters and underscores.",
        }[rule]
        raise SchemaError(f"{invalid}{broken}")
    return name


def _int_param(f: FieldSchema, key: str) -> int | None:
    raw = f.params.get(key)
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise SchemaError(f"the value for {key} of field {f.name} must be an integer")
    try:
        return int(str(raw).strip())
    except ValueError:
        raise SchemaError(f"the value for {key} of field {f.name} must be an integer") from None


def _check_dim(f: FieldSchema) -> None:
    if f.dtype == DataType.SPARSE_FLOAT_VECTOR:
        if "dim" in f.params:
            raise SchemaError(
                f"dim should not be specified for sparse vector field {f.name}({f.field_id})"
            )
        return
    dim = _int_param(f, "dim")
    if dim is None:
        raise SchemaError(
            f"dimension is not defined in field type params of field {f.name}, "
            "check type param `dim` for vector field"
        )
    if dim <= 1:
        raise SchemaError(f"invalid dimension: {dim}. should be in range 2 ~ {MAX_DIMENSION}")
    if f.dtype == DataType.BINARY_VECTOR:
        if dim % 8:
            raise SchemaError(
                f"invalid dimension: {dim} of field {f.name}. "
                "binary vector dimension should be multiple of 8. "
            )
        if dim > MAX_DIMENSION * 8:
            raise SchemaError(
                f"invalid dimension: {dim} of field {f.name}. "
                f"binary vector dimension should be in range 2 ~ {MAX_DIMENSION * 8}"
            )
    elif dim > MAX_DIMENSION:
        raise SchemaError(
            f"invalid dimension: {dim} of field {f.name}. "
            f"float vector dimension should be in range 2 ~ {MAX_DIMENSION}"
        )


def _check_max_length(f: FieldSchema, collection_name: str) -> None:
    length = _int_param(f, "max_length")
    if length is None:
        raise SchemaError(
            f"type param(max_length) should be specified for the field({f.name}) "
            f"of collection {collection_name}"
        )
    if length <= 0 or length > MAX_VARCHAR_LENGTH:
        raise SchemaError(
            f"the maximum length specified for the field({f.name}) should be in "
            f"(0, {MAX_VARCHAR_LENGTH}], but got {length} instead"
        )


def _check_array(f: FieldSchema, collection_name: str) -> None:
    element = f.element_type
    if element is None or element == DataType.NONE:
        raise SchemaError(f"element data type None is not valid for array field {f.name}")
    if element not in _ARRAY_ELEMENT_TYPES:
        raise SchemaError(f"element type {element.name} is not supported")
    if element == DataType.VARCHAR:
        _check_max_length(f, collection_name)
    capacity = _int_param(f, "max_capacity")
    if capacity is None:
        raise SchemaError(
            f"type param(max_capacity) should be specified for array field {f.name} "
            f"of collection {collection_name}"
        )
    if capacity <= 0 or capacity > MAX_ARRAY_CAPACITY:
        raise SchemaError(
            f"the maximum capacity specified for a Array should be in (0, {MAX_ARRAY_CAPACITY}]"
        )


def check_default_value(f: FieldSchema, value: Any) -> Any:
    """Type-check a default value against its field; return it as a plain value."""
    mismatch = SchemaError(
        f"type (default_value) of field ({f.name}) is not equal to the type({f.dtype.name}) of field"
    )
    dtype = f.dtype
    if dtype == DataType.BOOL:
        if not isinstance(value, bool):
            raise mismatch
        return value
    if dtype in INTEGER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise mismatch
        low, high = integer_range(dtype)
        if not low <= value <= high:
            raise SchemaError(
                f"the default value {value} of field {f.name} is out of range for {dtype.name}"
            )
        return value
    if dtype in (DataType.FLOAT, DataType.DOUBLE):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise mismatch
        if not math.isfinite(float(value)):
            raise SchemaError(f"the default value of field {f.name} must be a finite number")
        return float(value)
    if dtype in (DataType.VARCHAR, DataType.TEXT, DataType.GEOMETRY, DataType.TIMESTAMPTZ):
        if not isinstance(value, str):
            raise mismatch
        limit = f.max_length
        if dtype == DataType.VARCHAR and limit is not None and len(value) > limit:
            raise SchemaError(
                f"the length ({len(value)}) of string exceeds max length ({limit}) of field {f.name}"
            )
        return value
    if dtype == DataType.JSON:
        try:
            parsed = orjson.loads(value) if isinstance(value, str) else value
            return orjson.dumps(parsed).decode()
        except (orjson.JSONDecodeError, TypeError):
            raise mismatch from None
    raise SchemaError(f"{dtype.name} field {f.name} does not support default_value")


def validate_field(f: FieldSchema, collection_name: str = "") -> FieldSchema:
    """Check one field on its own (name, type parameters, null/default rules)."""
    validate_name("field", f.name)
    if f.dtype in (DataType.NONE, DataType.UNKNOWN):
        raise SchemaError("data type None is not valid")
    if f.dtype == DataType.STRING:
        raise SchemaError("string data type not supported yet, please use VarChar type instead")
    if f.is_dynamic:
        raise SchemaError("cannot explicitly set a field as a dynamic field")
    if f.dtype.is_vector:
        _check_dim(f)
    if f.dtype == DataType.VARCHAR:
        _check_max_length(f, collection_name)
    if f.dtype == DataType.ARRAY:
        _check_array(f, collection_name)
    elif f.element_type not in (None, DataType.NONE):
        f = replace(f, element_type=None)
    if f.is_primary:
        if f.nullable:
            raise SchemaError(f"primary field not support null, field name = {f.name}")
        if f.default_value is not None:
            raise SchemaError(f"primary field not support default_value, field name = {f.name}")
    if f.default_value is not None:
        if f.dtype.is_vector:
            raise SchemaError(f"vector field not support default_value, field name = {f.name}")
        if f.dtype == DataType.ARRAY:
            raise SchemaError(f"ARRAY field {f.name} does not support default_value")
        f = replace(f, default_value=check_default_value(f, f.default_value))
    if f.auto_id and not f.is_primary:
        raise SchemaError(f"only primary field can speficy AutoID with true, field name = {f.name}")
    if f.dtype == DataType.TEXT or f.enable_analyzer:
        analyzer = f.params.get("analyzer_params")
        if isinstance(analyzer, str):
            try:
                json.loads(analyzer)
            except ValueError:
                raise SchemaError(
                    f"invalid analyzer params of field {f.name}: {analyzer}"
                ) from None
    if (f.enable_analyzer or f.enable_match) and f.dtype not in (DataType.VARCHAR, DataType.TEXT):
        raise SchemaError(
            f"enable_analyzer/enable_match is only supported on VARCHAR fields, field name = {f.name}"
        )
    return f


def _check_keys(fields: list[FieldSchema]) -> None:
    primary = [f for f in fields if f.is_primary]
    if not primary:
        raise SchemaError("primary key is not specified")
    if len(primary) > 1:
        raise SchemaError(
            f"there are more than one primary key, field name = {primary[0].name}, {primary[1].name}"
        )
    pk = primary[0]
    if pk.dtype not in _KEY_TYPES:
        raise SchemaError("the data type of primary key should be Int64 or VarChar")
    partition = _at_most_one("partition", [f for f in fields if f.is_partition_key])
    for f in partition:
        if f.is_primary:
            raise SchemaError("the partition key field must not be primary field")
        if f.dtype not in _KEY_TYPES:
            raise SchemaError("the data type of partition key should be Int64 or VarChar")
        if f.nullable:
            raise SchemaError("partition key field not support nullable")
    clustering = _at_most_one("clustering", [f for f in fields if f.is_clustering_key])
    for f in clustering:
        if f.is_primary:
            raise SchemaError("the clustering key field must not be primary field")
        if f.dtype not in _CLUSTERING_KEY_TYPES:
            raise SchemaError(f"clustering key field {f.name} does not support type {f.dtype.name}")


def _at_most_one(kind: str, keys: list[FieldSchema]) -> list[FieldSchema]:
    """Milvus allows one partition key and one clustering key per collection."""
    if len(keys) > 1:
        raise SchemaError(
            f"there are more than one {kind} key, field name = {keys[0].name}, {keys[1].name}"
        )
    return keys


def _check_functions(functions: tuple[FunctionSchema, ...], fields: list[FieldSchema]) -> set[str]:
    by_name = {f.name: f for f in fields}
    outputs: set[str] = set()
    names: set[str] = set()
    for fn in functions:
        if not fn.name:
            raise SchemaError("function name should not be empty")
        if fn.name in names:
            raise SchemaError(f"duplicate function name: {fn.name}")
        names.add(fn.name)
        for name in fn.input_field_names:
            if name not in by_name:
                raise SchemaError(f"function input field not found: {name}")
        for name in fn.output_field_names:
            if name not in by_name:
                raise SchemaError(f"function output field not found: {name}")
            if name in fn.input_field_names:
                raise SchemaError(f"function {fn.name} uses field {name} as both input and output")
            if name in outputs:
                raise SchemaError(f"duplicate function output field: {name}")
            out = by_name[name]
            if out.is_primary or out.is_partition_key or out.nullable:
                raise SchemaError(
                    f"function output field {name} cannot be primary key, partition key or nullable"
                )
            outputs.add(name)
        if fn.function_type == FunctionType.BM25:
            if len(fn.input_field_names) != 1:
                raise SchemaError(
                    f"BM25 function only need 1 input field, but got {len(fn.input_field_names)}"
                )
            if len(fn.output_field_names) != 1:
                raise SchemaError(
                    f"BM25 function only need 1 output field, but got {len(fn.output_field_names)}"
                )
            source = by_name[fn.input_field_names[0]]
            if source.dtype not in (DataType.VARCHAR, DataType.TEXT):
                raise SchemaError(
                    f"BM25 function input field must be a VARCHAR field, got {source.dtype.name}"
                )
            if not source.enable_analyzer and source.dtype != DataType.TEXT:
                raise SchemaError(
                    f"BM25 function input field must set enable_analyzer to true, field name = {source.name}"
                )
            target = by_name[fn.output_field_names[0]]
            if target.dtype != DataType.SPARSE_FLOAT_VECTOR:
                raise SchemaError(
                    f"BM25 function output field must be a SPARSE_FLOAT_VECTOR field, got {target.dtype.name}"
                )
        elif fn.function_type == FunctionType.TEXTEMBEDDING:
            if len(fn.input_field_names) != 1 or len(fn.output_field_names) != 1:
                raise SchemaError(
                    "TextEmbedding function needs exactly one input and one output field"
                )
            source = by_name[fn.input_field_names[0]]
            if source.dtype not in (DataType.VARCHAR, DataType.TEXT):
                raise SchemaError("TextEmbedding function input field must be a VARCHAR field")
            target = by_name[fn.output_field_names[0]]
            if target.dtype not in (
                DataType.FLOAT_VECTOR,
                DataType.FLOAT16_VECTOR,
                DataType.BFLOAT16_VECTOR,
                DataType.INT8_VECTOR,
            ):
                raise SchemaError(
                    "TextEmbedding function output field must be a dense vector field"
                )
        else:
            raise SchemaError(f"unsupported function type: {fn.function_type.name}")
    return outputs


def validate_schema(schema: CollectionSchema, collection_name: str = "") -> CollectionSchema:
    """Check a schema with Milvus's rules; return it with field ids from 100.

    Raises ``SchemaError`` naming the first problem found.
    """
    if not schema.fields:
        raise SchemaError("schema does not contain any field")
    if len(schema.description) > MAX_DESCRIPTION_LENGTH:
        raise SchemaError(
            f"the length of a collection description must not exceed {MAX_DESCRIPTION_LENGTH} bytes"
        )
    fields = [validate_field(f, collection_name) for f in schema.fields]
    seen: set[str] = set()
    for f in fields:
        if f.name in seen:
            raise SchemaError(f"duplicated field name {f.name} found")
        seen.add(f.name)
        if f.name == DYNAMIC_FIELD_NAME:
            raise SchemaError(f"Invalid field name: {f.name}. {f.name} is keyword in milvus.")
    if len(fields) > MAX_FIELD_NUM:
        raise SchemaError(f"maximum field's number should be limited to {MAX_FIELD_NUM}")
    vectors = [f for f in fields if f.dtype.is_vector]
    if not vectors:
        raise SchemaError("schema does not contain vector field")
    if len(vectors) > MAX_VECTOR_FIELD_NUM:
        raise SchemaError(
            f"maximum vector field's number should be limited to {MAX_VECTOR_FIELD_NUM}"
        )
    auto = [f for f in fields if f.auto_id]
    if len(auto) > 1:
        raise SchemaError(
            f"only one field can speficy AutoID with true, field name = {auto[0].name}, {auto[1].name}"
        )
    _check_keys(fields)
    outputs = _check_functions(schema.functions, fields)
    check_multi_analyzer_fields(
        fields,
        {
            fn.input_field_names[0]
            for fn in schema.functions
            if fn.function_type == FunctionType.BM25 and fn.input_field_names
        },
    )
    numbered = tuple(
        replace(f, field_id=FIRST_FIELD_ID + i, is_function_output=f.name in outputs)
        for i, f in enumerate(fields)
    )
    return replace(schema, fields=numbered)
