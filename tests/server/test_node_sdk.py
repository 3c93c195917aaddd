"""Milvus's Node SDK (``@zilliz/milvus2-sdk-node``) against a real ``elanus serve``:
gRPC and REST v2 on one port. ``./dev test`` installs the SDK with npm into
``tests/node`` where node is present; without node or the SDK this test skips."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ServerProcess, start_server

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
SDK = NODE_DIR / "node_modules" / "@zilliz" / "milvus2-sdk-node"


def test_node_sdk_drives_grpc_and_rest_on_one_port(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not SDK.is_dir():
        pytest.skip("the Node SDK is not installed in tests/node (./dev test runs npm ci there)")
    proc: ServerProcess = start_server(tmp_path / "d")
    try:
        run = subprocess.run(
            [node, str(NODE_DIR / "one_port.mjs"), f"127.0.0.1:{proc.port}"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=NODE_DIR,
        )
    finally:
        proc.stop()
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["insert"]["code"] == 0 and seen["grpc_status"]["code"] == 0
    # The SDK gives 64-bit keys as text.
    assert [str(hit["id"]) for hit in seen["grpc_hits"]] == ["3", "4"]
    assert seen["rest_collections"] == {"code": 0, "data": ["node_sdk"]}
    assert [str(hit["id"]) for hit in seen["rest_hits"]["data"]] == ["3", "4"]
