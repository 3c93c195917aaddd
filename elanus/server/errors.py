"""Errors on the wire: ``elanus.errors`` → ``common_pb2.Status``, in one place.

A Milvus status carries two codes: ``code`` (Milvus's error code, what pymilvus
raises ``MilvusException.code`` with) and the legacy ``error_code`` enum that older
client paths still read (``has_collection`` looks at ``CollectionNotExists``).
Both are set so every pymilvus version reaches the same conclusion as with Milvus.
"""

from __future__ import annotations

import logging

import orjson
import pyarrow as pa
from google.protobuf.message import DecodeError
from pymilvus.grpc_gen import common_pb2

from elanus.errors import (
    CollectionNotFound,
    DataError,
    ElanusError,
    IndexNotFound,
    InternalError,
    NotSupportedError,
    ParameterError,
)

__all__ = [
    "error_status",
    "library_error",
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


def library_error(exc: BaseException) -> ElanusError | None:
    """The Elanus error for what a decoding library raised on a request's content (a
    nested message, a JSON text, UTF-8 bytes, Arrow data that does not parse), or for
    a request whose values nest deeper than Python's stack (a JSON body may nest 1,000
    levels), or None when ``exc`` is none of those: then it is a bug."""
    if isinstance(exc, RecursionError):
        return ParameterError("invalid request: values are nested too deeply")
    if isinstance(exc, DecodeError):
        return ParameterError(f"invalid request: a nested message does not decode ({exc})")
    if isinstance(exc, orjson.JSONDecodeError):
        return DataError(f"invalid JSON value: {exc}")
    if isinstance(exc, UnicodeError):
        return DataError(f"invalid text: {exc}")
    if isinstance(exc, pa.ArrowInvalid):
        return DataError(f"invalid data: {exc}")
    return None


def status_for_exception(exc: BaseException, rpc: str) -> common_pb2.Status:
    """Map anything a handler raised. Elanus errors keep their code, decoding
    libraries' errors become ``library_error``'s; other exceptions are bugs, logged
    with their traceback and reported as internal."""
    if isinstance(exc, ElanusError):
        return error_status(exc)
    translated = library_error(exc)
    if translated is not None:
        return error_status(translated)
    log.exception("unexpected error in %s", rpc)
    return error_status(InternalError(f"internal error in {rpc}: {type(exc).__name__}: {exc}"))
