"""Errors on the wire: ``elanus.errors`` → ``common_pb2.Status``, in one place.

A Milvus status carries two codes: ``code`` (Milvus's error code, what pymilvus
raises ``MilvusException.code`` with) and the legacy ``error_code`` enum that older
client paths still read (``has_collection`` looks at ``CollectionNotExists``).
Both are set so every pymilvus version reaches the same conclusion as with Milvus.
"""

from __future__ import annotations

import logging

from pymilvus.grpc_gen import common_pb2

from elanus.errors import (
    CollectionNotFound,
    ElanusError,
    IndexNotFound,
    InternalError,
    NotSupportedError,
    ParameterError,
)

__all__ = [
    "error_status",
    "not_supported_status",
    "status_for_exception",
    "success_status",
    "wire_message",
]

log = logging.getLogger("elanus.server")

_SUCCESS = common_pb2.Status(code=0, error_code=common_pb2.Success, reason="")


def success_status() -> common_pb2.Status:
    return _SUCCESS


def _legacy_code(exc: ElanusError) -> int:
    """The legacy ``ErrorCode`` Milvus pairs with the error's code."""
    if isinstance(exc, CollectionNotFound):
        return common_pb2.CollectionNotExists
    if isinstance(exc, IndexNotFound):
        return common_pb2.IndexNotExist
    if isinstance(exc, ParameterError | NotSupportedError) or exc.code == 1100:
        return common_pb2.IllegalArgument
    return common_pb2.UnexpectedError


# Milvus words an invalid-parameter error as "<detail>: invalid parameter" (the
# detail wraps the kind); clients and tests match on that tail.
_PARAMETER_TAIL = "invalid parameter"


def wire_message(exc: ElanusError) -> str:
    """The error's text as Milvus would word it on the wire."""
    text = str(exc)
    if isinstance(exc, ParameterError | NotSupportedError) and _PARAMETER_TAIL not in text:
        text = f"{text}: {_PARAMETER_TAIL}"
    return text


def error_status(exc: ElanusError) -> common_pb2.Status:
    status = common_pb2.Status(
        code=int(exc.code), error_code=_legacy_code(exc), reason=wire_message(exc)
    )
    if isinstance(exc, ParameterError):
        # pymilvus reads this to tell the caller's mistakes from server faults.
        status.extra_info["is_input_error"] = "true"
    return status


def not_supported_status(rpc: str) -> common_pb2.Status:
    return error_status(NotSupportedError(f"not supported by Elanus: {rpc}"))


def status_for_exception(exc: BaseException, rpc: str) -> common_pb2.Status:
    """Map anything a handler raised. Elanus errors keep their code; other
    exceptions are bugs, logged with their traceback and reported as internal."""
    if isinstance(exc, ElanusError):
        return error_status(exc)
    log.exception("unexpected error in %s", rpc)
    return error_status(InternalError(f"internal error in {rpc}: {type(exc).__name__}: {exc}"))
