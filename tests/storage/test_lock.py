from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from elanus.errors import DataDirLockedError
from elanus.storage.lock import DataDirLock

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "elanus"

HOLDER = textwrap.dedent(
    """
    import sys, types
    pkg = types.ModuleType("elanus")
    pkg.__path__ = [sys.argv[2]]
    sys.modules["elanus"] = pkg  # skip the front-door imports of elanus/__init__
    from elanus.storage.lock import DataDirLock
    lock = DataDirLock(sys.argv[1])
    lock.acquire()
    print("locked", flush=True)
    sys.stdin.read()
    """
)


def test_second_process_gets_a_clear_error_naming_dir_and_holder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(data), str(PACKAGE_DIR), "--serve-marker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(DataDirLockedError) as info:
            DataDirLock(str(data)).acquire()
        message = str(info.value)
        assert str(data) in message
        assert f"process {proc.pid}" in message
        assert "--serve-marker" in message
        assert info.value.code == 5
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]
    # The holder is gone: the lock is free again, with no stale state to clean.
    with DataDirLock(str(data)) as lock:
        assert lock.held


def test_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    data = tmp_path / "data"
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(data), str(PACKAGE_DIR)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    proc.kill()
    proc.wait()
    proc.stdout.close()
    proc.stdin.close()  # type: ignore[union-attr]
    with DataDirLock(str(data)) as lock:
        assert lock.held
        info = (data / "LOCK.info").read_text()
        assert str(os.getpid()) in info


def test_two_opens_in_one_process_conflict(tmp_path: Path) -> None:
    first = DataDirLock(str(tmp_path))
    first.acquire()
    try:
        with pytest.raises(DataDirLockedError, match=str(os.getpid())):
            DataDirLock(str(tmp_path)).acquire()
    finally:
        first.release()
    assert not first.held
    with DataDirLock(str(tmp_path)):
        pass
