"""Every error Elanus raises, each carrying the Milvus error code a client expects.

The tree::

    ElanusError                      root; ``code`` is Milvus's error code
    ├── ParameterError               1100  bad argument, bad value, bad data
    │   ├── SchemaError              1100  invalid schema or field definition
    │   ├── DataError                1100  a row or column does not fit the schema
    │   └── ExpressionError          1100  a filter that does not parse or type-check
    ├── NotFoundError                      something named does not exist
    │   ├── DatabaseNotFound          800
    │   ├── CollectionNotFound        100
    │   ├── PartitionNotFound         200
    │   ├── IndexNotFound             700
    │   ├── AliasNotFound            1600
    │   └── FieldNotFound            1700
    ├── AlreadyExistsError           1100  a name is taken
    ├── CollectionNotLoaded           101
    ├── PartitionNotLoaded            201
    ├── NotSupportedError            1100  a feature or RPC Elanus does not have
    ├── AuthenticationError          1400  a wrong or missing credential
    ├── PermissionDenied             1401  the caller lacks the privilege
    ├── SecurityError               65535  a user, role, grant or group change refused
    ├── StorageError                    5  the data directory is unusable
    │   └── DataDirLockedError          5  another process holds the directory
    └── InternalError                   5  a bug: an invariant did not hold

Adapters map these to wire codes in one place (``elanus.server.errors``); the
embedded client raises them as they are.
"""

from __future__ import annotations

__all__ = [
    "AliasNotFound",
    "AlreadyExistsError",
    "AuthenticationError",
    "CollectionNotFound",
    "CollectionNotLoaded",
    "DataDirLockedError",
    "DataError",
    "DatabaseNotFound",
    "ElanusError",
    "ExpressionError",
    "FieldNotFound",
    "IndexNotFound",
    "InternalError",
    "NotFoundError",
    "NotSupportedError",
    "ParameterError",
    "PartitionNotFound",
    "PartitionNotLoaded",
    "PermissionDenied",
    "SchemaError",
    "SecurityError",
    "StorageError",
]


class ElanusError(Exception):
    """Root of every Elanus error. ``code`` is the Milvus error code of the kind."""

    code: int = 65535

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class ParameterError(ElanusError):
    code = 1100


class SchemaError(ParameterError):
    pass


class DataError(ParameterError):
    pass


class ExpressionError(ParameterError):
    """A filter expression that does not parse or does not type-check.

    ``expression`` is the source text and ``position`` the 0-based offset of the
    problem in it (or ``None`` when the problem is the expression as a whole).
    """

    def __init__(
        self,
        message: str,
        *,
        expression: str = "",
        position: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.expression = expression
        self.position = position
        self.hint = hint
        text = message
        if expression:
            text = f"{message}: {expression!r}"
            if position is not None:
                text += f" at position {position}"
        if hint:
            text += f" ({hint})"
        super().__init__(text)


class NotFoundError(ElanusError):
    pass


class DatabaseNotFound(NotFoundError):
    code = 800


class CollectionNotFound(NotFoundError):
    code = 100


class PartitionNotFound(NotFoundError):
    code = 200


class IndexNotFound(NotFoundError):
    code = 700


class AliasNotFound(NotFoundError):
    code = 1600


class FieldNotFound(NotFoundError):
    code = 1700


class AlreadyExistsError(ElanusError):
    code = 1100


class CollectionNotLoaded(ElanusError):
    code = 101


class PartitionNotLoaded(ElanusError):
    code = 201


class NotSupportedError(ElanusError):
    """A feature or RPC that Elanus does not have; never answered with a fake success."""

    code = 1100


class AuthenticationError(ElanusError):
    code = 1400


class PermissionDenied(ElanusError):
    code = 1401


class SecurityError(ElanusError):
    """Milvus answers refused user/role/grant changes with its unclassified code."""

    code = 65535


class StorageError(ElanusError):
    code = 5


class DataDirLockedError(StorageError):
    pass


class InternalError(ElanusError):
    code = 5
