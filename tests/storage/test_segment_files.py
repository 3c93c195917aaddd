from __future__ import annotations

import os
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pytest
from storage_samples import assert_column_equal, sample_columns, sample_schema

from elanus.errors import FieldNotFound, StorageError
from elanus.schema import DataType, FieldSchema
from elanus.storage.fs import LocalFileSystem
from elanus.storage.segment_files import (
    read_segment,
    read_segment_deletes,
    remove_temp_dirs,
    segment_index_dir,
    write_segment,
    write_segment_deletes,
)


@pytest.fixture
def fs() -> LocalFileSystem:
    return LocalFileSystem()


@pytest.mark.parametrize("n", [0, 1, 50])
@pytest.mark.parametrize("eager", [False, True])
def test_segment_round_trips_every_type(fs: LocalFileSystem, tmp_path, n: int, eager: bool) -> None:
    schema = sample_schema()
    columns = sample_columns(n, seed=n + 1)
    pks = np.arange(n, dtype=np.int64) * 7 - 3
    ts = np.arange(n, dtype=np.uint64) + (1 << 60)
    path = str(tmp_path / "segments" / "5")
    meta = write_segment(fs, path, schema, columns, pks, ts)
    assert meta.num_rows == n
    if n:
        assert (meta.min_timestamp, meta.max_timestamp) == (int(ts[0]), int(ts[-1]))

    seg = read_segment(fs, path, schema, eager=eager)
    assert seg.num_rows == n and seg.meta == meta
    assert_column_equal("$pk", seg.primary_keys(), pks)
    assert_column_equal("$ts", seg.row_timestamps(), ts)
    for name, want in columns.items():
        assert_column_equal(name, seg.column(name), want)


def test_dense_vectors_are_memory_mapped_and_read_only(fs: LocalFileSystem, tmp_path) -> None:
    schema = sample_schema()
    path = str(tmp_path / "seg")
    write_segment(fs, path, schema, sample_columns(10), np.arange(10), np.ones(10, np.uint64))
    vec = read_segment(fs, path, schema).column("fv")
    assert not vec.flags.writeable
    assert not vec.flags.owndata  # a view over the mapped file, not a copy
    with open(os.path.join(path, "dense.fv.bin"), "rb") as fh:
        assert fh.read() == vec.astype("<f4").tobytes()


def test_string_primary_keys(fs: LocalFileSystem, tmp_path) -> None:
    schema = sample_schema(DataType.VARCHAR)
    pks = pa.array([f"k{i}" for i in range(6)])
    path = str(tmp_path / "seg")
    meta = write_segment(fs, path, schema, sample_columns(6), pks, np.zeros(6, np.uint64))
    assert meta.pk_type == "string"
    got = read_segment(fs, path, schema).primary_keys()
    assert isinstance(got, pa.Array) and got.equals(pks)


def test_field_added_after_the_segment_reads_as_nulls(fs: LocalFileSystem, tmp_path) -> None:
    schema = sample_schema()
    path = str(tmp_path / "seg")
    write_segment(fs, path, schema, sample_columns(4), np.arange(4), np.zeros(4, np.uint64))
    newer = schema.with_field(FieldSchema("late", DataType.INT32, nullable=True))
    seg = read_segment(fs, path, newer)
    late = seg.column("late")
    assert late.type == pa.int32() and late.null_count == 4
    with pytest.raises(FieldNotFound):
        seg.column("nope")


def test_missing_scalar_column_is_stored_as_nulls(fs: LocalFileSystem, tmp_path) -> None:
    columns = sample_columns(3)
    del columns["name"]
    schema = sample_schema()
    path = str(tmp_path / "seg")
    write_segment(fs, path, schema, columns, np.arange(3), np.zeros(3, np.uint64))
    assert read_segment(fs, path, schema).column("name").null_count == 3


def test_segments_are_immutable_and_bad_input_leaves_nothing(fs: LocalFileSystem, tmp_path) -> None:
    schema = sample_schema()
    path = str(tmp_path / "segments" / "1")
    write_segment(fs, path, schema, sample_columns(2), np.arange(2), np.zeros(2, np.uint64))
    with pytest.raises(StorageError, match="immutable"):
        write_segment(fs, path, schema, sample_columns(2), np.arange(2), np.zeros(2, np.uint64))

    bad = sample_columns(3)
    bad["fv"] = bad["fv"][:, :4]
    other = str(tmp_path / "segments" / "2")
    with pytest.raises(StorageError, match="shape"):
        write_segment(fs, other, schema, bad, np.arange(3), np.zeros(3, np.uint64))
    assert sorted(os.listdir(tmp_path / "segments")) == ["1"]


def test_stale_temp_dirs_are_removed(fs: LocalFileSystem, tmp_path) -> None:
    (tmp_path / "7.tmp-abc").mkdir()
    (tmp_path / "7.tmp-abc" / "scalars.parquet").write_bytes(b"half")
    (tmp_path / "8").mkdir()
    assert remove_temp_dirs(fs, str(tmp_path)) == ["7.tmp-abc"]
    assert sorted(os.listdir(tmp_path)) == ["8"]


def test_truncated_vector_file_is_reported(fs: LocalFileSystem, tmp_path) -> None:
    schema = sample_schema()
    path = str(tmp_path / "seg")
    write_segment(fs, path, schema, sample_columns(5), np.arange(5), np.zeros(5, np.uint64))
    with open(os.path.join(path, "dense.fv.bin"), "r+b") as fh:
        fh.truncate(10)
    with pytest.raises(StorageError, match="expected 160"):
        read_segment(fs, path, schema).column("fv")


def test_delete_records_are_replaced_whole(fs: LocalFileSystem, tmp_path) -> None:
    path = str(tmp_path / "seg")
    os.makedirs(path)
    assert read_segment_deletes(fs, path) is None
    write_segment_deletes(fs, path, np.array([3, 1]), np.array([10, 11], np.uint64))
    write_segment_deletes(fs, path, np.array([3, 1, 9]), np.array([10, 11, 12], np.uint64))
    got = read_segment_deletes(fs, path)
    assert got is not None
    assert np.array_equal(got[0], [3, 1, 9]) and got[1].dtype == np.uint64
    assert np.array_equal(got[1], [10, 11, 12])
    write_segment_deletes(fs, path, pa.array(["x"]), np.array([1], np.uint64))
    keys = read_segment_deletes(fs, path)
    assert keys is not None and keys[0].equals(pa.array(["x"]))
    assert [n for n in os.listdir(path) if n.endswith(".tmp")] == []


def test_index_dir_is_beside_the_segment() -> None:
    assert segment_index_dir("/d/segments/3", "vec_idx") == "/d/segments/3/indexes/vec_idx"


def test_schema_without_dynamic_field(fs: LocalFileSystem, tmp_path) -> None:
    schema = replace(sample_schema(), enable_dynamic_field=False)
    columns = sample_columns(3)
    path = str(tmp_path / "seg")
    meta = write_segment(fs, path, schema, columns, np.arange(3), np.zeros(3, np.uint64))
    assert "$meta" not in meta.scalar_fields
