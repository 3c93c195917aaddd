"""Values shared between requests follow every change: the schema through DDL, the
stamped snapshot through writes; flat one-query candidates equal the general form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from elanus.engine.engine import Engine
from elanus.engine.search_kernels import _from_matrix
from elanus.errors import CollectionNotFound
from elanus.schema import CollectionSchema, DataType, FieldSchema

SCHEMA = CollectionSchema(
    (
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": 2}),
    )
)


def _engine(tmp_path: Path) -> Engine:
    engine = Engine.open(str(tmp_path / "data"), sync=False)
    engine.create_collection("default", "c", SCHEMA)
    return engine


def test_collection_schema_follows_ddl(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    try:
        first = engine.collection_schema("default", "c")
        assert first is engine.collection_schema("default", "c")
        assert first == engine.describe_collection("default", "c").schema
        engine.add_collection_field(
            "default", "c", FieldSchema("extra", DataType.INT64, nullable=True)
        )
        added = engine.collection_schema("default", "c")
        assert added.get("extra") is not None and first.get("extra") is None
        engine.rename_collection("default", "c", "d")
        assert engine.collection_schema("default", "d") == added
        with pytest.raises(CollectionNotFound):
            engine.collection_schema("default", "c")
        engine.drop_collection("default", "d")
        with pytest.raises(CollectionNotFound):
            engine.collection_schema("default", "d")
    finally:
        engine.close()


def test_stamped_snapshot_is_shared_until_a_write(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    try:
        a = engine.read_snapshot("default", "c")
        assert engine.read_snapshot("default", "c") is a
        engine.insert("default", "c", {"id": [1, 2], "vec": np.ones((2, 2), np.float32)}, 2)
        b = engine.read_snapshot("default", "c")
        assert b is not a and b.live_count == 2 and a.live_count == 0
        assert b.timestamp > a.timestamp
    finally:
        engine.close()


def test_flat_single_query_candidates_equal_the_masked_form() -> None:
    rng = np.random.default_rng(5)
    for nq, k, holes in [(1, 10, False), (1, 10, True), (3, 4, False), (3, 4, True)]:
        ids = rng.integers(0, 100, (nq, k)).astype(np.int64)
        dist = rng.random((nq, k)).astype(np.float32)
        if holes:
            ids[:, -2:] = -1
        valid = ids >= 0
        expected = (np.nonzero(valid)[0], ids[valid], dist[valid])
        got = _from_matrix(dist, ids)
        for g, e in zip(got, expected):
            assert g.tolist() == e.tolist()
        assert got[0].dtype == np.int64 and got[1].dtype == np.int64
        assert got[2].dtype == np.float32
