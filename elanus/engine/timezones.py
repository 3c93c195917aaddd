"""The ``timezone`` of a database, a collection or a read: how TIMESTAMPTZ values are
written out.

Values are stored as UTC instants. A read writes them in the zone its request names
(query ``timezone`` parameter, search param ``timezone``), else in its collection's
``timezone`` property, else in UTC, as Milvus's proxy resolves it. A collection
created without one takes its database's. The zone travels as the Arrow type of the
output column (``timestamp[us, tz=zone]``); ``elanus.schema.scalars.timestamptz_text``
writes each value with that zone's offset. Unknown zone names are refused.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from elanus.errors import ParameterError
from elanus.schema import CollectionSchema, DataType

__all__ = [
    "TIMEZONE_KEY",
    "check_timezone",
    "check_timezone_properties",
    "in_zone",
    "resolve_timezone",
]

TIMEZONE_KEY = "timezone"
UTC = "UTC"


def check_timezone(name: str) -> None:
    """Refuse a name that is not an IANA time zone, in Milvus's words."""
    try:
        zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ParameterError(f"unknown or invalid IANA Time Zone ID: {name}") from None


def check_timezone_properties(properties: Mapping[str, object] | None) -> None:
    if properties and TIMEZONE_KEY in properties:
        check_timezone(str(properties[TIMEZONE_KEY]))


def resolve_timezone(requested: str | None, properties: Mapping[str, str]) -> str:
    """The zone a read writes TIMESTAMPTZ values in."""
    if requested:
        check_timezone(requested)
        return requested
    return properties.get(TIMEZONE_KEY) or UTC


def in_zone(schema: CollectionSchema, columns: Mapping[str, Any], zone: str) -> dict[str, Any]:
    """``columns`` with every TIMESTAMPTZ column typed in ``zone`` (same instants)."""
    out = dict(columns)
    if zone == UTC:
        return out
    target = pa.timestamp("us", tz=zone)
    for name, column in columns.items():
        field = schema.get(name)
        if field is None or field.dtype != DataType.TIMESTAMPTZ:
            continue
        if isinstance(column, (pa.Array, pa.ChunkedArray)) and pa.types.is_timestamp(column.type):
            out[name] = column.cast(target)
    return out
