"""A server over a directory with a damaged segment: pymilvus sees the collection as
degraded, a Strong read refused with an error naming the segment, the rest answered."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import start_server
from pymilvus import MilvusClient, MilvusException

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from damage_matrix import build  # noqa: E402


def test_a_damaged_segment_is_reported_and_contained_over_grpc(tmp_path: Path) -> None:
    where = build(tmp_path)
    with open(where["A"] / "dense.vec.bin", "r+b") as fh:
        fh.seek(5)
        fh.write(b"\xff")
    server = start_server(tmp_path)
    try:
        client = MilvusClient(server.uri)
        status = client.describe_collection("c")["properties"]["storage.status"]
        assert status == f"degraded: segments unavailable: {where['A'].name}"
        with pytest.raises(MilvusException, match=f"unavailable segments.*{where['A'].name}"):
            client.query("c", filter="id >= 0", consistency_level="Strong")
        rows = client.query(
            "c", filter="id >= 0", output_fields=["id"], consistency_level="Bounded"
        )
        assert sorted(r["id"] for r in rows) == [*range(100, 150), *range(200, 210)]
        client.close()
    finally:
        server.stop()
    assert any("dense.vec.bin fails its checksum" in line for line in server.stderr)
