"""A damaged, emptied or deleted write-ahead log never makes later acknowledged writes
disappear, and the loss it did cause is reported, not papered over."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from elanus.engine.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import rows, simple_schema, visible  # noqa: E402


def crash(engine: Engine) -> None:
    """Leave the engine as a killed process would: nothing flushed, the lock let go."""
    engine._closed = True
    engine.worker.shutdown(wait=True)
    for store in engine.stores.values():
        store.wal.close()
    engine._dir_lock.release()


def wal_files(root: Path) -> list[Path]:
    return sorted(root.glob("collections/*/wal/*.wal"))


def empty_wal(root: Path) -> None:
    for path in wal_files(root):
        path.write_bytes(b"")


def delete_wal(root: Path) -> None:
    for path in wal_files(root):
        path.unlink()


def flip_early_byte(root: Path) -> None:
    path = wal_files(root)[0]
    data = bytearray(path.read_bytes())
    data[40] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGES: dict[str, Callable[[Path], None]] = {
    "emptied": empty_wal,
    "deleted": delete_wal,
    "early byte flipped": flip_early_byte,
}


def _sealed_then_unsealed(root: Path) -> None:
    e = Engine.open(str(root))
    e.create_collection("default", "c", simple_schema())
    for b in range(10):
        e.insert("default", "c", *rows(list(range(b * 10, b * 10 + 10)), 1))
    e.flush("default", "c")
    for b in range(10, 20):
        e.insert("default", "c", *rows(list(range(b * 10, b * 10 + 10)), 2))
    crash(e)


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_writes_after_a_damaged_wal_survive_the_next_crash(tmp_path: Path, damage: str) -> None:
    _sealed_then_unsealed(tmp_path)
    DAMAGES[damage](tmp_path)
    e = Engine.open(str(tmp_path))
    assert set(range(100)) <= set(visible(e))
    acknowledged = set()
    for b in range(100, 200):
        ids = list(range(b * 10, b * 10 + 10))
        e.insert("default", "c", *rows(ids, 3))
        acknowledged.update(ids)
    crash(e)
    with Engine.open(str(tmp_path)) as e:
        got = visible(e)
    assert acknowledged <= set(got)
    assert set(range(100)) <= set(got)


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_wal_behind_the_manifest_is_reported_as_loss(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    _sealed_then_unsealed(tmp_path)
    DAMAGES[damage](tmp_path)
    with caplog.at_level(logging.ERROR), Engine.open(str(tmp_path)) as e:
        health = e.storage_health("default", "c")
        assert health.degraded
        assert any("write-ahead log" in p for p in health.problems)
        status = e.describe_collection("default", "c").properties["storage.status"]
        assert status.startswith("degraded")
    assert any(
        r.levelno == logging.ERROR and "write-ahead log" in r.getMessage() for r in caplog.records
    )
    # Still reported after another restart: only a repair acknowledges the loss.
    with Engine.open(str(tmp_path)) as e:
        assert e.storage_health("default", "c").degraded


def test_a_wal_gap_after_the_manifest_is_reported(tmp_path: Path) -> None:
    e = Engine.open(str(tmp_path), seal_rows=1_000_000)
    e.create_collection("default", "c", simple_schema())
    e.insert("default", "c", *rows([1, 2], 1))
    e.flush("default", "c")
    e.insert("default", "c", *rows([3], 1))
    crash(e)
    # A log that starts after the manifest's checkpoint has lost the records between.
    wal = wal_files(tmp_path)[-1]
    seq = int(wal.name.split(".")[0])
    wal.rename(wal.with_name(f"{seq + 5:020d}.wal"))
    with Engine.open(str(tmp_path)) as e:
        health = e.storage_health("default", "c")
    assert health.degraded and any("lost" in p for p in health.problems)


def test_a_clean_restart_is_not_degraded(tmp_path: Path) -> None:
    _sealed_then_unsealed(tmp_path)
    with Engine.open(str(tmp_path)) as e:
        assert not e.storage_health("default", "c").degraded
        assert "storage.status" not in e.describe_collection("default", "c").properties
        assert len(visible(e)) == 200


@pytest.mark.parametrize("damage", ["emptied", "deleted"])
def test_losing_the_wal_of_a_never_sealed_collection_is_reported(
    tmp_path: Path, damage: str
) -> None:
    e = Engine.open(str(tmp_path))
    e.create_collection("default", "c", simple_schema())
    e.insert("default", "c", *rows([1, 2, 3], 1))
    crash(e)
    DAMAGES[damage](tmp_path)
    with Engine.open(str(tmp_path)) as e:
        health = e.storage_health("default", "c")
    assert health.degraded
    assert any("unsealed writes are lost" in p for p in health.problems)
