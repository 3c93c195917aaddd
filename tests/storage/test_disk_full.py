"""A full disk during writes, flush, compaction, index builds and catalog changes.

The data directory lives on a real 4 MiB tmpfs, filled to the last page by a
filler file. Each operation must fail with a ``StorageError`` that names the path
and says "no space left on device"; nothing acknowledged is lost, reads keep
working, and once the filler is gone the same engine writes again. Mounting
needs root (as CI runs); elsewhere these tests skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from small_disk import (
    DIM,
    Filler,
    assert_refused,
    contents,
    expect,
    make_collection,
    open_client,
    rows,
    searchable,
    small_tmpfs,
    temp_leftovers,
    wait_compaction,
)

import elanus
from elanus.errors import StorageError

NO_SPACE = "no space left on device"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "small", "4m") as mnt:
        yield mnt


def test_write_on_a_full_disk_fails_clearly_and_resumes(disk: Path) -> None:
    data, filler = disk / "data", Filler(disk)
    client = open_client(data)
    make_collection(client)
    first = rows(0, 200)
    client.insert("docs", first)
    filler.fill()
    with pytest.raises(StorageError) as err:
        client.insert("docs", rows(1000, 300))
    assert_refused(err.value, NO_SPACE, str(data / "collections"))
    with pytest.raises(StorageError):
        client.upsert("docs", rows(0, 300, version=1))
    assert contents(client) == expect(first)  # nothing of the failed writes shows
    assert searchable(client)
    filler.free()
    second = rows(1000, 300)
    client.insert("docs", second)
    assert contents(client) == expect(first, second)
    client.close()
    client = open_client(data)
    assert contents(client) == expect(first, second)
    client.close()


def test_close_on_a_full_disk_keeps_the_log_and_releases_the_directory(disk: Path) -> None:
    data, filler = disk / "data", Filler(disk)
    client = open_client(data)
    make_collection(client)
    first = rows(0, 400)
    client.insert("docs", first)
    filler.fill()
    client.close()  # its flush cannot write; the rows stay in the log
    filler.free()
    client = open_client(data)
    assert contents(client) == expect(first)
    client.close()


def test_flush_on_a_full_disk_fails_clearly_and_resumes(disk: Path) -> None:
    data, filler = disk / "data", Filler(disk)
    client = open_client(data)
    make_collection(client)
    first = rows(0, 400)
    client.insert("docs", first)
    client.delete("docs", ids=[1, 2, 3])
    filler.fill()
    for _ in range(2):  # the second try meets the same state, not a wedged one
        with pytest.raises(StorageError) as err:
            client.flush("docs")
        assert_refused(err.value, NO_SPACE, str(data / "collections"))
    expected = {k: v for k, v in expect(first).items() if k not in (1, 2, 3)}
    assert contents(client) == expected
    assert searchable(client)
    filler.free()
    client.flush("docs")
    second = rows(500, 100)
    client.insert("docs", second)
    expected.update(expect(second))
    assert contents(client) == expected
    client.close()
    assert temp_leftovers(data) == []
    client = open_client(data)
    assert contents(client) == expected
    client.close()


def test_compaction_on_a_full_disk_fails_and_runs_once_space_is_back(
    disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data, filler = disk / "data", Filler(disk)
    client = open_client(data)
    make_collection(client)
    expected: dict[int, str] = {}
    for start in (0, 300, 600):
        batch = rows(start, 300)
        client.insert("docs", batch)
        client.flush("docs")
        expected.update(expect(batch))
    client.delete("docs", ids=list(range(0, 900, 7)))
    client.flush("docs")
    expected = {k: v for k, v in expected.items() if k % 7}
    filler.fill()
    wait_compaction(client, client.compact("docs"))
    failed = [r.getMessage() for r in caplog.records if r.name == "elanus.engine.data_ops"]
    assert failed and "no space left on device" in failed[0], failed
    assert contents(client) == expected
    assert searchable(client)
    filler.free()
    caplog.clear()
    wait_compaction(client, client.compact("docs"))
    assert not [r for r in caplog.records if r.name == "elanus.engine.data_ops"]
    assert contents(client) == expected
    client.insert("docs", rows(2000, 10))
    expected.update(expect(rows(2000, 10)))
    client.close()
    client = open_client(data)
    assert contents(client) == expected
    client.close()


def test_index_build_on_a_full_disk_serves_searches_and_saves_later(
    disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data, filler = disk / "data", Filler(disk)
    client = open_client(data)
    make_collection(client)
    first = rows(0, 1500)
    client.insert("docs", first)
    client.flush("docs")
    client.release_collection("docs")
    client.drop_index("docs", "vec")
    # Room for the catalogue's change, not for the index files.
    filler.fill(leave=64 << 10)
    params = client.prepare_index_params()
    params.add_index("vec", index_type="HNSW", metric_type="L2", params={"M": 16})
    client.create_index("docs", params)  # returns: the build is kept in memory
    unsaved = [r.getMessage() for r in caplog.records if "in memory only" in r.getMessage()]
    assert unsaved and "no space left on device" in unsaved[0].lower(), unsaved
    assert str(data) in unsaved[0]
    client.load_collection("docs")
    assert searchable(client)
    assert contents(client) == expect(first)
    filler.free()
    client.close()
    assert temp_leftovers(data) == []
    client = open_client(data)
    assert client.describe_index("docs", "vec")["index_type"] == "HNSW"
    assert searchable(client)
    assert contents(client) == expect(first)
    client.close()


def test_catalog_change_on_a_full_disk_changes_nothing(disk: Path) -> None:
    data, filler = disk / "data", Filler(disk)
    client = open_client(data)
    make_collection(client)
    client.insert("docs", rows(0, 10))
    client.release_collection("docs")
    client.drop_index("docs", "vec")
    filler.fill()
    params = client.prepare_index_params()
    params.add_index("vec", index_type="HNSW", metric_type="L2")
    with pytest.raises(StorageError) as err:
        client.create_index("docs", params)
    assert_refused(err.value, NO_SPACE, str(data))
    assert client.list_indexes("docs") == []  # refused whole, not half-applied
    with pytest.raises(StorageError) as err:
        make_other = client.create_schema(auto_id=False)
        make_other.add_field("id", elanus.DataType.INT64, is_primary=True)
        make_other.add_field("vec", elanus.DataType.FLOAT_VECTOR, dim=DIM)
        client.create_collection("other", schema=make_other)
    assert_refused(err.value, NO_SPACE, str(data))
    assert client.list_collections() == ["docs"]
    filler.free()
    client.create_index("docs", params)
    assert client.list_indexes("docs") == ["vec"]
    client.close()
    client = open_client(data)
    assert client.list_collections() == ["docs"]
    assert client.list_indexes("docs") == ["vec"]
    client.close()
