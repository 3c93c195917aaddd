"""What the engine keeps on disk: saved indexes, per-segment deletes, group commit."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import elanus.index.factory as index_factory
from elanus.engine.engine import Engine
from elanus.engine.requests import IndexSpec, SearchRequest
from elanus.errors import ParameterError
from elanus.storage import DataLayout, LocalFileSystem, read_segment_deletes

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import rows, simple_schema, visible  # noqa: E402

HNSW = IndexSpec("vec", "HNSW", "vec_idx", "L2", {"M": 8, "efConstruction": 32})


def _segment_dirs(e: Engine, name: str = "c") -> list[str]:
    store = e.stores[e._meta("default", name).collection_id]
    return [store.segment_path(s.segment_id) for s in store.manifest.segments]


def test_reopen_loads_saved_indexes_without_rebuilding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", simple_schema(), indexes=[HNSW])
        e.insert("default", "c", *rows(list(range(300)), 1))
        e.flush("default", "c")
        info = e.describe_index("default", "c", "vec_idx")
        assert info.indexed_rows == info.total_rows == 300
        (segment,) = _segment_dirs(e)
        index_dir = os.path.join(segment, "indexes", "vec_idx")
        stamps = {f: os.stat(os.path.join(index_dir, f)).st_mtime_ns for f in os.listdir(index_dir)}

    def no_build(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a saved index was rebuilt")

    monkeypatch.setattr(index_factory, "build_vector_index", no_build)
    with Engine.open(str(tmp_path)) as e:
        info = e.describe_index("default", "c", "vec_idx")
        assert (info.indexed_rows, info.pending_index_rows, info.state) == (300, 0, "Finished")
        view = e.collections[e._meta("default", "c").collection_id].snapshot.segments[0]
        assert view.data.vector_index("vec").index_type == "HNSW"
        req = SearchRequest(np.full((1, 4), 5.0, np.float32), "vec", limit=3)
        assert list(e.search("default", "c", req).ids)[0] == 5
    assert {
        f: os.stat(os.path.join(index_dir, f)).st_mtime_ns for f in os.listdir(index_dir)
    } == stamps


def _deletes_file(segment: str) -> str:
    """The segment's one delete-record file (each version is written under a new name)."""
    names = [n for n in os.listdir(segment) if n.startswith("deletes")]
    assert len(names) <= 1, names
    return names[0] if names else "deletes.arrow"


def test_deletes_live_beside_their_segment_and_go_with_compacted_rows(tmp_path: Path) -> None:
    opts = {"background": False, "compact_min_rows": 10}
    with Engine.open(str(tmp_path), **opts) as e:
        e.create_collection("default", "c", simple_schema())
        e.insert("default", "c", *rows(list(range(20)), 1))
        e.flush("default", "c")
        e.delete("default", "c", ids=[1, 2, 3, 999])
        e.flush("default", "c")
        (segment,) = _segment_dirs(e)
        found = read_segment_deletes(LocalFileSystem(), segment, name=_deletes_file(segment))
        assert found is not None
        assert sorted(np.asarray(found[0]).tolist()) == [1, 2, 3]  # 999 hid no row
    with Engine.open(str(tmp_path), **opts) as e:
        assert sorted(visible(e)) == [k for k in range(20) if k not in (1, 2, 3)]
        e.insert("default", "c", *rows([2], 7))  # a newer row with a deleted key
        e.compact("default", "c")
        e.flush("default", "c")
        dirs = _segment_dirs(e)
        assert segment not in dirs and not os.path.exists(segment)
        for path in dirs:
            assert read_segment_deletes(LocalFileSystem(), path, name=_deletes_file(path)) is None
    with Engine.open(str(tmp_path), **opts) as e:
        assert visible(e) == {**{k: 1 for k in range(20) if k not in (1, 2, 3)}, 2: 7}


def test_concurrent_writers_share_wal_appends_and_all_survive(tmp_path: Path) -> None:
    appends: list[int] = []
    with Engine.open(str(tmp_path)) as e:
        e.create_collection("default", "c", simple_schema())
        store = e.stores[e._meta("default", "c").collection_id]
        log = store.log

        def counting_log(writes: Any) -> int:
            appends.append(len(writes))
            return log(writes)

        store.log = counting_log  # type: ignore[method-assign]
        gate = threading.Barrier(8)

        def writer(t: int) -> None:
            gate.wait()
            for i in range(20):
                e.insert("default", "c", *rows([t * 100 + i], t))

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert sum(appends) == 160
    with Engine.open(str(tmp_path)) as e:
        assert visible(e) == {t * 100 + i: t for t in range(8) for i in range(20)}


def test_bad_write_in_a_group_fails_alone(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)) as e:
        e.create_collection("default", "c", simple_schema())
        data = e.collections[e._meta("default", "c").collection_id]

        def bad(ts: int) -> list[Any]:
            raise ParameterError("bad write")

        with pytest.raises(ParameterError, match="bad write"):
            data.write(bad)
        e.insert("default", "c", *rows([1], 1))
        assert visible(e) == {1: 1}


def test_search_params_are_checked_against_the_index_type(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", simple_schema(), indexes=[HNSW])
        e.insert("default", "c", *rows(list(range(50)), 1))
        e.flush("default", "c")
        query = np.ones((1, 4), np.float32)
        req = SearchRequest(query, "vec", limit=10, search_params={"params": {"ef": 5}})
        with pytest.raises(ParameterError, match=r"ef\(5\) should be larger than k\(10\)"):
            e.search("default", "c", req)
        req = SearchRequest(query, "vec", limit=10, search_params={"params": {"ef": 64}})
        e.search("default", "c", req)


def test_layout_is_storage_layout(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)) as e:
        e.create_collection("default", "c", simple_schema())
        e.insert("default", "c", *rows([1], 1))
        e.flush("default", "c")
        cid = e._meta("default", "c").collection_id
    layout = DataLayout(str(tmp_path))
    assert os.path.exists(layout.catalog_path)
    assert os.listdir(layout.manifest_dir(cid))
    assert os.listdir(layout.collection_wal_dir(cid))


def test_scalar_indexes_are_built_per_sealed_segment(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path), background=False) as e:
        e.create_collection("default", "c", simple_schema())
        e.insert("default", "c", *rows(list(range(10)), 3))
        e.flush("default", "c")
        e.create_index("default", "c", IndexSpec("tag", "STL_SORT", "tag_idx"))
        info = e.describe_index("default", "c", "tag_idx")
        assert (info.indexed_rows, info.state) == (10, "Finished")
        view = e.collections[e._meta("default", "c").collection_id].snapshot.segments[0]
        assert view.data.scalar_index("tag") is not None
        with pytest.raises(ParameterError):
            e.create_index("default", "c", IndexSpec("tag", "TRIE", "bad"))
