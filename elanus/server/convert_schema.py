"""Collection schemas on the wire (``schema_pb2.CollectionSchema``) ⇄ elanus schemas.

Type parameters travel as string KeyValuePairs (``dim``, ``max_length``,
``analyzer_params`` as JSON ...); default values as a ``ValueField`` oneof.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pymilvus.grpc_gen import common_pb2, milvus_pb2, schema_pb2

from elanus.engine.api import CollectionInfo, IndexInfo
from elanus.engine.requests import ConsistencyLevel
from elanus.errors import SchemaError
from elanus.schema import CollectionSchema, DataType, FieldSchema, FunctionSchema, FunctionType
from elanus.schema.type_names import milvus_type_name

__all__ = [
    "collection_info_to_proto",
    "field_from_proto",
    "field_to_proto",
    "function_from_proto",
    "index_user_params",
    "kv_pairs",
    "kv_dict",
    "schema_from_proto",
    "schema_to_proto",
]

# Type params that are numbers in Milvus; everything else stays a string.
_INT_PARAMS = frozenset({"dim", "max_length", "max_capacity"})


def kv_pairs(values: Mapping[str, Any]) -> list[common_pb2.KeyValuePair]:
    out = []
    for key, value in values.items():
        if isinstance(value, (dict, list)):
            text = orjson.dumps(value).decode()
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        out.append(common_pb2.KeyValuePair(key=str(key), value=text))
    return out


def kv_dict(pairs: Any) -> dict[str, str]:
    return {kv.key: kv.value for kv in pairs}


def _param_value(key: str, text: str) -> Any:
    if key in _INT_PARAMS:
        try:
            return int(text)
        except ValueError:
            raise SchemaError(f"invalid {key}: {text!r} is not an integer") from None
    return text


# Milvus's names for the slots of a default value, as its messages spell them.
_SLOT_TYPE_NAMES = {
    "bool_data": "DataType_Bool",
    "int_data": "DataType_Int32",
    "long_data": "DataType_Int64",
    "float_data": "DataType_Float",
    "double_data": "DataType_Double",
    "string_data": "DataType_VarChar",
    "bytes_data": "DataType_JSON",
}
# The one slot Milvus accepts a default value in, per field type.
_DEFAULT_SLOTS = {
    DataType.BOOL: "bool_data",
    DataType.INT8: "int_data",
    DataType.INT16: "int_data",
    DataType.INT32: "int_data",
    DataType.INT64: "long_data",
    DataType.FLOAT: "float_data",
    DataType.DOUBLE: "double_data",
    DataType.VARCHAR: "string_data",
    DataType.TEXT: "string_data",
}


def _check_default_slot(name: str, dtype: DataType, which: str) -> None:
    """Milvus takes a default only in its field type's own slot of the value."""
    type_name = milvus_type_name(dtype)
    if dtype.is_vector or dtype in (DataType.ARRAY, DataType.JSON):
        raise SchemaError(f"type not support default_value, type:{type_name}, name:{name}")
    expected = _DEFAULT_SLOTS.get(dtype)
    if expected is not None and which != expected:
        raise SchemaError(
            f"type ({type_name}) of field ({name}) is not equal to the "
            f"type({_SLOT_TYPE_NAMES.get(which, which)}) of default_value"
        )


def _default_from_proto(dtype: DataType, value: schema_pb2.ValueField, name: str = "") -> Any:
    which = value.WhichOneof("data")
    if which is None:
        return None
    _check_default_slot(name, dtype, which)
    raw = getattr(value, which)
    if dtype == DataType.JSON and isinstance(raw, bytes):
        return orjson.loads(raw)
    return raw


def _default_to_proto(field: FieldSchema, target: schema_pb2.ValueField) -> None:
    value = field.default_value
    dtype = field.dtype
    if dtype == DataType.BOOL:
        target.bool_data = bool(value)
    elif dtype in (DataType.INT8, DataType.INT16, DataType.INT32):
        target.int_data = int(value)
    elif dtype == DataType.INT64:
        target.long_data = int(value)
    elif dtype == DataType.FLOAT:
        target.float_data = float(value)
    elif dtype == DataType.DOUBLE:
        target.double_data = float(value)
    elif dtype == DataType.JSON:
        target.bytes_data = value if isinstance(value, bytes) else orjson.dumps(value)
    elif dtype == DataType.TIMESTAMPTZ and isinstance(value, int):
        target.timestamptz_data = value
    else:
        target.string_data = str(value)


def field_from_proto(raw: schema_pb2.FieldSchema) -> FieldSchema:
    try:
        dtype = DataType(raw.data_type)
    except ValueError:
        raise SchemaError(f"field {raw.name}: unknown data type {raw.data_type}") from None
    params = {kv.key: _param_value(kv.key, kv.value) for kv in raw.type_params}
    try:
        element = DataType(raw.element_type) if raw.element_type else None
    except ValueError:
        raise SchemaError(f"field {raw.name}: unknown element type {raw.element_type}") from None
    return FieldSchema(
        name=raw.name,
        dtype=dtype,
        description=raw.description,
        is_primary=raw.is_primary_key,
        auto_id=raw.autoID,
        nullable=raw.nullable,
        default_value=_default_from_proto(dtype, raw.default_value, raw.name)
        if raw.HasField("default_value")
        else None,
        is_partition_key=raw.is_partition_key,
        is_clustering_key=raw.is_clustering_key,
        is_dynamic=raw.is_dynamic,
        is_function_output=raw.is_function_output,
        element_type=element,
        params=params,
        field_id=int(raw.fieldID),
    )


def field_to_proto(field: FieldSchema) -> schema_pb2.FieldSchema:
    out = schema_pb2.FieldSchema(
        fieldID=field.field_id,
        name=field.name,
        is_primary_key=field.is_primary,
        description=field.description,
        data_type=int(field.dtype),
        autoID=field.auto_id,
        is_partition_key=field.is_partition_key,
        is_clustering_key=field.is_clustering_key,
        is_dynamic=field.is_dynamic,
        nullable=field.nullable,
        is_function_output=field.is_function_output,
    )
    if field.element_type is not None:
        out.element_type = int(field.element_type)
    out.type_params.extend(kv_pairs(field.params))
    if field.default_value is not None:
        _default_to_proto(field, out.default_value)
    return out


def function_from_proto(raw: schema_pb2.FunctionSchema) -> FunctionSchema:
    try:
        kind = FunctionType(raw.type)
    except ValueError:
        raise SchemaError(f"function {raw.name}: unknown function type {raw.type}") from None
    return FunctionSchema(
        name=raw.name,
        function_type=kind,
        input_field_names=tuple(raw.input_field_names),
        output_field_names=tuple(raw.output_field_names),
        description=raw.description,
        params=kv_dict(raw.params),
    )


def _function_to_proto(
    function: FunctionSchema, ids: Mapping[str, int], number: int
) -> schema_pb2.FunctionSchema:
    out = schema_pb2.FunctionSchema(
        name=function.name,
        id=number,
        description=function.description,
        type=int(function.function_type),
        input_field_names=list(function.input_field_names),
        output_field_names=list(function.output_field_names),
        input_field_ids=[ids.get(n, 0) for n in function.input_field_names],
        output_field_ids=[ids.get(n, 0) for n in function.output_field_names],
    )
    out.params.extend(kv_pairs(function.params))
    return out


def schema_from_proto(raw: schema_pb2.CollectionSchema) -> CollectionSchema:
    """The schema a client sent; validation is the engine's job."""
    if raw.struct_array_fields:
        raise SchemaError("array of struct fields are not supported by Elanus")
    # Milvus accepts the dynamic field listed explicitly; it is implied by the flag.
    fields = tuple(field_from_proto(f) for f in raw.fields if not f.is_dynamic)
    return CollectionSchema(
        fields=fields,
        description=raw.description,
        enable_dynamic_field=raw.enable_dynamic_field,
        functions=tuple(function_from_proto(f) for f in raw.functions),
    )


def schema_to_proto(schema: CollectionSchema, name: str = "") -> schema_pb2.CollectionSchema:
    functions_outputs = schema.function_output_names
    out = schema_pb2.CollectionSchema(
        name=name,
        description=schema.description,
        enable_dynamic_field=schema.enable_dynamic_field,
    )
    for field in schema.fields:
        proto = field_to_proto(field)
        if field.name in functions_outputs:
            proto.is_function_output = True
        out.fields.append(proto)
    ids = {f.name: f.field_id for f in schema.fields}
    out.functions.extend(
        _function_to_proto(fn, ids, number) for number, fn in enumerate(schema.functions, 1)
    )
    return out


def collection_info_to_proto(info: CollectionInfo) -> milvus_pb2.DescribeCollectionResponse:
    """What DescribeCollection answers (status is filled in by the caller)."""
    reply = milvus_pb2.DescribeCollectionResponse(
        schema=schema_to_proto(info.schema, info.name),
        collectionID=info.collection_id,
        created_timestamp=info.created_timestamp,
        created_utc_timestamp=info.created_timestamp >> 18,
        shards_num=info.num_shards,
        aliases=list(info.aliases),
        consistency_level=ConsistencyLevel.WIRE.get(info.consistency_level, 2),  # type: ignore[arg-type]
        collection_name=info.name,
        db_name=info.database,
        num_partitions=info.num_partitions,
        update_timestamp=info.update_timestamp,
    )
    reply.properties.extend(kv_pairs(info.properties))
    reply.virtual_channel_names.extend(
        f"elanus-dml_{i}_{info.collection_id}v{i}" for i in range(max(info.num_shards, 1))
    )
    return reply


def index_user_params(info: IndexInfo) -> dict[str, Any]:
    """An index's settings as Milvus describes them: ``index_type``,
    ``metric_type``, the build parameters both one by one (as MilvusClient sends
    them) and as the JSON ``params`` entry (as the ORM's ``Index`` and REST send
    them, and read back), then the index's properties (``mmap.enabled`` ...)."""
    params: dict[str, Any] = dict(info.params)
    params["index_type"] = info.index_type
    if info.metric_type:
        params["metric_type"] = info.metric_type
    if info.params:
        params["params"] = orjson.dumps(info.params).decode()
    params.update(info.properties)
    return params
