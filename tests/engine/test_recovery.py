"""Reopening a data directory gives exactly the acknowledged data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from elanus.engine.engine import Engine
from elanus.errors import DataDirLockedError

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import rows, simple_schema, visible  # noqa: E402


def test_reopen_after_close_keeps_growing_sealed_and_deleted_state(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path), seal_rows=50) as e:
        e.create_collection("default", "c", simple_schema())
        e.insert("default", "c", *rows(list(range(40)), 1))
        e.insert("default", "c", *rows(list(range(30, 80)), 2))  # crosses the seal threshold
        e.delete("default", "c", ids=[0, 1, 79])
        e.insert("default", "c", *rows([5, 200], 3))
        expected = visible(e)
    with Engine.open(str(tmp_path)) as e:
        assert visible(e) == expected
        assert expected[5] == 3 and 0 not in expected and expected[35] == 2


def test_reopen_after_abandon_without_close_replays_wal(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import os
        from elanus.engine.engine import Engine
        from engine_helpers import rows, simple_schema
        e = Engine.open({str(tmp_path)!r})
        e.create_collection("default", "c", simple_schema())
        e.insert("default", "c", *rows([1, 2, 3], 7))
        e.flush("default", "c")
        e.insert("default", "c", *rows([3, 4], 8))
        e.delete("default", "c", ids=[1])
        os._exit(0)
        """
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2], env=_ENV
    )
    with Engine.open(str(tmp_path)) as e:
        assert visible(e) == {2: 7, 3: 8, 4: 8}


def test_second_open_of_a_data_dir_is_refused(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)), pytest.raises(DataDirLockedError, match=str(tmp_path)):
        Engine.open(str(tmp_path))


_ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}

_WRITER = """
import sys
from elanus.engine.engine import Engine
from engine_helpers import rows, simple_schema
e = Engine.open(sys.argv[1], seal_rows=300)
if not e.has_collection("default", "c"):
    e.create_collection("default", "c", simple_schema())
start = int(sys.argv[2])
for b in range(10_000):
    ids = list(range(start + b * 20, start + b * 20 + 20))
    e.insert("default", "c", *rows(ids, b))
    print(ids[0], flush=True)
"""


def test_killed_writer_keeps_every_acknowledged_row(tmp_path: Path) -> None:
    acknowledged: set[int] = set()
    root = Path(__file__).parents[2]
    for round_no in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), str(round_no * 10_000_000)],
            stdout=subprocess.PIPE,
            cwd=root,
            env=_ENV,
            text=True,
        )
        assert proc.stdout is not None
        deadline = time.monotonic() + 20
        seen = 0
        while time.monotonic() < deadline and seen < 15 + 10 * round_no:
            line = proc.stdout.readline()
            if not line:
                break
            acknowledged.update(range(int(line), int(line) + 20))
            seen += 1
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read()
        for line in rest.split():
            acknowledged.update(range(int(line), int(line) + 20))
        proc.wait()
        with Engine.open(str(tmp_path)) as e:
            got = set(visible(e))
        # each batch is all-or-nothing, and nothing acknowledged is lost
        assert acknowledged <= got
        assert len(got - acknowledged) <= 20
        acknowledged |= got
