"""A writer process is SIGKILLed mid-write, again and again; every acknowledged record survives."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from elanus.storage.wal import WriteAheadLog, frame_record

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "elanus"

# The child skips ``elanus/__init__`` (which loads the client front door) to start fast.
WRITER = textwrap.dedent(
    """
    import hashlib, sys, types
    pkg = types.ModuleType("elanus")
    pkg.__path__ = [sys.argv[2]]
    sys.modules["elanus"] = pkg
    from elanus.storage.wal import WriteAheadLog

    def body(seq):
        size = 1000 + (seq * 7919) % 60_000
        block = hashlib.sha256(str(seq).encode()).digest()
        return (block * (size // 32 + 1))[:size]

    wal = WriteAheadLog(sys.argv[1], segment_bytes=1 << 20)
    seq = wal.last_seq
    print("ready", seq, flush=True)
    while True:
        count = 1 + seq % 3
        batch = [body(seq + i) for i in range(1, count + 1)]
        seq = wal.append(batch)
        print(seq, flush=True)
    """
)


def body(seq: int) -> bytes:
    size = 1000 + (seq * 7919) % 60_000
    block = hashlib.sha256(str(seq).encode()).digest()
    return (block * (size // 32 + 1))[:size]


def test_killed_writer_loses_no_acknowledged_record(tmp_path: Path) -> None:
    wal_dir = str(tmp_path / "wal")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rng = random.Random(7)
    acknowledged = 0
    floor = 0  # the lowest sequence number the log must still hold
    for _round in range(6):
        proc = subprocess.Popen(
            [sys.executable, str(script), wal_dir, str(PACKAGE_DIR)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        ready = proc.stdout.readline().split()
        assert ready[0] == "ready", ready
        # Whatever reopening kept must include everything acknowledged so far.
        assert int(ready[1]) >= acknowledged
        target = rng.randint(5, 40)
        for seen, line in enumerate(proc.stdout, start=1):
            acknowledged = max(acknowledged, int(line))
            if seen >= target:
                os.kill(proc.pid, signal.SIGKILL)
                break
        proc.wait()
        proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL
        if _round % 2:
            # Always leave what a kill inside write() would: part of the next,
            # unacknowledged frame.
            newest = max(p for p in Path(wal_dir).iterdir() if p.suffix == ".wal")
            with open(newest, "ab") as fh:
                fh.write(frame_record(10**9, body(1))[: rng.randint(1, 500)])

        with WriteAheadLog(wal_dir, segment_bytes=1 << 20) as wal:
            seqs = []
            for seq, payload in wal.replay():
                assert payload == body(seq), f"record {seq} is corrupt"
                seqs.append(seq)
            assert seqs[0] <= floor + 1
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
            assert seqs[-1] >= acknowledged
            if _round % 2:
                assert not wal.recovery.clean
            else:
                # A kill can also land inside write(): then only the unacknowledged
                # frame being written is torn off, never an acknowledged one.
                report = wal.recovery
                assert report.clean or ("torn" in report.reason and report.dropped_records <= 1), (
                    report
                )
            if _round == 3:
                # The engine drops covered log files; the log must go on from there.
                floor = acknowledged // 2
                wal.truncate_before(floor)
    with WriteAheadLog(wal_dir, segment_bytes=1 << 20) as wal:
        assert next(iter(wal.replay()))[0] <= floor + 1
        assert wal.last_seq >= acknowledged
