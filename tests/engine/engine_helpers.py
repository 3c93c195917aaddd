"""Shared helpers for engine tests: a small schema and visibility read off snapshots."""

from __future__ import annotations

from typing import Any

import numpy as np

from elanus.engine.engine import Engine
from elanus.schema import CollectionSchema, DataType, FieldSchema

DIM = 4


def simple_schema() -> CollectionSchema:
    return CollectionSchema(
        fields=(
            FieldSchema("id", DataType.INT64, is_primary=True),
            FieldSchema("vec", DataType.FLOAT_VECTOR, params={"dim": DIM}),
            FieldSchema("tag", DataType.INT64),
        )
    )


def rows(ids: list[int], tag: int) -> tuple[dict[str, Any], int]:
    n = len(ids)
    vec = np.tile(np.asarray(ids, dtype=np.float32).reshape(-1, 1), (1, DIM))
    return {"id": ids, "vec": vec, "tag": [tag] * n}, n


def visible(engine: Engine, name: str = "c") -> dict[int, int]:
    """{primary key: tag} of every visible row, read from the published snapshot."""
    meta = engine._meta("default", name)
    snap = engine.collections[meta.collection_id].read(engine.oracle.now())
    out: dict[int, int] = {}
    for v in snap.segments:
        live = np.flatnonzero(~v.deleted[: v.num_rows])
        pks = np.asarray(v.data.primary_keys())[live]
        tags = v.data.column("tag").to_numpy(zero_copy_only=False)[live]
        vec = np.asarray(v.data.column("vec"))[live]
        assert np.all(vec[:, 0] == pks.astype(np.float32))
        for k, t in zip(pks.tolist(), tags.tolist()):
            assert k not in out, f"primary key {k} visible twice"
            out[k] = t
    return out
