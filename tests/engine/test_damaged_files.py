"""Damage to one file is contained: it is found (checksums), named, reported, and
never answered around silently; indexes are rebuilt; nothing is deleted."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import IndexSpec, QueryRequest, SearchRequest
from elanus.errors import StorageError

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import rows, simple_schema, visible  # noqa: E402

OPTS = {"background": False}
HNSW = IndexSpec("vec", "HNSW", "vec_idx", "L2", {"M": 8, "efConstruction": 32})


def two_segments(root: Path) -> None:
    """Segment A holds keys 0..49 (with keys 0..4 deleted), segment B keys 100..149."""
    with Engine.open(str(root), **OPTS) as e:
        e.create_collection("default", "c", simple_schema(), indexes=[HNSW])
        e.insert("default", "c", *rows(list(range(50)), 1))
        e.flush("default", "c")
        e.delete("default", "c", ids=[0, 1, 2, 3, 4])
        e.insert("default", "c", *rows(list(range(100, 150)), 2))
        e.flush("default", "c")
        e.create_collection("default", "other", simple_schema())
        e.insert("default", "other", *rows([7], 1))
        e.flush("default", "other")


def segment_dirs(root: Path) -> list[Path]:
    """Segment directories of collection "c" (the first created), oldest first."""
    (first, *_) = sorted((root / "collections").iterdir())
    return sorted((first / "segments").iterdir())


def flip(path: Path, offset: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


def strong(e: Engine) -> list[int]:
    req = QueryRequest(filter="id >= 0", output_fields=["id"], consistency_level="Strong")
    return sorted(np.asarray(e.query("default", "c", req).columns["id"]).tolist())


def bounded(e: Engine) -> list[int]:
    req = QueryRequest(filter="id >= 0", output_fields=["id"], consistency_level="Bounded")
    return sorted(np.asarray(e.query("default", "c", req).columns["id"]).tolist())


def test_a_flipped_byte_in_a_vector_block_is_an_error_not_a_wrong_vector(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    two_segments(tmp_path)
    seg_a = segment_dirs(tmp_path)[0]
    flip(seg_a / "dense.vec.bin", 17)
    with caplog.at_level(logging.ERROR), Engine.open(str(tmp_path), **OPTS) as e:
        health = e.storage_health("default", "c")
        assert health.unavailable_segments == (int(seg_a.name),)
        with pytest.raises(StorageError, match=f"{seg_a.name}.*dense.vec.bin"):
            strong(e)
        # Other levels answer from the rest; no row of the damaged segment comes back.
        assert bounded(e) == list(range(100, 150))
        hits = e.search(
            "default",
            "c",
            SearchRequest(np.full((1, 4), 20.0, np.float32), "vec", limit=3),
        )
        assert all(i >= 100 for i in hits.ids)
        assert visible(e, "other") == {7: 1}
    assert any("dense.vec.bin" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("name", ["scalars.parquet", "segment.json", "dense.vec.bin"])
@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_a_damaged_segment_file_makes_only_that_segment_unavailable(
    tmp_path: Path, name: str, damage: str
) -> None:
    two_segments(tmp_path)
    seg_b = segment_dirs(tmp_path)[1]
    path = seg_b / name
    if damage == "flip":
        flip(path, len(path.read_bytes()) // 2)
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:10])
    else:
        path.unlink()
    with Engine.open(str(tmp_path), **OPTS) as e:
        assert e.storage_health("default", "c").unavailable_segments == (int(seg_b.name),)
        assert (
            "segments unavailable"
            in e.describe_collection("default", "c").properties["storage.status"]
        )
        with pytest.raises(StorageError, match=seg_b.name):
            strong(e)
        assert bounded(e) == list(range(5, 50))
    assert seg_b.exists()  # nothing is deleted


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_a_damaged_delete_file_makes_its_segment_unavailable_not_the_directory(
    tmp_path: Path, damage: str
) -> None:
    two_segments(tmp_path)
    seg_a = segment_dirs(tmp_path)[0]
    (path,) = seg_a.glob("deletes*.arrow")
    if damage == "flip":
        flip(path, 30)
    elif damage == "truncate":
        path.write_bytes(b"")
    else:
        path.unlink()
    with Engine.open(str(tmp_path), **OPTS) as e:
        assert e.storage_health("default", "c").unavailable_segments == (int(seg_a.name),)
        # deleted keys never come back from a segment whose deletes are unknown
        assert bounded(e) == list(range(100, 150))


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_a_damaged_index_is_rebuilt_from_its_segment(tmp_path: Path, damage: str) -> None:
    two_segments(tmp_path)
    seg_a = segment_dirs(tmp_path)[0]
    index_dir = seg_a / "indexes" / "vec_idx"
    biggest = max(index_dir.iterdir(), key=lambda p: p.stat().st_size)
    if damage == "flip":
        flip(biggest, biggest.stat().st_size // 2)
    elif damage == "truncate":
        biggest.write_bytes(biggest.read_bytes()[:7])
    else:
        shutil.rmtree(index_dir)
    with Engine.open(str(tmp_path), **OPTS) as e:
        assert not e.storage_health("default", "c").degraded
        info = e.describe_index("default", "c", "vec_idx")
        assert (info.indexed_rows, info.pending_index_rows) == (100, 0)
        hits = e.search(
            "default", "c", SearchRequest(np.full((1, 4), 20.0, np.float32), "vec", limit=1)
        )
        assert list(hits.ids) == [20]
    # the rebuilt index is whole: a later open loads it as it is
    with Engine.open(str(tmp_path), **OPTS) as e:
        assert e.describe_index("default", "c", "vec_idx").pending_index_rows == 0


def test_missing_manifests_move_segments_to_lost_found_not_delete_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    two_segments(tmp_path)
    segments = segment_dirs(tmp_path)
    shutil.rmtree(segments[0].parent.parent / "manifest")
    with caplog.at_level(logging.ERROR), Engine.open(str(tmp_path), **OPTS) as e:
        health = e.storage_health("default", "c")
        assert health.degraded
        assert any("manifest" in p for p in health.problems)
        assert visible(e, "other") == {7: 1}
    lost = list((tmp_path / "lost+found").rglob("segments/*"))
    assert sorted(p.name for p in lost if p.parent.name == "segments") == sorted(
        s.name for s in segments
    )
    for path in lost:
        if path.parent.name == "segments":
            assert (path / "scalars.parquet").exists()
    assert any(
        r.levelno == logging.ERROR and "lost+found" in r.getMessage() for r in caplog.records
    )


def test_a_damaged_newest_manifest_falls_back_and_keeps_unnamed_segments(tmp_path: Path) -> None:
    two_segments(tmp_path)
    seg_b = segment_dirs(tmp_path)[1]
    manifest_dir = seg_b.parent.parent / "manifest"
    newest = sorted(manifest_dir.iterdir())[-1]
    flip(newest, 40)
    with Engine.open(str(tmp_path), **OPTS) as e:
        assert e.storage_health("default", "c").degraded
    assert not seg_b.exists() or seg_b in segment_dirs(tmp_path)
    found = [p for p in (tmp_path / "lost+found").rglob("*") if p.name == newest.name]
    assert found, "the damaged manifest version is kept in lost+found"


def test_a_deleted_catalog_refuses_to_open_rather_than_show_an_empty_database(
    tmp_path: Path,
) -> None:
    two_segments(tmp_path)
    (tmp_path / "catalog.json").unlink()
    with pytest.raises(StorageError, match="catalog.json is missing"):
        Engine.open(str(tmp_path), **OPTS)
    assert len(list((tmp_path / "collections").iterdir())) == 2
    assert not (tmp_path / "catalog.json").exists()


def test_a_damaged_catalog_names_the_file(tmp_path: Path) -> None:
    two_segments(tmp_path)
    flip(tmp_path / "catalog.json", 60)
    with pytest.raises(StorageError, match="catalog.json"):
        Engine.open(str(tmp_path), **OPTS)


def test_a_missing_vector_file_in_a_segment_without_checksums_is_a_storage_error(
    tmp_path: Path,
) -> None:
    two_segments(tmp_path)
    seg_b = segment_dirs(tmp_path)[1]
    _forget_checksums(seg_b.parent.parent / "manifest")
    os.remove(seg_b / "dense.vec.bin")
    with Engine.open(str(tmp_path), **OPTS) as e:
        health = e.storage_health("default", "c")
        assert health.unavailable_segments == (int(seg_b.name),)
        with pytest.raises(StorageError, match="dense.vec.bin is missing"):
            strong(e)


def test_a_directory_written_before_checksums_opens_unverified(tmp_path: Path) -> None:
    two_segments(tmp_path)
    seg_b = segment_dirs(tmp_path)[1]
    _forget_checksums(seg_b.parent.parent / "manifest")
    with Engine.open(str(tmp_path), **OPTS) as e:
        assert not e.storage_health("default", "c").degraded
        assert strong(e) == [*range(5, 50), *range(100, 150)]


def _forget_checksums(manifest_dir: Path) -> None:
    """Rewrite the newest manifest as one written before checksums were kept."""
    import json
    import zlib

    newest = sorted(manifest_dir.iterdir())[-1]
    doc = json.loads(newest.read_text())
    body = json.loads(doc["manifest"])
    for seg in body["segments"]:
        seg.pop("checksums", None)
        seg.pop("deletes_file", None)
        seg_dir = manifest_dir.parent / seg["path"]
        for name in os.listdir(seg_dir):
            if name.startswith("deletes"):
                os.replace(seg_dir / name, seg_dir / "deletes.arrow")
    text = json.dumps(body, sort_keys=True)
    newest.write_text(json.dumps({"crc32": zlib.crc32(text.encode()), "manifest": text}))


def test_a_delete_by_filter_is_refused_while_a_segment_is_unavailable(tmp_path: Path) -> None:
    two_segments(tmp_path)
    seg_b = segment_dirs(tmp_path)[1]
    flip(seg_b / "dense.vec.bin", 9)
    with Engine.open(str(tmp_path), **OPTS) as e:
        with pytest.raises(StorageError, match=seg_b.name):
            e.delete("default", "c", filter="id >= 120")
        assert e.delete("default", "c", ids=[10]).count == 1  # by key: logged as asked
        assert bounded(e) == [k for k in range(5, 50) if k != 10]


def test_an_unnamed_segment_is_kept_when_the_log_is_damaged_too(tmp_path: Path) -> None:
    two_segments(tmp_path)
    seg_b = segment_dirs(tmp_path)[1]
    # as a crash between writing a segment and committing the manifest leaves it
    orphan = seg_b.with_name(str(int(seg_b.name) + 1000))
    shutil.copytree(seg_b, orphan)
    for wal in seg_b.parent.parent.glob("wal/*.wal"):
        wal.write_bytes(b"")
    with Engine.open(str(tmp_path), **OPTS) as e:
        assert e.storage_health("default", "c").degraded
    assert not orphan.exists()
    assert [p for p in (tmp_path / "lost+found").rglob(orphan.name) if p.is_dir()]


def test_an_unnamed_segment_is_removed_when_manifest_and_log_agree(tmp_path: Path) -> None:
    two_segments(tmp_path)
    seg_b = segment_dirs(tmp_path)[1]
    orphan = seg_b.with_name(str(int(seg_b.name) + 1000))
    shutil.copytree(seg_b, orphan)
    with Engine.open(str(tmp_path), **OPTS) as e:
        assert not e.storage_health("default", "c").degraded
    assert not orphan.exists() and not (tmp_path / "lost+found").exists()


def test_an_index_replaced_by_an_interrupted_build_is_rebuilt_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_wal_sequence_recovery import crash

    two_segments(tmp_path)
    e = Engine.open(str(tmp_path), **OPTS)
    e.release_collection("default", "c")
    e.drop_index("default", "c", "vec_idx")
    store = e.stores[e._meta("default", "c").collection_id]

    def killed(*args: object) -> None:
        raise KeyboardInterrupt  # the process dies after saving, before committing

    monkeypatch.setattr(store, "record_index", killed)
    other = IndexSpec("vec", "HNSW", "vec_idx", "L2", {"M": 4, "efConstruction": 8})
    with pytest.raises(KeyboardInterrupt):
        e.create_index("default", "c", other)
    crash(e)
    monkeypatch.undo()
    with caplog.at_level(logging.WARNING), Engine.open(str(tmp_path), **OPTS) as e:
        assert not e.storage_health("default", "c").degraded
        assert e.describe_index("default", "c", "vec_idx").pending_index_rows == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_temp_files_of_interrupted_commits_are_removed_on_open(tmp_path: Path) -> None:
    two_segments(tmp_path)
    manifest_dir = segment_dirs(tmp_path)[0].parent.parent / "manifest"
    temps = [
        manifest_dir / f".{'9' * 20}.json.{'ab' * 16}.tmp",
        tmp_path / f".catalog.json.{'cd' * 16}.tmp",
    ]
    for path in temps:
        path.write_bytes(b"{half")
    index_tmp = segment_dirs(tmp_path)[0] / "indexes" / f"vec_idx.tmp-{'ef' * 16}"
    index_tmp.mkdir()
    (index_tmp / "index.faiss").write_bytes(b"half")
    temps.append(index_tmp)
    with Engine.open(str(tmp_path), **OPTS) as e:
        assert not e.storage_health("default", "c").degraded
    assert not any(p.exists() for p in temps)


def test_dropping_an_index_withdraws_its_checksums_before_deleting_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from test_wal_sequence_recovery import crash

    two_segments(tmp_path)
    e = Engine.open(str(tmp_path), **OPTS)
    e.release_collection("default", "c")
    store = e.stores[e._meta("default", "c").collection_id]

    def killed(path: str) -> None:
        # the process dies half way through removing the files
        (Path(path) / "index.faiss").unlink()
        raise KeyboardInterrupt

    monkeypatch.setattr(store.fs, "delete_dir", killed)
    with pytest.raises(KeyboardInterrupt):
        e.drop_index("default", "c", "vec_idx")
    monkeypatch.undo()
    crash(e)
    on_disk = store.manifests.load()
    assert on_disk is not None
    assert not [k for s in on_disk.segments for k in s.checksums if k.startswith("indexes/")]
    with Engine.open(str(tmp_path), **OPTS) as e:
        e.create_index("default", "c", HNSW)
        assert e.describe_index("default", "c", "vec_idx").pending_index_rows == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
