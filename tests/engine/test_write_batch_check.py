"""A write is checked against the schema before it is logged; replay survives a bad record."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from elanus.engine.batch_check import check_delete_keys, check_insert_columns
from elanus.engine.collection import InsertBatch
from elanus.engine.engine import Engine
from elanus.errors import DataError, InternalError

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import DIM, rows, simple_schema, visible  # noqa: E402


def _good(n: int = 2) -> dict[str, Any]:
    return {
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "vec": np.zeros((n, DIM), dtype=np.float32),
        "tag": pa.array(np.zeros(n, dtype=np.int64)),
    }


def test_a_normalised_batch_passes() -> None:
    check_insert_columns(simple_schema(), _good(), np.arange(2, dtype=np.int64), 2)


@pytest.mark.parametrize(
    ("field", "column"),
    [
        ("id", np.arange(2, dtype=np.int64)),  # a key column that is numpy, not Arrow
        ("tag", pa.array([1, 2], pa.int32())),  # the wrong Arrow type
        ("tag", pa.array([1], pa.int64())),  # too few rows
        ("vec", np.zeros((2, DIM + 1), dtype=np.float32)),  # the wrong width
        ("vec", np.zeros((2, DIM), dtype=np.float64)),  # the wrong dtype
        ("vec", np.zeros(2 * DIM, dtype=np.float32)),  # flat
        ("nosuch", pa.array([1, 2])),  # not in the schema
    ],
)
def test_a_column_the_segment_cannot_take_is_an_internal_error_naming_it(
    field: str, column: Any
) -> None:
    cols = {**_good(), field: column}
    with pytest.raises(InternalError, match=field):
        check_insert_columns(simple_schema(), cols, np.arange(2, dtype=np.int64), 2)


def test_primary_keys_and_delete_keys_must_be_int64_arrays() -> None:
    with pytest.raises(InternalError, match="id"):
        check_insert_columns(simple_schema(), _good(), pa.array([0, 1]), 2)
    with pytest.raises(InternalError, match="id"):
        check_delete_keys(simple_schema(), np.array(["a"]))
    check_delete_keys(simple_schema(), np.array([1, 2], dtype=np.int64))


def test_a_write_that_fails_the_check_is_not_logged(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)) as e:
        e.create_collection("default", "c", simple_schema())
        e.insert("default", "c", *rows([1, 2], 1))
        data = e.collections[e._meta("default", "c").collection_id]
        seq = data.store.wal.last_seq
        bad = InsertBatch(0, "_default", {**_good(), "tag": pa.array([1, 2], pa.int8())}, None, 2)
        with pytest.raises(InternalError, match="tag"):
            data.write(lambda ts: [bad])
        assert data.store.wal.last_seq == seq
        e.insert("default", "c", *rows([3], 2))
        expected = visible(e)
    with Engine.open(str(tmp_path)) as e:
        assert visible(e) == expected == {1: 1, 2: 1, 3: 2}


def _abandon(e: Engine) -> None:
    """Let go of the directory as a crash would: nothing flushed, the WAL left to replay."""
    e._closed = True
    e.worker.shutdown(wait=True)
    for store in e.stores.values():
        store.close()
    e._dir_lock.release()


def test_replay_skips_a_logged_write_that_cannot_apply(tmp_path: Path) -> None:
    e = Engine.open(str(tmp_path))
    e.create_collection("default", "c", simple_schema())
    e.insert("default", "c", *rows([1, 2], 1))
    data = e.collections[e._meta("default", "c").collection_id]
    # What a bug in the write path once logged: a key column held as numpy.
    cols = {**_good(), "id": np.array([7, 8], dtype=np.int64)}
    data.store.log([[InsertBatch(e.oracle.now(), "_default", cols, cols["id"], 2)]])
    e.insert("default", "c", *rows([3], 2))
    _abandon(e)
    with Engine.open(str(tmp_path)) as e:
        assert visible(e) == {1: 1, 2: 1, 3: 2}
        data = e.collections[e._meta("default", "c").collection_id]
        assert len(data.skipped_on_replay) == 1
        assert "id" in data.skipped_on_replay[0].reason
        e.insert("default", "c", *rows([4], 3))  # the collection still takes writes
        assert visible(e)[4] == 3


def test_delete_with_ids_that_do_not_fit_the_key_is_a_data_error(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)) as e:
        e.create_collection("default", "c", simple_schema())
        e.insert("default", "c", *rows([1], 1))
        for ids in ([2**70], ["a"], [1.5], [None]):
            with pytest.raises(DataError, match="primary key field id"):
                e.delete("default", "c", ids=ids)
        assert visible(e) == {1: 1}
