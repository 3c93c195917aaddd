"""The REST door's authentication and privilege check: an ASGI middleware in front
of ``/v2/vectordb/``, reading the same table as the gRPC door (an endpoint is
checked as the RPC ``REST_PRIVILEGES`` names). Credentials come as Milvus takes
them: ``Authorization: Bearer user:password`` (or HTTP Basic). A missing or wrong
credential is HTTP 401 with Milvus's code 1800, a missing privilege HTTP 403."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from elanus.engine.api import DEFAULT_DATABASE, EngineAPI
from elanus.errors import AuthenticationError, PermissionDenied
from elanus.security.privileges import REST_PRIVILEGES
from elanus.server.auth import Doorkeeper

__all__ = ["CALLER", "RestAuthMiddleware", "rest_token"]

# The authenticated caller of the REST request being served ("" with auth off).
CALLER: ContextVar[str] = ContextVar("elanus_rest_caller", default="")

_PREFIX = "/v2/vectordb/"
_UNKNOWN = "(not in the privilege table)"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def rest_token(authorization: str | None) -> str | None:
    """``user:password`` from ``Bearer user:password`` or ``Basic base64(...)``."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            return base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError(
                "auth check failure: the Basic credential is not base64: not authenticated"
            ) from None
    if scheme.lower() == "bearer":
        return value.strip()
    return authorization.strip()


def _view(payload: dict[str, Any], db: str) -> dict[str, Any]:
    """The request as the table's gRPC field names read it."""
    collection = payload.get("collectionName") or ""
    user = payload.get("userName") or ""
    return {
        "collection_name": collection,
        "collection_names": [collection] if collection else [],
        "username": user,
        "user_name": user,
        "user": {"name": user},
        "db_name": db,
        "newDBName": payload.get("newDbName") or db,
        "entity": {"role": {"name": payload.get("roleName") or ""}},
    }


async def _reply(send: Send, status: int, code: int, message: str) -> None:
    body = orjson.dumps({"code": code, "message": message})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RestAuthMiddleware:
    def __init__(self, app: App, engine_of: Callable[[], EngineAPI | None]) -> None:
        self.app = app
        self.engine_of = engine_of
        self.doorkeeper = Doorkeeper()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        engine = self.engine_of()
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(_PREFIX) or engine is None:
            await self.app(scope, receive, send)
            return
        rpc = REST_PRIVILEGES.get(path[len(_PREFIX) :], _UNKNOWN)
        auth_on = engine.security_state().auth_enabled
        # With auth off only drops stop here: they are audited from every door.
        if not auth_on and not self.doorkeeper.audited(rpc):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", ())}
        try:
            payload = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        db = str(payload.get("dbName") or headers.get("db-name") or DEFAULT_DATABASE)
        view = _view(payload, db)
        user = ""
        try:
            if auth_on:
                user = await run_in_threadpool(
                    self.doorkeeper.admit,
                    engine,
                    rpc,
                    view,
                    lambda: rest_token(headers.get("authorization")),
                    db,
                )
        except AuthenticationError as exc:
            await _reply(send, 401, 1800, str(exc))
            return
        except PermissionDenied as exc:
            await _reply(send, 403, 65535, str(exc))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        token = CALLER.set(user)
        try:
            if not self.doorkeeper.audited(rpc):
                await self.app(scope, replay, send)
                return
            # Only a drop's reply is kept, to see whether it succeeded; a success is
            # audited before its last byte goes out, so a client that saw it finds it
            # in the log.
            sent: list[bytes] = []

            async def watch(message: Message) -> None:
                if message["type"] == "http.response.body":
                    sent.append(message.get("body", b""))
                    if not message.get("more_body", False) and _succeeded(b"".join(sent)):
                        self.doorkeeper.audit_success(engine, rpc, view, user, db)
                await send(message)

            await self.app(scope, replay, watch)
        finally:
            CALLER.reset(token)


def _succeeded(reply: bytes) -> bool:
    try:
        answered = orjson.loads(reply)
    except orjson.JSONDecodeError:
        return False
    return isinstance(answered, dict) and answered.get("code") == 0
