"""Milvus's RESTful API v2 on the HTTP port: ``POST /v2/vectordb/<group>/<action>``.

Every answer is HTTP 200 with ``{"code": 0, "data": ...}`` or ``{"code": <Milvus
code>, "message": ...}``, as Milvus answers; only an unknown path is a 404. The
handlers (``rest_ddl``, ``rest_data``) translate JSON into engine calls; they run
in Starlette's thread pool because engine calls block.
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
from elanus.errors import ElanusError, InternalError
from elanus.server import rest_data, rest_ddl
from elanus.server.rest_body import ENDPOINTS, RestHandler, error_reply, parse_body

__all__ = ["REST_PREFIX", "handle", "rest_routes"]

log = logging.getLogger("elanus.server")

REST_PREFIX = "/v2/vectordb/"
# Both handler modules register their endpoints on import.
_HANDLER_MODULES = (rest_ddl, rest_data)


class ServiceNotReady(ElanusError):
    code = 1


def _json(payload: dict[str, Any]) -> Response:
    body = orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    return Response(body, media_type="application/json")


def handle(engine: EngineAPI | None, path: str, handler: RestHandler, raw: bytes) -> dict[str, Any]:
    """One request, start to finish: parse, call, answer (errors included)."""
    try:
        if engine is None:
            raise ServiceNotReady("service not ready: the data directory is still being opened")
        try:
            payload = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            payload = None
        data = handler(engine, parse_body(payload))
        return {"code": 0, "data": {} if data is None else data}
    except ElanusError as exc:
        log.debug("REST %s failed: %s", path, exc)
        return error_reply(exc)
    except Exception as exc:  # a bug: logged with its traceback, answered as internal
        log.exception("unexpected error in REST %s", path)
        return error_reply(InternalError(f"internal error in {path}: {type(exc).__name__}: {exc}"))


def rest_routes(engine_of: Callable[[], EngineAPI | None]) -> list[Route]:
    """One route per endpoint; ``engine_of`` gives the engine once it is open."""

    def route(path: str, handler: RestHandler) -> Route:
        async def call(request: Request) -> Response:
            raw = await request.body()
            return _json(await run_in_threadpool(handle, engine_of(), path, handler, raw))

        return Route(REST_PREFIX + path, call, methods=["POST"])

    return [route(path, handler) for path, handler in sorted(ENDPOINTS.items())]
