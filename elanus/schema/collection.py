"""The schema of a collection: its fields, functions and dynamic-field switch."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from elanus.errors import FieldNotFound
from elanus.schema.field import DYNAMIC_FIELD_NAME, FieldSchema, FunctionSchema
from elanus.schema.types import DataType

__all__ = ["CollectionSchema"]


@dataclass(frozen=True)
class CollectionSchema:
    """A validated collection schema (see ``elanus.schema.validate``).

    Field ids start at 100 in declaration order, as in Milvus. The dynamic field,
    when enabled, is not listed in ``fields``; ``enable_dynamic_field`` says it is
    there and its column is named ``$meta``.
    """

    fields: tuple[FieldSchema, ...]
    description: str = ""
    enable_dynamic_field: bool = False
    functions: tuple[FunctionSchema, ...] = ()

    def __hash__(self) -> int:
        return hash(tuple(f.name for f in self.fields))

    @cached_property
    def _by_name(self) -> dict[str, FieldSchema]:
        return {f.name: f for f in self.fields}

    @property
    def primary_field(self) -> FieldSchema:
        for f in self.fields:
            if f.is_primary:
                return f
        raise FieldNotFound("schema has no primary key field")

    @property
    def vector_fields(self) -> tuple[FieldSchema, ...]:
        return tuple(f for f in self.fields if f.dtype.is_vector)

    @property
    def scalar_fields(self) -> tuple[FieldSchema, ...]:
        return tuple(f for f in self.fields if not f.dtype.is_vector)

    @property
    def partition_key_field(self) -> FieldSchema | None:
        for f in self.fields:
            if f.is_partition_key:
                return f
        return None

    @property
    def clustering_key_field(self) -> FieldSchema | None:
        for f in self.fields:
            if f.is_clustering_key:
                return f
        return None

    def has_field(self, name: str) -> bool:
        return name in self._by_name

    def field(self, name: str) -> FieldSchema:
        try:
            return self._by_name[name]
        except KeyError:
            raise FieldNotFound(f"field {name} not exist") from None

    def get(self, name: str) -> FieldSchema | None:
        return self._by_name.get(name)

    @property
    def function_output_names(self) -> frozenset[str]:
        return frozenset(n for fn in self.functions for n in fn.output_field_names)

    @property
    def dynamic_field_name(self) -> str | None:
        return DYNAMIC_FIELD_NAME if self.enable_dynamic_field else None

    @property
    def max_field_id(self) -> int:
        return max((f.field_id for f in self.fields), default=99)

    def with_field(self, new: FieldSchema) -> CollectionSchema:
        """A copy with one more field, given the next field id."""
        return CollectionSchema(
            fields=self.fields + (new.with_id(self.max_field_id + 1),),
            description=self.description,
            enable_dynamic_field=self.enable_dynamic_field,
            functions=self.functions,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "fields": [f.to_dict() for f in self.fields],
            "description": self.description,
            "enable_dynamic_field": self.enable_dynamic_field,
            "functions": [fn.to_dict() for fn in self.functions],
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CollectionSchema:
        return cls(
            fields=tuple(FieldSchema.from_dict(f) for f in raw.get("fields") or ()),
            description=str(raw.get("description") or ""),
            enable_dynamic_field=bool(
                raw.get("enable_dynamic_field", raw.get("enable_dynamic", False))
            ),
            functions=tuple(FunctionSchema.from_dict(f) for f in raw.get("functions") or ()),
        )

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form (enums as ints) for the catalog on disk."""

        def plain(value: Any) -> Any:
            if isinstance(value, DataType):
                return int(value)
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [plain(v) for v in value]
            if hasattr(value, "value") and isinstance(value.value, int):
                return int(value.value)
            return value

        out: dict[str, Any] = plain(self.to_dict())
        return out
