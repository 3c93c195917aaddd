"""pymilvus's builder objects in, elanus's plain values out.

Users build schemas, index params and rankers with pymilvus's own classes (re-
exported by ``elanus``), so their code is the same as against Milvus. Those
classes all have ``to_dict()`` / ``dict()``; this module turns those into the
engine's values and nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from elanus.engine.requests import FunctionScoreSpec, IndexSpec, RankerSpec
from elanus.errors import ParameterError, SchemaError
from elanus.schema import CollectionSchema, DataType, FieldSchema, FunctionSchema

__all__ = [
    "default_value_of",
    "to_field",
    "to_index_specs",
    "to_ranker",
    "to_schema",
]


def default_value_of(raw: Any) -> Any:
    """A plain value from pymilvus's protobuf ``ValueField`` (or a plain value)."""
    which = getattr(raw, "WhichOneof", None)
    if which is None:
        return raw
    kind = which("data")
    if kind is None:
        return None
    return getattr(raw, kind)


def _field_dict(raw: Any) -> dict[str, Any]:
    if isinstance(raw, FieldSchema):
        return raw.to_dict()
    if isinstance(raw, Mapping):
        out = dict(raw)
    elif hasattr(raw, "to_dict"):
        out = dict(raw.to_dict())
    else:
        raise SchemaError(f"unsupported field definition: {type(raw).__name__}")
    if "default_value" in out:
        out["default_value"] = default_value_of(out["default_value"])
    return out


def to_field(raw: Any) -> FieldSchema:
    """A pymilvus ``FieldSchema`` (or its dict) as an elanus ``FieldSchema``."""
    if isinstance(raw, FieldSchema):
        return raw
    try:
        return FieldSchema.from_dict(_field_dict(raw))
    except ValueError as exc:
        raise SchemaError(str(exc)) from None


def to_schema(raw: Any) -> CollectionSchema:
    """A pymilvus ``CollectionSchema`` (or its dict, or an elanus one) as elanus's."""
    if isinstance(raw, CollectionSchema):
        return raw
    if isinstance(raw, Mapping):
        data = dict(raw)
    elif hasattr(raw, "to_dict"):
        data = dict(raw.to_dict())
    else:
        raise SchemaError(f"schema must be a CollectionSchema, got {type(raw).__name__}")
    fields = tuple(to_field(f) for f in data.get("fields") or ())
    try:
        functions = tuple(
            FunctionSchema.from_dict(_function_dict(f)) for f in data.get("functions") or ()
        )
    except ValueError as exc:
        raise SchemaError(str(exc)) from None
    return CollectionSchema(
        fields=fields,
        description=str(data.get("description") or ""),
        enable_dynamic_field=bool(
            data.get("enable_dynamic_field", data.get("enable_dynamic", False))
        ),
        functions=functions,
    )


def _function_dict(raw: Any) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        return dict(raw)
    if hasattr(raw, "to_dict"):
        return dict(raw.to_dict())
    raise SchemaError(f"unsupported function definition: {type(raw).__name__}")


def to_index_specs(index_params: Any) -> list[IndexSpec]:
    """pymilvus ``IndexParams`` (an iterable of ``IndexParam``) as ``IndexSpec``s."""
    if index_params is None:
        return []
    items: Iterable[Any] = index_params if not isinstance(index_params, Mapping) else [index_params]
    specs: list[IndexSpec] = []
    for item in items:
        if isinstance(item, IndexSpec):
            specs.append(item)
            continue
        if isinstance(item, Mapping):
            field_name = str(item.get("field_name", ""))
            index_name = str(item.get("index_name", "") or "")
            configs = {k: v for k, v in item.items() if k not in ("field_name", "index_name")}
        else:
            field_name = str(getattr(item, "field_name", ""))
            index_name = str(getattr(item, "index_name", "") or "")
            configs = dict(item.get_index_configs())
        index_type = str(configs.pop("index_type", "") or "AUTOINDEX")
        metric = configs.pop("metric_type", None)
        nested = configs.pop("params", None)
        params = dict(nested) if isinstance(nested, Mapping) else {}
        params.update(configs)
        specs.append(
            IndexSpec(
                field_name=field_name,
                index_type=index_type,
                index_name=index_name,
                metric_type=None if metric in (None, "") else str(metric),
                params=params,
            )
        )
    return specs


def to_ranker(ranker: Any) -> RankerSpec:
    """pymilvus ``RRFRanker`` / ``WeightedRanker`` / rerank ``Function`` as a ``RankerSpec``."""
    if isinstance(ranker, RankerSpec):
        return ranker
    if hasattr(ranker, "dict") and hasattr(ranker, "_strategy"):
        raw = ranker.dict()
        return RankerSpec(
            kind=str(raw.get("strategy", "")).lower(), params=dict(raw.get("params") or {})
        )
    if hasattr(ranker, "to_dict"):
        raw = ranker.to_dict()
        params = dict(raw.get("params") or {})
        kind = str(params.pop("reranker", "") or "").lower()
        if not kind:
            raise ParameterError("rerank function must set params['reranker']")
        if raw.get("input_field_names"):
            params["input_field_names"] = list(raw["input_field_names"])
        return RankerSpec(kind=kind, params=params)
    if isinstance(ranker, Mapping):
        return RankerSpec(
            kind=str(ranker.get("strategy", "")).lower(), params=dict(ranker.get("params") or {})
        )
    raise ParameterError(f"unsupported ranker: {type(ranker).__name__}")


def to_function_score(ranker: Any) -> FunctionScoreSpec:
    """pymilvus ``Function`` (rerank) or ``FunctionScore`` given to ``search`` as a spec."""
    if isinstance(ranker, FunctionScoreSpec):
        return ranker
    functions = getattr(ranker, "functions", None)
    if functions is not None and not hasattr(ranker, "to_dict"):
        items = [functions] if hasattr(functions, "to_dict") else list(functions)
        return FunctionScoreSpec(
            functions=tuple(to_ranker(f) for f in items),
            params=dict(getattr(ranker, "params", None) or {}),
        )
    if hasattr(ranker, "to_dict"):
        return FunctionScoreSpec(functions=(to_ranker(ranker),))
    raise ParameterError("The search ranker must be a Function or FunctionScore.")


def datatype_of(value: Any) -> DataType:
    try:
        return DataType.parse(value)
    except ValueError as exc:
        raise ParameterError(str(exc)) from None
