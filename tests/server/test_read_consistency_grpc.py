"""Consistency level and guarantee timestamp of reads over gRPC."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from elanus.errors import ParameterError
from elanus.server.convert_search import consistency_from_proto


def test_unknown_wire_consistency_level_is_a_parameter_error() -> None:
    request = SimpleNamespace(
        use_default_consistency=False, consistency_level=9, guarantee_timestamp=0
    )
    with pytest.raises(ParameterError, match="invalid consistency level: 9") as info:
        consistency_from_proto(request)
    assert info.value.code == 1100


def test_future_guarantee_timestamp_is_waited_for(client: Any) -> None:
    from pymilvus import MilvusException

    client.create_collection("gts", dimension=2, consistency_level="Strong")
    client.insert("gts", [{"id": i, "vector": [i, 1]} for i in range(5)])
    ahead_ms = 400
    guarantee = (int(time.time() * 1000) + ahead_ms) << 18
    started = time.monotonic()
    rows = client.query(
        "gts",
        filter="id >= 0",
        output_fields=["id"],
        consistency_level="Customized",
        guarantee_timestamp=guarantee,
    )
    assert time.monotonic() - started >= (ahead_ms - 50) / 1000
    assert sorted(r["id"] for r in rows) == list(range(5))
    far = (int(time.time() * 1000) + 120_000) << 18
    with pytest.raises(MilvusException, match=f"guarantee timestamp {far}"):
        client.query(
            "gts",
            filter="id >= 0",
            consistency_level="Customized",
            guarantee_timestamp=far,
        )
    client.drop_collection("gts")
