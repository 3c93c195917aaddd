"""TIMESTAMPTZ values come back in Milvus's text form from the embedded client, the
same strings pymilvus receives from ``elanus serve``."""

from __future__ import annotations

from pathlib import Path

from elanus import DataType, MilvusClient


def test_timestamptz_output_is_milvus_text(tmp_path: Path) -> None:
    client = MilvusClient(str(tmp_path / "ts.db"))
    schema = client.create_schema()
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=2)
    schema.add_field("ts", DataType.TIMESTAMPTZ, nullable=True)
    index = client.prepare_index_params()
    index.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection("c", schema=schema, index_params=index)
    client.insert(
        "c",
        [
            {"id": 1, "vec": [0.0, 0.0], "ts": "2025-01-01T00:00:00Z"},
            {"id": 2, "vec": [1.0, 0.0], "ts": "2025-01-01T02:00:00.5+02:00"},
            {"id": 3, "vec": [2.0, 0.0], "ts": "2025-06-30T23:59:59.123456Z"},
            {"id": 4, "vec": [3.0, 0.0], "ts": None},
        ],
    )
    rows = client.query("c", filter="id > 0", output_fields=["ts"])
    got = {row["id"]: row["ts"] for row in rows}
    assert got == {
        1: "2025-01-01T00:00:00Z",
        2: "2025-01-01T00:00:00.5Z",
        3: "2025-06-30T23:59:59.123456Z",
        4: None,
    }
    hits = client.search("c", [[0.0, 0.0]], limit=1, output_fields=["ts"])
    assert hits[0][0]["entity"]["ts"] == "2025-01-01T00:00:00Z"
    client.close()
