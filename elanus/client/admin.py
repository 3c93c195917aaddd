"""Databases, collections, partitions, aliases and indexes: pymilvus's methods over the engine."""

from __future__ import annotations

from typing import Any

from pymilvus import CollectionSchema as PyCollectionSchema
from pymilvus.client.types import LoadState as PyLoadState
from pymilvus.milvus_client.index import IndexParams

from elanus.client.convert import to_field, to_index_specs, to_schema
from elanus.engine.api import CollectionInfo, EngineAPI
from elanus.engine.requests import ConsistencyLevel
from elanus.errors import ParameterError
from elanus.schema import DataType

__all__ = ["AdminMethods", "describe_dict"]


def describe_dict(info: CollectionInfo) -> dict[str, Any]:
    """``describe_collection``'s dict, shaped exactly as pymilvus gives it."""
    from pymilvus.grpc_gen import schema_pb2

    fields: list[dict[str, Any]] = []
    pk_auto = False
    for f in info.schema.fields:
        out: dict[str, Any] = {
            "field_id": f.field_id,
            "name": f.name,
            "description": f.description,
            "type": _py_type(f.dtype),
            "params": _describe_params(f.params),
        }
        if f.default_value is not None:
            out["default_value"] = _value_field(schema_pb2, f.default_value)
        if f.element_type is not None:
            out["element_type"] = _py_type(f.element_type)
        for flag in ("is_partition_key", "is_dynamic", "auto_id", "nullable", "is_primary"):
            if getattr(f, flag):
                out[flag] = True
        if f.is_clustering_key:
            out["is_clustering_key"] = True
        if f.is_function_output:
            out["is_function_output"] = True
        if f.is_primary:
            pk_auto = f.auto_id
        fields.append(out)
    ids = {f.name: f.field_id for f in info.schema.fields}
    functions = [
        {
            "name": fn.name,
            "id": 100 + i,
            "description": fn.description,
            "type": _py_function_type(int(fn.function_type)),
            "params": {k: str(v) for k, v in fn.params.items()},
            "input_field_names": list(fn.input_field_names),
            "input_field_ids": [ids.get(n, 0) for n in fn.input_field_names],
            "output_field_names": list(fn.output_field_names),
            "output_field_ids": [ids.get(n, 0) for n in fn.output_field_names],
        }
        for i, fn in enumerate(info.schema.functions)
    ]
    level = ConsistencyLevel.parse(info.consistency_level)
    result: dict[str, Any] = {
        "collection_name": info.name,
        "auto_id": pk_auto,
        "num_shards": info.num_shards,
        "description": info.schema.description,
        "fields": fields,
        "functions": functions,
        "aliases": list(info.aliases),
        "collection_id": info.collection_id,
        "consistency_level": ConsistencyLevel.WIRE[level],
        "consistency_level_name": level,
        "properties": dict(info.properties),
        "num_partitions": info.num_partitions,
        "enable_dynamic_field": info.schema.enable_dynamic_field,
        "enable_namespace": False,
        "schema_version": 0,
    }
    if info.created_timestamp:
        result["created_timestamp"] = info.created_timestamp
    if info.update_timestamp:
        result["update_timestamp"] = info.update_timestamp
    return result


def _py_type(dtype: DataType) -> Any:
    from pymilvus import DataType as PyDataType

    return PyDataType(int(dtype))


def _py_function_type(value: int) -> Any:
    from pymilvus import FunctionType as PyFunctionType

    return PyFunctionType(value)


def _describe_params(params: dict[str, Any]) -> dict[str, Any]:
    # Milvus keeps type params as strings; pymilvus turns these three back into ints.
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in ("dim", "max_length", "max_capacity"):
            out[key] = int(value)
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, dict):
            import orjson

            out[key] = orjson.dumps(value).decode()
        else:
            out[key] = str(value)
    return out


def _names(names: str | list[str]) -> list[str]:
    """pymilvus takes one partition name or a list of them."""
    return [names] if isinstance(names, str) else list(names)


def _value_field(schema_pb2: Any, value: Any) -> Any:
    field = schema_pb2.ValueField()
    if isinstance(value, bool):
        field.bool_data = value
    elif isinstance(value, int):
        field.long_data = value
    elif isinstance(value, float):
        field.double_data = value
    elif isinstance(value, bytes):
        field.bytes_data = value
    else:
        field.string_data = str(value)
    return field


class AdminMethods:
    """The administrative half of ``MilvusClient`` (the data half is ``DataMethods``)."""

    _engine: EngineAPI
    _db: str

    # --- databases ---------------------------------------------------------------

    def create_database(
        self, db_name: str, properties: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        props = {
            k: str(v) for k, v in {**(properties or {}), **kwargs.pop("properties", {})}.items()
        }
        self._engine.create_database(db_name, props)

    def drop_database(self, db_name: str, **kwargs: Any) -> None:
        self._engine.drop_database(db_name)

    def list_databases(self, timeout: float | None = None, **kwargs: Any) -> list[str]:
        return self._engine.list_databases()

    def describe_database(self, db_name: str, **kwargs: Any) -> dict[str, Any]:
        info = self._engine.describe_database(db_name)
        return {"name": info.name, **info.properties}

    def alter_database_properties(
        self, db_name: str, properties: dict[str, Any], **kwargs: Any
    ) -> None:
        self._engine.alter_database_properties(db_name, {k: str(v) for k, v in properties.items()})

    def drop_database_properties(
        self, db_name: str, property_keys: list[str], **kwargs: Any
    ) -> None:
        self._engine.drop_database_properties(db_name, list(property_keys))

    def using_database(self, db_name: str, **kwargs: Any) -> None:
        self.use_database(db_name)

    def use_database(self, db_name: str, **kwargs: Any) -> None:
        self._engine.describe_database(db_name)
        self._db = db_name

    # --- collections -------------------------------------------------------------

    @staticmethod
    def create_schema(**kwargs: Any) -> PyCollectionSchema:
        kwargs["check_fields"] = False
        return PyCollectionSchema([], **kwargs)

    @staticmethod
    def prepare_index_params(field_name: str = "", **kwargs: Any) -> IndexParams:
        params = IndexParams()
        if field_name:
            params.add_index(field_name, **kwargs)
        return params

    def create_collection(
        self,
        collection_name: str,
        dimension: int | None = None,
        primary_field_name: str = "id",
        id_type: str = "int",
        vector_field_name: str = "vector",
        metric_type: str = "COSINE",
        auto_id: bool = False,
        timeout: float | None = None,
        schema: Any = None,
        index_params: Any = None,
        **kwargs: Any,
    ) -> None:
        options = {
            "properties": {k: str(v) for k, v in (kwargs.pop("properties", None) or {}).items()},
            "num_shards": int(kwargs.pop("num_shards", kwargs.pop("shards_num", 1)) or 1),
            "num_partitions": kwargs.pop("num_partitions", None),
            "consistency_level": ConsistencyLevel.parse(kwargs.pop("consistency_level", None)),
        }
        if schema is None:
            self._quick_create(
                collection_name,
                dimension,
                primary_field_name,
                id_type,
                vector_field_name,
                metric_type,
                auto_id,
                options,
                kwargs,
            )
            return
        specs = to_index_specs(index_params)
        self._engine.create_collection(
            self._db,
            collection_name,
            to_schema(schema),
            indexes=specs or None,
            load=bool(specs),
            **options,
        )

    def _quick_create(
        self,
        name: str,
        dimension: int | None,
        pk_name: str,
        id_type: str,
        vector_name: str,
        metric_type: str,
        auto_id: bool,
        options: dict[str, Any],
        kwargs: dict[str, Any],
    ) -> None:
        if not isinstance(dimension, int) or isinstance(dimension, bool):
            raise ParameterError(f"`dimension` value {dimension!r} is illegal")
        kwargs.setdefault("enable_dynamic_field", True)
        max_length = kwargs.pop("max_length", 65535)
        schema = self.create_schema(auto_id=auto_id, **kwargs)
        if id_type in ("int", DataType.INT64) or getattr(id_type, "value", None) == 5:
            schema.add_field(pk_name, _pydt("INT64"), is_primary=True)
        elif (
            id_type in ("string", "str", DataType.VARCHAR) or getattr(id_type, "value", None) == 21
        ):
            schema.add_field(pk_name, _pydt("VARCHAR"), is_primary=True, max_length=max_length)
        else:
            raise ParameterError("Primary key type must be in int64 or varchar")
        schema.add_field(vector_name, _pydt("FLOAT_VECTOR"), dim=dimension)
        index = IndexParams()
        index.add_index(vector_name, index_type="AUTOINDEX", metric_type=metric_type)
        self._engine.create_collection(
            self._db, name, to_schema(schema), indexes=to_index_specs(index), load=True, **options
        )

    def drop_collection(
        self, collection_name: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._engine.drop_collection(self._db, collection_name)

    def has_collection(
        self, collection_name: str, timeout: float | None = None, **kwargs: Any
    ) -> bool:
        return self._engine.has_collection(self._db, collection_name)

    def list_collections(self, **kwargs: Any) -> list[str]:
        return self._engine.list_collections(self._db)

    def describe_collection(
        self, collection_name: str, timeout: float | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        return describe_dict(self._engine.describe_collection(self._db, collection_name))

    def rename_collection(
        self,
        old_name: str,
        new_name: str,
        target_db: str | None = "",
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._engine.rename_collection(self._db, old_name, new_name, target_db or None)

    def truncate_collection(
        self, collection_name: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._engine.truncate_collection(self._db, collection_name)

    def get_collection_stats(
        self, collection_name: str, timeout: float | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        stats = self._engine.get_collection_stats(self._db, collection_name)
        return {k: int(v) if k == "row_count" else v for k, v in stats.items()}

    def load_collection(
        self, collection_name: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._engine.load_collection(self._db, collection_name, **_load_options(kwargs))

    def release_collection(
        self, collection_name: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._engine.release_collection(self._db, collection_name)

    def refresh_load(
        self, collection_name: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._engine.load_collection(self._db, collection_name)

    def get_load_state(
        self,
        collection_name: str,
        partition_name: str | None = "",
        timeout: float | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        state = self._engine.get_load_state(self._db, collection_name, partition_name or None)
        result: dict[str, Any] = {"state": getattr(PyLoadState, state)}
        if state == "Loading":
            result["progress"] = 0
        return result

    def alter_collection_properties(
        self,
        collection_name: str,
        properties: dict[str, Any],
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._engine.alter_collection_properties(
            self._db, collection_name, {k: str(v) for k, v in properties.items()}
        )

    def drop_collection_properties(
        self,
        collection_name: str,
        property_keys: list[str],
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._engine.drop_collection_properties(self._db, collection_name, list(property_keys))

    def alter_collection_field(
        self,
        collection_name: str,
        field_name: str,
        field_params: dict[str, Any],
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._engine.alter_collection_field(
            self._db, collection_name, field_name, dict(field_params)
        )

    def add_collection_field(
        self,
        collection_name: str,
        field_name: str,
        data_type: Any,
        desc: str = "",
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        from pymilvus import FieldSchema as PyFieldSchema

        field = PyFieldSchema(field_name, data_type, desc, **kwargs)
        self._engine.add_collection_field(self._db, collection_name, to_field(field))

    # --- partitions --------------------------------------------------------------

    def create_partition(
        self, collection_name: str, partition_name: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._engine.create_partition(self._db, collection_name, partition_name)

    def drop_partition(
        self, collection_name: str, partition_name: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._engine.drop_partition(self._db, collection_name, partition_name)

    def has_partition(
        self, collection_name: str, partition_name: str, timeout: float | None = None, **kwargs: Any
    ) -> bool:
        return self._engine.has_partition(self._db, collection_name, partition_name)

    def list_partitions(
        self, collection_name: str, timeout: float | None = None, **kwargs: Any
    ) -> list[str]:
        return [p.name for p in self._engine.list_partitions(self._db, collection_name)]

    def load_partitions(
        self,
        collection_name: str,
        partition_names: str | list[str],
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._engine.load_partitions(
            self._db, collection_name, _names(partition_names), **_load_options(kwargs)
        )

    def release_partitions(
        self,
        collection_name: str,
        partition_names: str | list[str],
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._engine.release_partitions(self._db, collection_name, _names(partition_names))

    def get_partition_stats(
        self, collection_name: str, partition_name: str, timeout: float | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        stats = self._engine.get_partition_stats(self._db, collection_name, partition_name)
        return {k: int(v) if k == "row_count" else v for k, v in stats.items()}

    # --- aliases -----------------------------------------------------------------

    def create_alias(
        self, collection_name: str, alias: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._engine.create_alias(self._db, alias, collection_name)

    def drop_alias(self, alias: str, timeout: float | None = None, **kwargs: Any) -> None:
        self._engine.drop_alias(self._db, alias)

    def alter_alias(
        self, collection_name: str, alias: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._engine.alter_alias(self._db, alias, collection_name)

    def describe_alias(
        self, alias: str, timeout: float | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        target = self._engine.describe_alias(self._db, alias)
        return {"alias": alias, "collection_name": target, "db_name": self._db}

    def list_aliases(
        self, collection_name: str = "", timeout: float | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        aliases = self._engine.list_aliases(self._db, collection_name or None)
        return {"aliases": aliases, "collection_name": collection_name, "db_name": self._db}

    # --- indexes -----------------------------------------------------------------

    def create_index(
        self, collection_name: str, index_params: Any, timeout: float | None = None, **kwargs: Any
    ) -> None:
        specs = to_index_specs(index_params)
        if not specs:
            raise ParameterError("IndexParams is empty, no index can be created")
        for spec in specs:
            self._engine.create_index(self._db, collection_name, spec)
        if kwargs.get("sync", True):
            self._engine.wait_for_index(self._db, collection_name, timeout)

    def drop_index(
        self, collection_name: str, index_name: str, timeout: float | None = None, **kwargs: Any
    ) -> None:
        self._engine.drop_index(self._db, collection_name, index_name)

    def list_indexes(
        self, collection_name: str, field_name: str | None = "", **kwargs: Any
    ) -> list[str]:
        return self._engine.list_indexes(self._db, collection_name, field_name or None)

    def describe_index(
        self, collection_name: str, index_name: str, timeout: float | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        info = self._engine.describe_index(self._db, collection_name, index_name)
        out: dict[str, Any] = {str(k): v for k, v in info.params.items()}
        if info.metric_type:
            out["metric_type"] = info.metric_type
        out.update(
            {
                "index_type": info.index_type,
                "field_name": info.field_name,
                "index_name": info.index_name,
                "total_rows": info.total_rows,
                "indexed_rows": info.indexed_rows,
                "pending_index_rows": info.pending_index_rows,
                "state": info.state,
            }
        )
        if info.fail_reason:
            out["fail_reason"] = info.fail_reason
        out.update(info.properties)
        return out

    def alter_index_properties(
        self,
        collection_name: str,
        index_name: str,
        properties: dict[str, Any],
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._engine.alter_index_properties(
            self._db, collection_name, index_name, {k: str(v) for k, v in properties.items()}
        )

    def drop_index_properties(
        self,
        collection_name: str,
        index_name: str,
        property_keys: list[str],
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._engine.drop_index_properties(
            self._db, collection_name, index_name, list(property_keys)
        )

    # --- maintenance ---------------------------------------------------------------

    def flush(self, collection_name: str, timeout: float | None = None, **kwargs: Any) -> None:
        self._engine.flush(self._db, collection_name)

    def compact(
        self,
        collection_name: str,
        is_clustering: bool | None = False,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> int:
        return self._engine.compact(self._db, collection_name)

    def get_compaction_state(self, job_id: int, timeout: float | None = None, **kwargs: Any) -> str:
        return self._engine.get_compaction_state(job_id)

    def get_server_version(self, **kwargs: Any) -> str:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("elanus")
        except PackageNotFoundError:
            return "0.0.0"

    def get_server_type(self) -> str:
        return "elanus"


def _pydt(name: str) -> Any:
    from pymilvus import DataType as PyDataType

    return PyDataType[name]


def _load_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The load settings pymilvus takes as keyword arguments."""
    fields = kwargs.get("load_fields")
    return {
        "load_fields": [str(f) for f in fields] if fields else None,
        "skip_load_dynamic_field": bool(kwargs.get("skip_load_dynamic_field", False)),
        "replica_number": kwargs.get("replica_number"),
    }
