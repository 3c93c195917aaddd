"""What every REST v2 endpoint shares: the request body, the endpoint registry and
the error answer, written once.

An endpoint is ``def name(engine, body: RestBody) -> data`` registered under its
path below ``/v2/vectordb/`` with ``@endpoint("collections/create")``; it returns
the reply's ``data`` (``None`` for ``{}``) or raises ``elanus.errors``. The
application (``rest_app``) turns both into Milvus's ``{"code", "data"|"message"}``.

Milvus binds each body into a typed struct: a field of the wrong JSON type is
1801 (the body's format), a required one missing is 1802. Free-form maps
(``params``, ``properties``) keep any JSON value, and Milvus reads numbers there
from their ``%v`` text, so ``"shardsNum": "2"`` and ``2`` mean the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from elanus.engine.api import DEFAULT_DATABASE, CollectionInfo, EngineAPI
from elanus.errors import CollectionNotFound, ElanusError, ParameterError
from elanus.schema.validate import validate_name
from elanus.server.errors import wire_message

__all__ = [
    "ENDPOINTS",
    "InvalidJson",
    "MissingParameter",
    "Reply",
    "RestBody",
    "RestHandler",
    "consistency_level",
    "describe",
    "endpoint",
    "error_reply",
    "go_text",
    "invalid",
    "parse_body",
]


class MissingParameter(ParameterError):
    """A required body field is absent (Milvus's REST code 1802)."""

    code = 1802


class InvalidJson(ParameterError):
    """The body is not a JSON object, or a field has the wrong JSON type (1801)."""

    code = 1801


_FORMAT = "can only accept json format request"


def go_text(value: Any) -> str:
    """A JSON value as Go's ``fmt.Sprintf("%v")`` writes it, which is how Milvus
    turns ``properties`` and ``params`` values into its key/value strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value
    if value is None:
        return "<nil>"
    if isinstance(value, list):
        return "[" + " ".join(go_text(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = " ".join(f"{k}:{go_text(v)}" for k, v in sorted(value.items()))
        return f"map[{items}]"
    return str(value)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _wrong_type(key: str, value: Any, want: str) -> InvalidJson:
    return InvalidJson(
        f"{_FORMAT}, error: json: cannot unmarshal {_json_kind(value)} into Go struct "
        f"field {key} of type {want}"
    )


@dataclass(frozen=True)
class RestBody:
    """A request's JSON object, with typed, named access to its fields.

    ``header_db`` is the ``DB-Name`` header (used when the body names no
    database); ``allow_int64`` is the ``Accept-Type-Allow-Int64`` header: without
    it Milvus writes 64-bit integers in replies as strings."""

    raw: Mapping[str, Any]
    header_db: str = ""
    allow_int64: bool = False

    @property
    def db(self) -> str:
        name = self.value("dbName")
        if name is not None and not isinstance(name, str):
            raise _wrong_type("dbName", name, "string")
        return name or self.header_db or DEFAULT_DATABASE

    def with_raw(self, raw: Mapping[str, Any]) -> RestBody:
        """Another object (a hybrid search's leg) read with this request's headers."""
        return RestBody(raw, self.header_db, self.allow_int64)

    def value(self, key: str) -> Any:
        """A field by its JSON name; as Go's decoder does, a key differing only in
        case also matches (``autoId`` for ``autoID``)."""
        if key in self.raw:
            return self.raw[key]
        folded = key.casefold()
        for name, value in self.raw.items():
            if isinstance(name, str) and name.casefold() == folded:
                return value
        return None

    def get(self, key: str, default: Any = None) -> Any:
        value = self.value(key)
        return default if value is None else value

    def text(self, key: str) -> str:
        """A required string field."""
        value = self.value(key)
        if value is not None and not isinstance(value, str):
            raise _wrong_type(key, value, "string")
        if not value:
            raise MissingParameter(
                f"missing required parameters, error: Key: '{key}' "
                f"Error:Field validation for '{key}' failed on the 'required' tag"
            )
        return value

    def optional_text(self, key: str) -> str:
        value = self.value(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise _wrong_type(key, value, "string")
        return value

    def name(self, key: str, kind: str) -> str:
        """A required collection/partition/alias name, checked as Milvus names are."""
        value = self.text(key)
        validate_name(kind, value)
        return value

    @property
    def collection(self) -> str:
        return self.name("collectionName", "collection")

    def text_list(self, key: str, *, required: bool = False) -> list[str] | None:
        value = self.value(key)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            raise _wrong_type(key, value, "[]string")
        if not value:
            if required:
                raise MissingParameter(
                    f"missing required parameters, error: Key: '{key}' "
                    f"Error:Field validation for '{key}' failed on the 'required' tag"
                )
            return None
        return list(value)

    def integer(self, key: str, default: int) -> int:
        """A typed integer field: JSON numbers only (a whole float is taken)."""
        value = self.value(key)
        if value is None:
            return default
        if isinstance(value, float) and value == int(value):
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(key, value, "int")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.value(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise _wrong_type(key, value, "bool")
        return value

    def param_int(self, key: str, default: int | None) -> int | None:
        """An integer inside a free-form map, read from its ``%v`` text as Milvus
        does: ``2``, ``2.0`` and ``"2"`` are 2; text that is no integer leaves the
        default."""
        value = self.value(key)
        if value is None:
            return default
        try:
            return int(go_text(value))
        except ValueError:
            return default

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.value(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise _wrong_type(key, value, "map[string]interface {}")
        return dict(value)

    def properties(self, key: str = "properties") -> dict[str, str]:
        """A free-form map as Milvus's key/value strings."""
        return {str(k): go_text(v) for k, v in self.mapping(key).items()}


def invalid(expected: Any, actual: Any, message: str) -> ParameterError:
    """Milvus's ``WrapErrParameterInvalid`` text: the message, then what was expected
    and what came."""
    return ParameterError(
        f"{message}: invalid parameter[expected={go_text(expected)}][actual={go_text(actual)}]"
    )


# Milvus's consistency level names, matched case-sensitively as its REST API does.
_LEVELS = ("Strong", "Session", "Bounded", "Eventually", "Customized")
_LEVEL_HINT = "consistencyLevel can only be [Strong, Session, Bounded, Eventually, Customized]"


def consistency_level(value: Any) -> str | None:
    """A request's ``consistencyLevel`` (``None`` when unset)."""
    if value is None or value == "":
        return None
    if value not in _LEVELS:
        raise invalid(", ".join(_LEVELS), value, f"{_LEVEL_HINT}, default: Bounded")
    return str(value)


def describe(engine: EngineAPI, db: str, name: str) -> CollectionInfo:
    """``describe_collection`` worded as Milvus's DescribeCollection when the
    collection is missing ("can't find collection[database=..][collection=..]")."""
    try:
        return engine.describe_collection(db, name)
    except CollectionNotFound:
        raise CollectionNotFound(
            f"can't find collection[database={db}][collection={name}]"
        ) from None


def parse_body(raw: bytes, header_db: str = "", allow_int64: bool = False) -> RestBody:
    """The request body as Milvus binds it: ``null`` is an empty request, an empty
    body or anything but an object is refused."""
    if not raw.strip():
        raise InvalidJson(f"{_FORMAT}, the request body should be nil, however {{}} is valid")
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJson(f"{_FORMAT}, error: {exc}") from None
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        raise InvalidJson(
            f"{_FORMAT}, error: json: cannot unmarshal {_json_kind(payload)} into Go value"
        )
    return RestBody(payload, header_db, allow_int64)


@dataclass(frozen=True)
class Reply:
    """An answer with keys beside ``data`` (a search's ``topks``)."""

    data: Any
    extra: Mapping[str, Any]


RestHandler = Callable[[EngineAPI, RestBody], Any]

ENDPOINTS: dict[str, RestHandler] = {}


def endpoint(*paths: str) -> Callable[[RestHandler], RestHandler]:
    """Register a handler for ``POST /v2/vectordb/<path>`` (one or more paths)."""

    def register(handler: RestHandler) -> RestHandler:
        for path in paths:
            ENDPOINTS[path] = handler
        return handler

    return register


def error_reply(exc: ElanusError) -> dict[str, Any]:
    """Milvus's REST error body: its code and the message as the wire words it
    (the body's own format errors carry Milvus's binding text as it is)."""
    text = str(exc) if isinstance(exc, InvalidJson | MissingParameter) else wire_message(exc)
    return {"code": int(exc.code), "message": text}
