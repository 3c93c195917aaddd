"""Protocol overhead: the same workload through pymilvus → ``elanus serve`` and embedded.

    python -m benchmarks.server_vs_embedded [--rows 100000] [--dim 128] [--seconds 10]

Builds one HNSW collection each way on the same vectors (inserting through
pymilvus's ``MilvusClient`` over gRPC, and through ``elanus.MilvusClient``), then
runs single-query searches back to back for a fixed time on each and reports
queries/s, the server/embedded ratio (target ≥ 0.5) and insert rows/s.

It also times the same pymilvus search against ``benchmarks.grpc_floor``, a grpcio
server that does no work: that is the transport floor (pymilvus's client side plus
grpcio), and ``best_possible_ratio`` = embedded latency / (embedded latency + floor)
is the ratio a server with zero cost of its own would reach on this machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import report
from benchmarks.datasets import clustered

NAME = "bench"
INDEX = {"index_type": "HNSW", "metric_type": "L2", "params": {"M": 16, "efConstruction": 200}}
SEARCH_PARAMS = {"metric_type": "L2", "params": {"ef": 64}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "elanus.cli", "serve", "--data-dir", str(data_dir)]
        + ["--port", str(port), "--log-level", "WARNING"],
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = threading.Event()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "elanus ready" in line:
                ready.set()
            elif "ERROR" in line or "Traceback" in line:
                sys.stderr.write(line)

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(120):
        proc.kill()
        raise RuntimeError("elanus serve did not become ready")
    return proc, f"http://127.0.0.1:{port}"


def _start_floor() -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.grpc_floor", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "floor ready":
        proc.kill()
        raise RuntimeError("the floor server did not start")
    return proc, f"http://127.0.0.1:{port}"


def _build(client: Any, vectors: np.ndarray, batch: int) -> float:
    """Create, insert in batches, flush, wait for the index; returns insert rows/s."""
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=vectors.shape[1])
    index = client.prepare_index_params()
    index.add_index("vec", **INDEX)
    client.create_collection(NAME, schema=schema, index_params=index)
    started = time.perf_counter()
    for start in range(0, len(vectors), batch):
        chunk = vectors[start : start + batch]
        client.insert(NAME, [{"id": start + i, "vec": v} for i, v in enumerate(chunk)])
    insert_rate = len(vectors) / (time.perf_counter() - started)
    client.flush(NAME)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        desc = client.describe_index(NAME, "vec")
        if desc.get("state") == "Finished" and not desc.get("pending_index_rows"):
            break
        time.sleep(0.5)
    return insert_rate


def _search_rate(client: Any, queries: np.ndarray, seconds: float) -> float:
    # Warm up: first searches load index files and caches.
    for q in queries[:20]:
        client.search(NAME, data=[q.tolist()], limit=10, search_params=SEARCH_PARAMS)
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        q = queries[done % len(queries)]
        client.search(NAME, data=[q.tolist()], limit=10, search_params=SEARCH_PARAMS)
        done += 1
    return done / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.server_vs_embedded")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args(argv)

    from pymilvus import MilvusClient as RemoteClient

    from elanus import MilvusClient as EmbeddedClient

    ds = clustered(args.rows, args.dim)
    work = Path(tempfile.mkdtemp(prefix="elanus-bench-"))
    out: dict[str, Any] = {"dataset": ds.name, "index": INDEX, "search_params": SEARCH_PARAMS}
    try:
        embedded = EmbeddedClient(str(work / "embedded"))
        out["embedded_insert_rows_per_s"] = _build(embedded, ds.vectors, args.batch)
        out["embedded_search_qps"] = _search_rate(embedded, ds.queries, args.seconds)
        embedded.close()

        proc, uri = _start_server(work / "server")
        try:
            remote = RemoteClient(uri=uri)
            out["grpc_insert_rows_per_s"] = _build(remote, ds.vectors, args.batch)
            out["grpc_search_qps"] = _search_rate(remote, ds.queries, args.seconds)
            remote.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)

        floor, floor_uri = _start_floor()
        try:
            remote = RemoteClient(uri=floor_uri)
            out["floor_search_qps"] = _search_rate(remote, ds.queries, args.seconds)
            remote.close()
        finally:
            floor.kill()
            floor.wait(60)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["grpc_over_embedded_search"] = out["grpc_search_qps"] / out["embedded_search_qps"]
    embedded_us = 1e6 / out["embedded_search_qps"]
    grpc_us = 1e6 / out["grpc_search_qps"]
    floor_us = 1e6 / out["floor_search_qps"]
    out["embedded_search_us"] = embedded_us
    out["grpc_search_us"] = grpc_us
    out["floor_search_us"] = floor_us
    out["server_own_us"] = grpc_us - floor_us - embedded_us
    out["best_possible_ratio"] = embedded_us / (embedded_us + floor_us)
    text = json.dumps(
        {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}, indent=2
    )
    print(text)
    report.RESULTS.mkdir(parents=True, exist_ok=True)
    (report.RESULTS / f"server_vs_embedded-{ds.name}.json").write_text(
        json.dumps({"machine": report.machine(), "result": json.loads(text)}, indent=1)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
