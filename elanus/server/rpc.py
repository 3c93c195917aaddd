"""What every gRPC handler shares, written once: database resolution, error mapping,
timing, and the "not supported" answer for RPCs Elanus does not have.

A handler is ``def Name(self, request, call: Call) -> reply | None``; ``@rpc``
turns it into a grpcio method that always answers with the RPC's reply type and a
status: success, or the Milvus code of whatever ``elanus.errors`` it raised.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import Message
from pymilvus.grpc_gen import common_pb2, milvus_pb2

from elanus.engine.api import DEFAULT_DATABASE
from elanus.errors import AuthenticationError, PermissionDenied
from elanus.server.auth import token_from_metadata
from elanus.server.errors import not_supported_status, status_for_exception, success_status
from elanus.server.wording import check_names, reword

__all__ = ["Call", "RpcStats", "reply_type", "rpc", "unsupported"]

log = logging.getLogger("elanus.server")

_SERVICE = milvus_pb2.DESCRIPTOR.services_by_name["MilvusService"]


def reply_type(name: str) -> type[Message]:
    """The generated class of the RPC's reply message."""
    from google.protobuf import message_factory

    descriptor = _SERVICE.methods_by_name[name].output_type
    return message_factory.GetMessageClass(descriptor)  # type: ignore[no-any-return]


def is_streaming(name: str) -> bool:
    method = _SERVICE.methods_by_name[name]
    return bool(method.client_streaming or method.server_streaming)


def rpc_names() -> list[str]:
    return [m.name for m in _SERVICE.methods]


@dataclass(frozen=True)
class Call:
    """One request's context: the database it addresses and the gRPC context."""

    db: str
    context: grpc.ServicerContext | None = None
    # The authenticated caller ("" when authorization is off).
    user: str = ""


@dataclass
class RpcStats:
    """Counts and total seconds per RPC (what a metrics endpoint will read)."""

    calls: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def observe(self, name: str, elapsed: float, ok: bool) -> None:
        with self._lock:
            self.calls[name] = self.calls.get(name, 0) + 1
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
            if not ok:
                self.errors[name] = self.errors.get(name, 0) + 1


def database_of(request: Any, context: grpc.ServicerContext | None) -> str:
    """The database a request addresses: its ``db_name`` field, else the ``dbname``
    metadata pymilvus sends, else "default"."""
    name = getattr(request, "db_name", "") or getattr(request, "dbName", "") or ""
    if not name and context is not None:
        for key, value in context.invocation_metadata() or ():
            if key == "dbname" and value:
                name = value if isinstance(value, str) else value.decode()
                break
    return name or DEFAULT_DATABASE


def _with_status(cls: type[Message], status: common_pb2.Status) -> Message:
    if cls is common_pb2.Status:
        return status
    reply = cls()
    reply.status.CopyFrom(status)  # type: ignore[attr-defined]
    return reply


Handler = Callable[[Any, Any, Call], Any]


def admit(service: Any, name: str, request: Any, context: grpc.ServicerContext, db: str) -> str:
    """The caller, once authenticated and authorised (``elanus.server.auth``); a
    refusal ends the call with the gRPC status Milvus uses for it."""
    try:
        return str(
            service.doorkeeper.admit(
                service.engine,
                name,
                request,
                lambda: token_from_metadata(context.invocation_metadata()),
                db,
            )
        )
    except AuthenticationError as exc:
        if name == "Connect":
            # pymilvus reports a failed Connect only through the reply's status;
            # 1800 is Milvus's "user hasn't authenticated".
            raise AuthenticationError(str(exc), code=1800) from None
        context.abort(grpc.StatusCode.UNAUTHENTICATED, str(exc))
    except PermissionDenied as exc:
        context.abort(grpc.StatusCode.PERMISSION_DENIED, str(exc))
    raise AssertionError("unreachable: context.abort raises")


def rpc(handler: Handler) -> Callable[[Any, Any, grpc.ServicerContext], Message]:
    name = handler.__name__
    cls = reply_type(name)

    def method(self: Any, request: Any, context: grpc.ServicerContext) -> Message:
        started = time.perf_counter()
        ok = True
        db = database_of(request, context)
        try:
            user = admit(self, name, request, context, db)
        except AuthenticationError as exc:
            self.stats.observe(name, time.perf_counter() - started, False)
            return _with_status(cls, status_for_exception(exc, name))  # type: ignore[no-any-return]
        try:
            check_names(name, request)
            reply = handler(self, request, Call(db, context, user))
            if reply is None:
                reply = _with_status(cls, success_status())
            elif cls is not common_pb2.Status:
                reply.status.CopyFrom(success_status())
            reply = self.doorkeeper.filter_reply(self.engine, name, reply, user, db)
            self.doorkeeper.audit_success(self.engine, name, request, user, db)
        except Exception as exc:
            ok = False
            worded = reword(exc, name, request, database_of(request, context))
            reply = _with_status(cls, status_for_exception(worded, name))
            log.debug("%s failed: %s", name, worded)
        self.stats.observe(name, time.perf_counter() - started, ok)
        return reply  # type: ignore[no-any-return]

    method.__name__ = name
    method.__doc__ = handler.__doc__
    return method


def unsupported(name: str) -> Callable[[Any, Any, grpc.ServicerContext], Any]:
    """A method answering that Elanus does not support ``name``."""
    cls = reply_type(name)
    if is_streaming(name) or (
        cls is not common_pb2.Status and "status" not in cls.DESCRIPTOR.fields_by_name
    ):
        # No status field to carry the answer (streams, and replies such as
        # AlterCollectionSchema's): UNIMPLEMENTED is what makes pymilvus fall back.

        def streaming(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
            if not is_streaming(name):
                admit(self, name, request, context, database_of(request, context))
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"not supported by Elanus: {name}")

        streaming.__name__ = name
        return streaming

    def method(self: Any, request: Any, context: grpc.ServicerContext) -> Message:
        admit(self, name, request, context, database_of(request, context))
        self.stats.observe(name, 0.0, False)
        return _with_status(cls, not_supported_status(name))

    method.__name__ = name
    return method
