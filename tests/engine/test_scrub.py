"""The scrub re-checks sealed files against their checksums while the engine runs:
damage that appears after open is found and contained, damaged indexes rebuilt."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import QueryRequest, SearchRequest
from elanus.errors import StorageError

sys.path.insert(0, str(Path(__file__).parent))
from test_damaged_files import OPTS, segment_dirs, two_segments  # noqa: E402


def flip_in_place(path: Path, offset: int) -> None:
    """Change one byte without truncating the file (it is memory-mapped meanwhile)."""
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x01]))


def ids(e: Engine, level: str) -> list[int]:
    req = QueryRequest(filter="id >= 0", output_fields=["id"], consistency_level=level)
    return sorted(np.asarray(e.query("default", "c", req).columns["id"]).tolist())


def test_scrub_takes_a_segment_damaged_after_open_out_of_service(tmp_path: Path) -> None:
    two_segments(tmp_path)
    seg_b = segment_dirs(tmp_path)[1]
    with Engine.open(str(tmp_path), **OPTS) as e:
        assert e.scrub() == []
        flip_in_place(seg_b / "scalars.parquet", 50)
        found = e.scrub()
        assert len(found) == 1 and seg_b.name in found[0] and "scalars.parquet" in found[0]
        assert e.storage_health("default", "c").unavailable_segments == (int(seg_b.name),)
        with pytest.raises(StorageError, match=seg_b.name):
            ids(e, "Strong")
        assert ids(e, "Eventually") == list(range(5, 50))
    with Engine.open(str(tmp_path), **OPTS) as e:  # and it stays out after a restart
        assert e.storage_health("default", "c").unavailable_segments == (int(seg_b.name),)


def test_scrub_builds_a_damaged_index_again(tmp_path: Path) -> None:
    two_segments(tmp_path)
    index_dir = segment_dirs(tmp_path)[0] / "indexes" / "vec_idx"
    biggest = max(index_dir.iterdir(), key=lambda p: p.stat().st_size)
    with Engine.open(str(tmp_path), **OPTS) as e:
        flip_in_place(biggest, biggest.stat().st_size // 2)
        found = e.scrub()
        assert len(found) == 1 and "vec_idx" in found[0]
        assert not e.storage_health("default", "c").degraded
        assert e.scrub() == []  # the rebuilt index is whole again
        hits = e.search(
            "default", "c", SearchRequest(np.full((1, 4), 20.0, np.float32), "vec", limit=1)
        )
        assert list(hits.ids) == [20]


def test_a_periodic_scrub_runs_when_an_interval_is_set(tmp_path: Path) -> None:
    two_segments(tmp_path)
    seg_a = segment_dirs(tmp_path)[0]
    with Engine.open(str(tmp_path), scrub_interval=0.05, **OPTS) as e:
        flip_in_place(seg_a / "dense.vec.bin", 8)
        deadline = time.monotonic() + 30
        while not e.storage_health("default", "c").degraded and time.monotonic() < deadline:
            time.sleep(0.02)
        assert e.storage_health("default", "c").unavailable_segments == (int(seg_a.name),)


def test_no_scrub_runs_unless_asked(tmp_path: Path) -> None:
    two_segments(tmp_path)
    with Engine.open(str(tmp_path), **OPTS) as e:
        assert e._scrubber is None
