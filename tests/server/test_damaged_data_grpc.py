"""A server over a directory with a damaged segment: pymilvus sees the collection as
degraded, a Strong read refused with an error naming the segment, the rest answered."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from conftest import start_server
from pymilvus import MilvusClient, MilvusException

from elanus.engine.state import EngineOptions
from elanus.errors import ParameterError

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


def test_a_server_with_a_scrub_interval_finds_damage_while_it_runs(tmp_path: Path) -> None:
    where = build(tmp_path / "data")
    config = tmp_path / "elanus.yaml"
    config.write_text("elanus:\n  scrubInterval: 0.1\n")
    server = start_server(tmp_path / "data", extra_args=["--config", str(config)])
    try:
        client = MilvusClient(server.uri)
        assert "storage.status" not in client.describe_collection("c")["properties"]
        with open(where["B"] / "scalars.parquet", "r+b") as fh:
            fh.seek(20)
            fh.write(b"\x00\x01\x02")
        deadline = time.monotonic() + 60
        status = ""
        while not status and time.monotonic() < deadline:
            status = client.describe_collection("c")["properties"].get("storage.status", "")
            time.sleep(0.05)
        assert status.startswith(f"degraded: segments unavailable: {where['B'].name}")
        client.close()
    finally:
        server.stop()


def test_a_negative_scrub_interval_is_refused() -> None:
    with pytest.raises(ParameterError, match="scrub_interval"):
        EngineOptions(scrub_interval=-1)
