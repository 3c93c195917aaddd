"""Background jobs (compaction, index builds) queued for a collection that is dropped
before they run give up quietly and leave nothing of the dropped collection on disk."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import IndexSpec

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import rows, simple_schema, visible  # noqa: E402


def hold_worker(engine: Engine) -> threading.Event:
    """Keep the single background worker busy until the returned event is set, so
    jobs queued meanwhile run in a known order after it."""
    release = threading.Event()
    engine.worker.submit(release.wait)
    return release


def drain_worker(engine: Engine) -> None:
    engine.worker.submit(lambda: None).result()


def test_compaction_queued_for_a_dropped_collection_is_abandoned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with Engine.open(str(tmp_path)) as e:
        e.create_collection("default", "c", simple_schema())
        for b in range(3):
            e.insert("default", "c", *rows(list(range(b * 10, b * 10 + 10)), 1))
            e.flush("default", "c")
        collection_dirs = sorted(p.name for p in (tmp_path / "collections").iterdir())
        release = hold_worker(e)
        e.compact("default", "c")
        e.drop_collection("default", "c")
        release.set()
        drain_worker(e)
        problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert problems == []
        assert any("dropped" in r.getMessage() for r in caplog.records)
        # nothing of the dropped collection written back by the late job
        left = sorted(p.name for p in (tmp_path / "collections").iterdir())
        assert not set(collection_dirs) & set(left)
        e.create_collection("default", "c", simple_schema())
        e.insert("default", "c", *rows([1, 2], 2))
        assert visible(e) == {1: 2, 2: 2}


def test_compaction_whose_collection_is_dropped_before_it_commits_leaves_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The drop lands between the compaction writing its merged segment and
    committing it (the commit would find the manifest gone)."""
    caplog.set_level(logging.DEBUG)
    with Engine.open(str(tmp_path)) as e:
        e.create_collection("default", "c", simple_schema())
        for b in range(3):
            e.insert("default", "c", *rows(list(range(b * 10, b * 10 + 10)), 1))
            e.flush("default", "c")
        (data,) = e.collections.values()
        before = set(data.store._checksums)
        with data.write_lock:  # the compaction's commit waits here
            e.compact("default", "c")
            for _ in range(100_000):
                if set(data.store._checksums) - before:
                    break
                threading.Event().wait(0.01)
            assert set(data.store._checksums) - before, "the merged segment was never written"
            e.drop_collection("default", "c")
        drain_worker(e)
        problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert problems == []
        assert not (tmp_path / "collections" / str(data.collection_id)).exists()
        assert e.list_collections("default") == []


def test_index_build_whose_collection_is_dropped_meanwhile_leaves_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with Engine.open(str(tmp_path)) as e:
        e.create_collection("default", "c", simple_schema())
        e.insert("default", "c", *rows(list(range(30)), 1))
        e.flush("default", "c")
        (data,) = e.collections.values()
        with data.write_lock:  # a build that got as far as saving waits here
            e.create_index("default", "c", IndexSpec("vec", "FLAT", "vec_idx", "L2"))
            e.drop_collection("default", "c")
        drain_worker(e)
        problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert problems == []
        assert not (tmp_path / "collections" / str(data.collection_id)).exists()
