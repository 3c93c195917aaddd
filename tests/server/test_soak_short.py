"""The soak, short: pymilvus clients against a real ``elanus serve``, every read
checked against each client's model. ``scripts/soak.py`` is the long version
(docs/reliability.md, "Soak")."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_clients_mixing_writes_and_reads_get_only_right_answers() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "soak.py"),
            "--clients",
            "3",
            "--duration",
            "12",
            "--report-every",
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    summary = re.search(
        r"3 clients, \d+ s: (\d+) operations .*, (\d+) errors, (\d+) wrong answers", proc.stdout
    )
    assert summary is not None, proc.stdout
    assert int(summary.group(1)) > 0
    assert summary.group(2) == "0" and summary.group(3) == "0", proc.stdout
    assert "server up to the end" in proc.stdout
