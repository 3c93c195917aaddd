"""Milvus's RESTful API v2 on the HTTP port: ``POST /v2/vectordb/<group>/<action>``.

Every answer is HTTP 200 with ``{"code": 0, "data": ...}`` or ``{"code": <Milvus
code>, "message": ...}``, as Milvus answers; a path Elanus does not serve answers
in the same envelope ("not supported by Elanus: <path>"). The handlers
(``rest_ddl``, ``rest_fields``, ``rest_data``, ``rest_cluster``) translate JSON
into engine calls; they run in Starlette's thread pool because engine calls block.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from elanus.engine.api import EngineAPI
from elanus.errors import ElanusError, InternalError, NotSupportedError
from elanus.server import rest_cluster, rest_data, rest_ddl, rest_fields, rest_rbac
from elanus.server.errors import library_error
from elanus.server.rest_body import ENDPOINTS, Reply, RestHandler, error_reply, parse_body

__all__ = ["REST_PREFIX", "handle", "rest_routes"]

log = logging.getLogger("elanus.server")

REST_PREFIX = "/v2/vectordb/"
# The handler modules register their endpoints on import.
_HANDLER_MODULES = (rest_ddl, rest_fields, rest_data, rest_cluster, rest_rbac)


class ServiceNotReady(ElanusError):
    code = 1


def _json(payload: dict[str, Any]) -> Response:
    body = orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    return Response(body, media_type="application/json")


def _truthy(header: str | None) -> bool:
    return (header or "").strip().lower() in ("1", "t", "true")


def handle(
    engine: EngineAPI | None,
    path: str,
    handler: RestHandler,
    raw: bytes,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One request, start to finish: parse, call, answer (errors included)."""
    headers = headers or {}
    try:
        if engine is None:
            raise ServiceNotReady("service not ready: the data directory is still being opened")
        body = parse_body(
            raw,
            header_db=headers.get("db-name", ""),
            allow_int64=_truthy(headers.get("accept-type-allow-int64")),
        )
        data = handler(engine, body)
        if isinstance(data, Reply):
            return {"code": 0, "data": data.data, **data.extra}
        return {"code": 0, "data": {} if data is None else data}
    except ElanusError as exc:
        log.debug("REST %s failed: %s", path, exc)
        return error_reply(exc)
    except Exception as exc:
        translated = library_error(exc)
        if translated is not None:
            return error_reply(translated)
        # a bug: logged with its traceback, answered as internal
        log.exception("unexpected error in REST %s", path)
        return error_reply(InternalError(f"internal error in {path}: {type(exc).__name__}: {exc}"))


def _headers(request: Request) -> dict[str, str]:
    return {
        k: request.headers[k]
        for k in ("db-name", "accept-type-allow-int64")
        if k in request.headers
    }


def rest_routes(engine_of: Callable[[], EngineAPI | None]) -> list[Route]:
    """One route per endpoint, then one answering every other ``/v2/vectordb/``
    path; ``engine_of`` gives the engine once it is open."""

    def route(path: str, handler: RestHandler) -> Route:
        async def call(request: Request) -> Response:
            raw = await request.body()
            reply = await run_in_threadpool(
                handle, engine_of(), path, handler, raw, _headers(request)
            )
            return _json(reply)

        return Route(REST_PREFIX + path, call, methods=["POST"])

    async def unknown(request: Request) -> Response:
        path = request.url.path
        return _json(error_reply(NotSupportedError(f"not supported by Elanus: {path}")))

    routes = [route(path, handler) for path, handler in sorted(ENDPOINTS.items())]
    routes.append(
        Route(REST_PREFIX + "{rest:path}", unknown, methods=["GET", "POST", "PUT", "DELETE"])
    )
    return routes
