"""Field and function definitions: plain, frozen values."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from elanus.schema.types import DataType, FunctionType

__all__ = ["DYNAMIC_FIELD_NAME", "FieldSchema", "FunctionSchema"]

DYNAMIC_FIELD_NAME = "$meta"


@dataclass(frozen=True)
class FieldSchema:
    """One field of a collection, as Milvus defines it.

    ``params`` holds the type parameters Milvus keeps as strings on the wire
    (``dim``, ``max_length``, ``max_capacity``, ``enable_analyzer``,
    ``analyzer_params``, ``enable_match``, ``mmap.enabled`` ...); the typed
    accessors below read them.
    """

    name: str
    dtype: DataType
    description: str = ""
    is_primary: bool = False
    auto_id: bool = False
    nullable: bool = False
    default_value: Any = None
    is_partition_key: bool = False
    is_clustering_key: bool = False
    is_dynamic: bool = False
    is_function_output: bool = False
    element_type: DataType | None = None
    params: dict[str, Any] = field(default_factory=dict)
    field_id: int = 0

    def __hash__(self) -> int:
        return hash((self.name, self.dtype, self.field_id))

    @property
    def dim(self) -> int | None:
        value = self.params.get("dim")
        return None if value is None else int(value)

    @property
    def max_length(self) -> int | None:
        value = self.params.get("max_length")
        return None if value is None else int(value)

    @property
    def max_capacity(self) -> int | None:
        value = self.params.get("max_capacity")
        return None if value is None else int(value)

    @property
    def enable_analyzer(self) -> bool:
        return _truthy(self.params.get("enable_analyzer"))

    @property
    def enable_match(self) -> bool:
        return _truthy(self.params.get("enable_match"))

    @property
    def analyzer_params(self) -> dict[str, Any] | None:
        value = self.params.get("analyzer_params")
        if value is None:
            return None
        if isinstance(value, str):
            import json

            parsed: dict[str, Any] = json.loads(value)
            return parsed
        return dict(value)

    @property
    def has_default(self) -> bool:
        return self.default_value is not None

    def with_id(self, field_id: int) -> FieldSchema:
        return replace(self, field_id=field_id)

    def to_dict(self) -> dict[str, Any]:
        """The shape pymilvus's ``describe_collection`` gives for a field."""
        out: dict[str, Any] = {
            "field_id": self.field_id,
            "name": self.name,
            "description": self.description,
            "type": self.dtype,
            "params": dict(self.params),
        }
        if self.element_type is not None:
            out["element_type"] = self.element_type
        if self.is_primary:
            out["is_primary"] = True
        if self.auto_id:
            out["auto_id"] = True
        if self.nullable:
            out["nullable"] = True
        if self.default_value is not None:
            out["default_value"] = self.default_value
        if self.is_partition_key:
            out["is_partition_key"] = True
        if self.is_clustering_key:
            out["is_clustering_key"] = True
        if self.is_dynamic:
            out["is_dynamic"] = True
        if self.is_function_output:
            out["is_function_output"] = True
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FieldSchema:
        """Build from a pymilvus-style field dict (``FieldSchema.to_dict()``)."""
        params = dict(raw.get("params") or {})
        for key in ("dim", "max_length", "max_capacity"):
            if key in raw and raw[key] is not None:
                params[key] = raw[key]
        element = raw.get("element_type")
        return cls(
            name=str(raw.get("name", "")),
            dtype=DataType.parse(raw.get("type", raw.get("dtype", DataType.NONE))),
            description=str(raw.get("description") or ""),
            is_primary=bool(raw.get("is_primary", False)),
            auto_id=bool(raw.get("auto_id", False)),
            nullable=bool(raw.get("nullable", False)),
            default_value=raw.get("default_value"),
            is_partition_key=bool(raw.get("is_partition_key", False)),
            is_clustering_key=bool(raw.get("is_clustering_key", False)),
            is_dynamic=bool(raw.get("is_dynamic", False)),
            is_function_output=bool(raw.get("is_function_output", False)),
            element_type=None if element in (None, 0) else DataType.parse(element),
            params=params,
            field_id=int(raw.get("field_id", 0) or 0),
        )


@dataclass(frozen=True)
class FunctionSchema:
    """A function in a schema: BM25 (text -> sparse) or TEXTEMBEDDING (text -> dense)."""

    name: str
    function_type: FunctionType
    input_field_names: tuple[str, ...]
    output_field_names: tuple[str, ...]
    description: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.name, self.function_type))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "type": self.function_type,
            "input_field_names": list(self.input_field_names),
            "output_field_names": list(self.output_field_names),
            "params": dict(self.params),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FunctionSchema:
        return cls(
            name=str(raw.get("name", "")),
            function_type=FunctionType.parse(raw.get("type", raw.get("function_type", 0))),
            input_field_names=tuple(raw.get("input_field_names") or ()),
            output_field_names=tuple(raw.get("output_field_names") or ()),
            description=str(raw.get("description") or ""),
            params=dict(raw.get("params") or {}),
        )


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)
