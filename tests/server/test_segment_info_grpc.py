"""Segment-info RPCs over gRPC: GetPersistentSegmentInfo and GetQuerySegmentInfo.

After two flushes a collection holds two sealed segments; both RPCs (through
MilvusClient, and the ORM's ``utility.get_query_segment_info``) list them with
their row counts, and once each segment's index is built, its name.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient, connections, utility
from pymilvus.client.types import SegmentState

DIM = 8
FIRST, SECOND = 120, 80


@pytest.fixture(scope="module")
def flushed(server: Any) -> Iterator[MilvusClient]:
    client = MilvusClient(uri=server.uri)
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    index = client.prepare_index_params()
    index.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection("segs", schema=schema, index_params=index)
    rng = np.random.default_rng(0)
    start = 0
    for count in (FIRST, SECOND):
        vectors = rng.random((count, DIM), dtype=np.float32)
        client.insert("segs", [{"id": start + j, "vec": v} for j, v in enumerate(vectors)])
        client.flush("segs")
        start += count
    deadline = time.monotonic() + 20
    while client.describe_index("segs", "vec")["indexed_rows"] < FIRST + SECOND:
        assert time.monotonic() < deadline, "the segments' index builds did not finish"
        time.sleep(0.05)
    yield client
    client.close()


def test_persistent_segments_list_each_flushed_segment(flushed: MilvusClient) -> None:
    infos = flushed.list_persistent_segments("segs")
    assert sorted(info.num_rows for info in infos) == sorted([FIRST, SECOND])
    assert len({info.segment_id for info in infos}) == len(infos)
    collection_id = flushed.describe_collection("segs")["collection_id"]
    assert {info.collection_id for info in infos} == {collection_id}
    assert all(info.state == SegmentState.Flushed for info in infos)


def test_loaded_segments_match_the_persistent_ones(flushed: MilvusClient) -> None:
    infos = flushed.list_loaded_segments("segs")
    persistent = {info.segment_id for info in flushed.list_persistent_segments("segs")}
    assert {info.segment_id for info in infos} == persistent
    assert sum(info.num_rows for info in infos) == FIRST + SECOND
    assert all(info.state == SegmentState.Flushed for info in infos)
    assert [info.index_name for info in infos] == ["vec"] * len(infos)


def test_orm_query_segment_info_reports_the_same_segments(
    flushed: MilvusClient, server: Any
) -> None:
    connections.connect("segs", uri=server.uri)
    try:
        query = utility.get_query_segment_info("segs", using="segs")
    finally:
        connections.disconnect("segs")
    assert sorted(info.num_rows for info in query) == sorted([FIRST, SECOND])
    persistent = flushed.list_persistent_segments("segs")
    assert {info.segmentID for info in query} == {info.segment_id for info in persistent}
    assert {info.index_name for info in query} == {"vec"}
