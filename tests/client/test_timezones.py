"""The ``timezone`` setting: TIMESTAMPTZ values written in the zone a read asks for,
else its collection's, else UTC; a collection takes its database's zone."""

from __future__ import annotations

from pathlib import Path

import pytest

from elanus.client import MilvusClient
from elanus.errors import ParameterError
from elanus.schema import DataType

INSTANTS = ["2025-01-01T00:00:00Z", "2025-06-30T23:30:00.5Z"]


def _client(tmp_path: Path, properties: dict[str, str] | None = None) -> MilvusClient:
    client = MilvusClient(str(tmp_path / "tz.db"))
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    schema.add_field("at", DataType.TIMESTAMPTZ, nullable=True)
    index = client.prepare_index_params()
    index.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection("c", schema=schema, index_params=index, properties=properties)
    rows = [{"id": i, "vec": [1.0, float(i)], "at": t} for i, t in enumerate(INSTANTS)]
    client.insert("c", [*rows, {"id": 2, "vec": [1.0, 2.0], "at": None}])
    return client


def _at(rows: list[dict[str, object]]) -> list[object]:
    return [r["at"] for r in sorted(rows, key=lambda r: int(r["id"]))]  # type: ignore[call-overload]


def test_utc_by_default_and_the_zone_a_read_names(tmp_path: Path) -> None:
    client = _client(tmp_path)
    assert _at(client.query("c", filter="id >= 0", output_fields=["at"])) == [*INSTANTS, None]
    shanghai = client.query("c", filter="id >= 0", output_fields=["at"], timezone="Asia/Shanghai")
    assert _at(shanghai) == ["2025-01-01T08:00:00+08:00", "2025-07-01T07:30:00.5+08:00", None]
    hits = client.search(
        "c", [[1.0, 0.0]], limit=3, output_fields=["at"], timezone="America/New_York"
    )[0]
    assert _at([{"id": h["id"], "at": h["entity"]["at"]} for h in hits]) == [
        "2024-12-31T19:00:00-05:00",
        "2025-06-30T19:30:00.5-04:00",
        None,
    ]
    with pytest.raises(ParameterError, match="unknown or invalid IANA Time Zone ID: Mars/Base"):
        client.query("c", filter="id >= 0", output_fields=["at"], timezone="Mars/Base")
    client.close()


def test_a_collection_zone_and_a_database_zone(tmp_path: Path) -> None:
    client = _client(tmp_path, {"timezone": "Asia/Kolkata"})
    assert _at(client.query("c", filter="id == 0", output_fields=["at"])) == [
        "2025-01-01T05:30:00+05:30"
    ]
    utc = client.query("c", filter="id == 0", output_fields=["at"], timezone="UTC")
    assert _at(utc) == ["2025-01-01T00:00:00Z"]
    with pytest.raises(ParameterError, match="unknown or invalid IANA Time Zone ID: nowhere"):
        client.alter_collection_properties("c", {"timezone": "nowhere"})
    client.create_database("zoned", properties={"timezone": "Asia/Tokyo"})
    with pytest.raises(ParameterError, match="unknown or invalid IANA Time Zone ID"):
        client.alter_database_properties("zoned", {"timezone": "+8"})
    client.using_database("zoned")
    client.create_collection("d", dimension=2)
    assert client.describe_collection("d")["properties"]["timezone"] == "Asia/Tokyo"
    client.close()
