"""Database properties that limit what a database's collections may do.

- ``database.max.collections``: a collection created beyond it is refused (102).
- ``database.force.deny.writing``: inserts, upserts and deletes are refused.
- ``database.force.deny.reading``: searches and queries (get, iterators) are refused.
- ``database.replica.number``: the replica count of a load that names none; it must be
  an integer, checked when it is set.
- ``timezone``: the zone a collection created without one takes (engine/timezones.py).

Milvus enforces the two deny flags through its quota centre, a few seconds after the
property changes; here they hold from the next request. Values are read as Milvus
reads them (Go's ParseBool; a value it cannot read leaves the flag off).
"""

from __future__ import annotations

from collections.abc import Mapping

from elanus.engine.timezones import check_timezone_properties
from elanus.errors import ElanusError, ParameterError

__all__ = [
    "DENY_READING_KEY",
    "DENY_WRITING_KEY",
    "MAX_COLLECTIONS_KEY",
    "REPLICA_NUMBER_KEY",
    "QuotaExceeded",
    "check_collection_limit",
    "check_database_properties",
    "load_replica_number",
    "check_reading_allowed",
    "check_writing_allowed",
]

MAX_COLLECTIONS_KEY = "database.max.collections"
DENY_WRITING_KEY = "database.force.deny.writing"
DENY_READING_KEY = "database.force.deny.reading"
REPLICA_NUMBER_KEY = "database.replica.number"
# Milvus's default quotaAndLimits.limits.maxCollectionNumPerDB.
DEFAULT_MAX_COLLECTIONS = 65536
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}


class QuotaExceeded(ElanusError):
    """A request the database's settings deny (Milvus's ErrServiceQuotaExceeded)."""

    code = 9


def _denied(properties: Mapping[str, str], key: str) -> bool:
    return str(properties.get(key, "")) in _TRUE


def _refuse(what: str) -> QuotaExceeded:
    return QuotaExceeded(
        "quota exceeded[reason=access has been disabled by the administrator: "
        f"force deny {what} in database properties]"
    )


def check_writing_allowed(properties: Mapping[str, str]) -> None:
    if _denied(properties, DENY_WRITING_KEY):
        raise _refuse("writing")


def check_reading_allowed(properties: Mapping[str, str]) -> None:
    if _denied(properties, DENY_READING_KEY):
        raise _refuse("reading")


def check_collection_limit(database: str, properties: Mapping[str, str], count: int) -> None:
    """Refuse one more collection in a database that holds ``count`` already."""
    raw = properties.get(MAX_COLLECTIONS_KEY, "")
    if raw == "":
        limit = DEFAULT_MAX_COLLECTIONS
    else:
        try:
            limit = int(str(raw).strip())
        except ValueError:
            raise ParameterError(
                f"parse value of property fail, key:{MAX_COLLECTIONS_KEY}, value:{raw}"
            ) from None
    if count >= limit:
        raise ElanusError(
            f"exceeded the limit number of collections[dbName={database}][limit={limit}]",
            code=102,
        )


def _replica_number(raw: object) -> int | None:
    try:
        return int(str(raw).strip())
    except ValueError:
        return None


def check_database_properties(properties: Mapping[str, object] | None) -> None:
    """Refuse a database property value that could never take effect."""
    check_timezone_properties(properties)
    raw = (properties or {}).get(REPLICA_NUMBER_KEY)
    if raw is not None and _replica_number(raw) is None:
        raise ParameterError(
            f"invalid database property: [key={REPLICA_NUMBER_KEY}] [value={raw}]"
        )


def load_replica_number(requested: int | None, properties: Mapping[str, str]) -> int | None:
    """The replica count a load asks for: its own when positive, else its database's."""
    if requested is not None and requested > 0:
        return requested
    raw = properties.get(REPLICA_NUMBER_KEY)
    return requested if raw is None else _replica_number(raw)
