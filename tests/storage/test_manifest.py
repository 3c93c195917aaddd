from __future__ import annotations

import os
from dataclasses import replace

import pytest

from elanus.errors import StorageError
from elanus.storage.fs import LocalFileSystem
from elanus.storage.manifest import Manifest, ManifestStore, SegmentEntry


def entry(segment_id: int, rows: int = 10) -> SegmentEntry:
    return SegmentEntry(
        segment_id=segment_id,
        partition="_default",
        num_rows=rows,
        path=f"segments/{segment_id}",
        min_timestamp=segment_id,
        max_timestamp=segment_id + 5,
        wal_seq=segment_id * 10,
        extra={"index": {"vec": "Finished"}},
    )


def test_nothing_committed_loads_none(tmp_path) -> None:
    assert ManifestStore(LocalFileSystem(), str(tmp_path / "m")).load() is None


def test_commit_and_load_round_trip_with_versions(tmp_path) -> None:
    store = ManifestStore(LocalFileSystem(), str(tmp_path / "m"))
    first = store.commit(Manifest(segments=(entry(1),), wal_seq=10, next_segment_id=2))
    assert first.version == 1
    second = store.commit(
        replace(first.replace_segments(add=[entry(2, rows=5)]), wal_seq=20, next_segment_id=3)
    )
    assert second.version == 2
    loaded = store.load()
    assert loaded == second and loaded.num_rows == 15
    assert loaded.segment(2) == entry(2, rows=5) and loaded.segment(9) is None
    swapped = loaded.replace_segments(remove=[1, 2], add=[entry(3, rows=15)])
    assert [s.segment_id for s in swapped.segments] == [3]


def test_a_stale_commit_is_refused(tmp_path) -> None:
    store = ManifestStore(LocalFileSystem(), str(tmp_path / "m"))
    base = store.commit(Manifest())
    store.commit(base)
    with pytest.raises(StorageError, match="reload"):
        store.commit(base)
    with pytest.raises(StorageError, match="reload"):
        store.commit(Manifest())


def test_old_versions_are_pruned(tmp_path) -> None:
    store = ManifestStore(LocalFileSystem(), str(tmp_path / "m"), keep=2)
    current = Manifest()
    for _ in range(5):
        current = store.commit(current)
    assert sorted(os.listdir(tmp_path / "m")) == [f"{4:020d}.json", f"{5:020d}.json"]


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_damaged_newest_version_falls_back_and_can_be_committed_over(tmp_path, damage) -> None:
    d = tmp_path / "m"
    store = ManifestStore(LocalFileSystem(), str(d))
    good = store.commit(Manifest(segments=(entry(1),), wal_seq=7))
    store.commit(good.replace_segments(add=[entry(2)]))
    newest = d / f"{2:020d}.json"
    data = bytearray(newest.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[data.index(b"num_rows") + 15] ^= 0x01
    else:
        data = bytearray()
    newest.write_bytes(bytes(data))
    loaded = store.load()
    assert loaded == good
    after = store.commit(loaded)
    assert after.version == 3 and store.load() == after


def test_a_crash_before_the_rename_leaves_the_old_version(tmp_path, monkeypatch) -> None:
    d = tmp_path / "m"
    store = ManifestStore(LocalFileSystem(), str(d))
    good = store.commit(Manifest(segments=(entry(1),)))

    def crash(src: str, dst: str) -> None:
        raise OSError("simulated crash")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StorageError, match="simulated crash"):
        store.commit(good.replace_segments(add=[entry(2)]))
    monkeypatch.undo()
    assert store.load() == good
    assert [n for n in os.listdir(d) if n.endswith(".tmp")] == []
    # A temp file left by a real crash (no cleanup ran) is ignored too.
    (d / f".{3:020d}.json.abc.tmp").write_bytes(b"{half")
    assert store.load() == good


def test_all_versions_damaged_is_an_error(tmp_path) -> None:
    d = tmp_path / "m"
    store = ManifestStore(LocalFileSystem(), str(d))
    store.commit(Manifest())
    (d / f"{1:020d}.json").write_bytes(b"garbage")
    with pytest.raises(StorageError, match="no readable manifest"):
        store.load()
