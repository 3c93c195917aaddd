"""The crash loop, short: writers SIGKILLed mid-call lose no acknowledged row.

``scripts/crash_loop.py`` is the long version (docs/reliability.md, "Crash loops").
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "crash_loop.py"


def _run(tmp_path: Path, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quiet", "--data-dir", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]
    summary = re.search(r"(\d+) acknowledged calls, (\d+) acknowledged rows checked", proc.stdout)
    assert summary is not None, proc.stdout
    assert int(summary.group(1)) > 0 and int(summary.group(2)) > 0, proc.stdout
    return proc.stdout


def test_embedded_writer_killed_repeatedly_keeps_every_acknowledged_row(tmp_path: Path) -> None:
    out = _run(tmp_path, "--cycles", "12", "--seed", "11")
    assert "12 kills (embedded, seed 11)" in out
    assert " 0 problems" in out


def test_server_killed_repeatedly_keeps_every_acknowledged_row(tmp_path: Path) -> None:
    out = _run(tmp_path, "--cycles", "2", "--seed", "5", "--mode", "server")
    assert "2 kills (server, seed 5)" in out
    assert " 0 problems" in out


def test_reopen_removes_what_cut_short_atomic_writes_left(tmp_path: Path) -> None:
    import elanus

    data = tmp_path / "data"
    client = elanus.MilvusClient(str(data))
    client.create_collection("c", dimension=4)
    client.insert("c", [{"id": i, "vector": [float(i)] * 4} for i in range(10)])
    client.delete("c", ids=[1])
    client.flush("c")
    client.close()
    collection = next((data / "collections").iterdir())
    segment = next((collection / "segments").iterdir())
    junk = [
        data / f".catalog.json.{'a' * 32}.tmp",
        collection / "manifest" / f".{7:020d}.json.{'b' * 32}.tmp",
        segment / f".deletes-000009.arrow.{'c' * 32}.tmp",
    ]
    for path in junk:
        path.write_bytes(b"half")
    half_index = segment / "indexes" / f"vector.tmp-{'d' * 32}"
    half_index.mkdir(parents=True)
    (half_index / "index.faiss").write_bytes(b"half")
    junk.append(half_index)
    keep = data / ".not-ours.tmp"
    keep.write_bytes(b"x")
    client = elanus.MilvusClient(str(data))
    assert len(client.query("c", filter="id >= 0", limit=100)) == 9
    client.close()
    assert [p for p in junk if p.exists()] == []
    assert keep.exists()
