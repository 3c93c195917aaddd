"""Writes the filesystem refuses: a read-only mount, an immutable directory or file.

Root passes permission bits, so the refusals are made the ways that bind root
too: a read-only bind mount (EROFS) and the immutable flag (EPERM). The failed
operation raises a ``StorageError`` naming the path and the reason; nothing
acknowledged is lost, reads go on, and writes resume once the refusal is lifted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from small_disk import (
    assert_refused,
    bind_read_only,
    contents,
    expect,
    make_collection,
    open_client,
    rows,
    searchable,
    set_immutable,
    small_tmpfs,
    unmount,
    wait_compaction,
)

from elanus.errors import StorageError

READ_ONLY = "read-only file system"
NOT_PERMITTED = "operation not permitted"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "small", "16m") as mnt:
        yield mnt


def collection_dir(data: Path) -> Path:
    return next((data / "collections").iterdir())


def test_flush_into_an_immutable_manifest_directory(disk: Path) -> None:
    data = disk / "data"
    client = open_client(data)
    make_collection(client)
    client.insert("docs", rows(0, 100, version=1))
    client.flush("docs")  # the manifest directory exists from the first commit on
    first = rows(0, 300)
    client.insert("docs", first)
    manifest_dir = collection_dir(data) / "manifest"
    set_immutable(manifest_dir, True)
    try:
        with pytest.raises(StorageError) as err:
            client.flush("docs")
        assert_refused(err.value, NOT_PERMITTED, str(manifest_dir))
        assert contents(client) == expect(first)
        second = rows(300, 50)
        client.insert("docs", second)  # the log is elsewhere: writes go on
    finally:
        set_immutable(manifest_dir, False)
    client.flush("docs")
    assert contents(client) == expect(first, second)
    client.close()
    client = open_client(data)
    assert contents(client) == expect(first, second)
    client.close()


def test_flush_compaction_and_index_build_on_a_read_only_segment_directory(
    disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = disk / "data"
    client = open_client(data)
    make_collection(client)
    expected = {}
    for start in (0, 200):
        batch = rows(start, 200)
        client.insert("docs", batch)
        client.flush("docs")
        expected.update(expect(batch))
    client.delete("docs", ids=[0, 1, 2])
    for key in (0, 1, 2):
        del expected[key]
    late = rows(1000, 100)
    client.insert("docs", late)
    expected.update(expect(late))
    segments = collection_dir(data) / "segments"
    bind_read_only(segments)
    try:
        with pytest.raises(StorageError) as err:
            client.flush("docs")
        assert_refused(err.value, READ_ONLY, str(collection_dir(data)))
        wait_compaction(client, client.compact("docs"))
        failed = [r.getMessage() for r in caplog.records if r.name == "elanus.engine.data_ops"]
        assert failed and READ_ONLY in failed[0], failed
        client.release_collection("docs")
        client.drop_index("docs", "vec")  # its files cannot go either: the drop still holds
        params = client.prepare_index_params()
        params.add_index("vec", index_type="HNSW", metric_type="L2")
        client.create_index("docs", params)
        client.load_collection("docs")
        kept = [r.getMessage() for r in caplog.records if "in memory only" in r.getMessage()]
        assert kept and READ_ONLY in kept[0].lower(), kept
        assert contents(client) == expected
        assert searchable(client)
    finally:
        unmount(segments)
    client.flush("docs")
    wait_compaction(client, client.compact("docs"))
    assert contents(client) == expected
    client.close()
    client = open_client(data)
    assert contents(client) == expected
    assert client.describe_index("docs", "vec")["index_type"] == "HNSW"
    assert searchable(client)
    client.close()


def test_open_with_an_immutable_log_file_names_it(disk: Path) -> None:
    data = disk / "data"
    client = open_client(data)
    make_collection(client)
    first = rows(0, 100)
    client.insert("docs", first)
    client.close()
    log_file = next((collection_dir(data) / "wal").glob("*.wal"))
    set_immutable(log_file, True)
    try:
        with pytest.raises(StorageError) as err:
            open_client(data)
        assert_refused(err.value, NOT_PERMITTED, str(collection_dir(data) / "wal"))
    finally:
        set_immutable(log_file, False)
    client = open_client(data)
    assert contents(client) == expect(first)
    client.close()


def test_a_cleanup_refused_after_a_commit_keeps_the_commit(
    disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = disk / "data"
    client = open_client(data)
    make_collection(client)
    expected = {}
    for start in (0, 100, 200):
        batch = rows(start, 100)
        client.insert("docs", batch)
        client.flush("docs")
        expected.update(expect(batch))
    manifest_dir = collection_dir(data) / "manifest"
    oldest = sorted(manifest_dir.glob("*.json"))[0]
    set_immutable(oldest, True)  # the commit's removal of the oldest version fails
    try:
        last = rows(300, 100)
        client.insert("docs", last)
        client.flush("docs")
        expected.update(expect(last))
        assert any("cannot remove old manifest" in r.getMessage() for r in caplog.records)
        assert contents(client) == expected
        client.close()
        client = open_client(data)
        assert contents(client) == expected
        client.close()
    finally:
        set_immutable(oldest, False)
