"""What every REST v2 endpoint shares: the request body, the endpoint registry and
the error answer, written once.

An endpoint is ``def name(engine, body: RestBody) -> data`` registered under its
path below ``/v2/vectordb/`` with ``@endpoint("collections/create")``; it returns
the reply's ``data`` (``None`` for ``{}``) or raises ``elanus.errors``. The
application (``rest_app``) turns both into Milvus's ``{"code", "data"|"message"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from elanus.engine.api import DEFAULT_DATABASE, EngineAPI
from elanus.errors import ElanusError, ParameterError
from elanus.schema.validate import validate_name
from elanus.server.errors import wire_message

__all__ = [
    "ENDPOINTS",
    "MissingParameter",
    "RestBody",
    "RestHandler",
    "endpoint",
    "error_reply",
]


class MissingParameter(ParameterError):
    """A required body field is absent (Milvus's REST code 1802)."""

    code = 1802


class InvalidJson(ParameterError):
    """The body is not a JSON object (Milvus's REST code 1801)."""

    code = 1801


@dataclass(frozen=True)
class RestBody:
    """A request's JSON object, with typed, named access to its fields."""

    raw: Mapping[str, Any]

    @property
    def db(self) -> str:
        name = self.raw.get("dbName") or DEFAULT_DATABASE
        if not isinstance(name, str):
            raise ParameterError(f"dbName must be a string, got {name!r}")
        return name

    def get(self, key: str, default: Any = None) -> Any:
        value = self.raw.get(key)
        return default if value is None else value

    def text(self, key: str) -> str:
        """A required string field."""
        value = self.raw.get(key)
        if value is None or value == "":
            raise MissingParameter(f"missing required parameters, error: {key} is required")
        if not isinstance(value, str):
            raise ParameterError(f"{key} must be a string, got {value!r}")
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
        value = self.raw.get(key)
        if value is None or value == []:
            if required:
                raise MissingParameter(f"missing required parameters, error: {key} is required")
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ParameterError(f"{key} must be a list of strings, got {value!r}")
        return list(value)

    def integer(self, key: str, default: int) -> int:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(f"{key} must be an integer, got {value!r}")
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ParameterError(f"{key} must be an object, got {value!r}")
        return dict(value)


def parse_body(payload: Any) -> RestBody:
    if not isinstance(payload, Mapping):
        raise InvalidJson("can only accept json format request: the body must be a JSON object")
    return RestBody(payload)


RestHandler = Callable[[EngineAPI, RestBody], Any]

ENDPOINTS: dict[str, RestHandler] = {}


def endpoint(path: str) -> Callable[[RestHandler], RestHandler]:
    """Register a handler for ``POST /v2/vectordb/<path>``."""

    def register(handler: RestHandler) -> RestHandler:
        ENDPOINTS[path] = handler
        return handler

    return register


def error_reply(exc: ElanusError) -> dict[str, Any]:
    """Milvus's REST error body: its code and the message as the wire words it."""
    return {"code": int(exc.code), "message": wire_message(exc)}
