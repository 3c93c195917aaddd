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
