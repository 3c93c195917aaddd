"""REST v2 schema changes of a live collection: ``collections/fields/*``,
``collections/struct_fields/add`` and the collection function endpoints."""

from __future__ import annotations

from elanus.engine.api import EngineAPI
from elanus.errors import NotSupportedError, ParameterError
from elanus.server.rest_body import MissingParameter, RestBody, endpoint
from elanus.server.rest_schema import field_from_json

__all__: list[str] = []


def _field_schema(body: RestBody) -> object:
    raw = body.value("schema")
    if raw is None:
        raise MissingParameter(
            "missing required parameters, error: Key: 'schema' "
            "Error:Field validation for 'schema' failed on the 'required' tag"
        )
    return raw


@endpoint("collections/fields/add")
def add_field(engine: EngineAPI, body: RestBody) -> None:
    raw = _field_schema(body)
    schema = body.with_raw(raw) if isinstance(raw, dict) else None
    if schema is not None and (
        schema.value("dataType") == "ArrayOfStruct"
        or (schema.value("dataType") == "Array" and schema.value("elementDataType") == "Struct")
    ):
        raise ParameterError(
            "StructArray field must be added through /v2/vectordb/collections/struct_fields/add"
        )
    engine.add_collection_field(body.db, body.collection, field_from_json(raw))


@endpoint("collections/fields/alter_properties")
def alter_field_properties(engine: EngineAPI, body: RestBody) -> None:
    engine.alter_collection_field(
        body.db, body.collection, body.text("fieldName"), body.properties("fieldParams")
    )


@endpoint("collections/struct_fields/add")
def add_struct_field(engine: EngineAPI, body: RestBody) -> None:
    body.collection  # noqa: B018 (a missing or bad name is refused first, as in Milvus)
    _field_schema(body)
    raise NotSupportedError(
        "not supported by Elanus: /v2/vectordb/collections/struct_fields/add "
        "(array of struct fields)"
    )


@endpoint("collections/add_function", "collections/alter_function", "collections/drop_function")
def change_function(engine: EngineAPI, body: RestBody) -> None:
    engine.describe_collection(body.db, body.collection)
    raise NotSupportedError(
        "not supported by Elanus: adding, altering or dropping a function of an existing collection"
    )
