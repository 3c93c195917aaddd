from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from storage_samples import assert_column_equal, sample_columns

from elanus.errors import StorageError
from elanus.storage.batch_codec import BatchKind, WalBatch, decode_batch, encode_batch


@pytest.mark.parametrize("n", [0, 1, 37])
def test_insert_batch_round_trips_every_type_bit_exactly(n: int) -> None:
    columns = sample_columns(n, seed=n)
    batch = WalBatch(
        kind=BatchKind.INSERT,
        collection_id=42,
        partition="_default",
        timestamp=(1_700_000_000_000 << 18) | 7,
        primary_keys=np.arange(n, dtype=np.int64) * 3,
        columns=columns,
        meta={"upsert": True},
    )
    got = decode_batch(encode_batch(batch))
    assert got.kind == BatchKind.INSERT
    assert (got.collection_id, got.partition, got.timestamp) == (42, "_default", batch.timestamp)
    assert dict(got.meta) == {"upsert": True}
    assert got.timestamps is None
    assert_column_equal("$pk", got.primary_keys, batch.primary_keys)
    assert set(got.columns) == set(columns)
    for name, want in columns.items():
        assert_column_equal(name, got.columns[name], want)


def test_delete_batch_with_string_keys_and_row_timestamps() -> None:
    pks = pa.array(["a", "b", "ü"], type=pa.string())
    ts = np.array([5, 6, 2**63 + 1], dtype=np.uint64)
    got = decode_batch(
        encode_batch(WalBatch(BatchKind.DELETE, 7, "p1", 9, primary_keys=pks, timestamps=ts))
    )
    assert got.kind == BatchKind.DELETE and got.partition == "p1"
    assert got.primary_keys is not None and got.primary_keys.equals(pks)
    assert got.timestamps is not None and got.timestamps.dtype == np.uint64
    assert np.array_equal(got.timestamps, ts)
    assert dict(got.columns) == {}


def test_metadata_only_batch() -> None:
    meta = {"op": "create_partition", "name": "p2", "ids": [1, 2]}
    got = decode_batch(encode_batch(WalBatch(BatchKind.META, 3, meta=meta)))
    assert got.kind == BatchKind.META and dict(got.meta) == meta
    assert got.primary_keys is None and dict(got.columns) == {}


def test_big_endian_vectors_are_stored_little_endian() -> None:
    vec = np.arange(6, dtype=">f4").reshape(3, 2)
    got = decode_batch(
        encode_batch(WalBatch(BatchKind.INSERT, 1, columns={"v": vec}, primary_keys=np.arange(3)))
    )
    assert got.columns["v"].dtype == np.dtype("<f4")
    assert np.array_equal(got.columns["v"], vec)


def test_sliced_columns_round_trip() -> None:
    columns = sample_columns(20, seed=3)
    sliced = {
        name: (col.slice(5, 10) if isinstance(col, pa.Array) else col[5:15])
        for name, col in columns.items()
    }
    got = decode_batch(encode_batch(WalBatch(BatchKind.INSERT, 1, columns=sliced)))
    for name, want in sliced.items():
        if isinstance(want, pa.Array):
            assert got.columns[name].equals(want), name
        else:
            assert_column_equal(name, got.columns[name], want)


def test_mismatched_lengths_and_garbage_are_storage_errors() -> None:
    with pytest.raises(StorageError, match="differ in length"):
        encode_batch(
            WalBatch(BatchKind.INSERT, 1, primary_keys=np.arange(3), columns={"a": pa.array([1])})
        )
    with pytest.raises(StorageError, match="cannot decode"):
        decode_batch(b"not arrow at all")
