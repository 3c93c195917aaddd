"""What sharing the Milvus port with the HTTP app costs a pymilvus search.

    python -m benchmarks.one_port [--rows 20000] [--seconds 5] [--rounds 3]

Two measurements, each interleaved in rounds so that load from other processes on
the machine falls on every variant alike:

1. The hop alone: ``benchmarks.grpc_floor``'s do-nothing service in one process,
   reachable four ways at once: grpcio on TCP directly, and through
   ``OnePortListener`` relaying to grpcio's Unix socket from a process of its own
   with ``splice`` and with ``copy`` (``recv_into``/``sendall``), and with
   ``splice`` from threads inside the grpcio process. pymilvus searches each in turn.
2. The real server: ``elanus serve`` over one data directory (HNSW), restarted
   with sharing on (the default) and off (``--no-rest-on-grpc-port``).

Reports p50/p99 search latency per variant and the ratios to grpcio directly;
writes ``benchmarks/results/one_port.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import report
from benchmarks.datasets import clustered

NAME = "bench"
SEARCH_PARAMS = {"metric_type": "L2", "params": {"ef": 64}}
# grpcio on TCP; the relay in its own process (as served) moving bytes by splice or
# by copy; the relay as threads of the grpcio process.
FLOOR_VARIANTS = ("direct", "splice", "copy", "splice_in_process")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_floor(ports: dict[str, int], unix_path: str) -> None:
    """The floor service on TCP and on a Unix socket, with both relays in front."""
    import grpc
    from pymilvus.grpc_gen import milvus_pb2_grpc

    from benchmarks.grpc_floor import FloorService
    from elanus.server.grpc_server import GRPC_OPTIONS
    from elanus.server.one_port import OnePortListener

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), options=GRPC_OPTIONS)
    milvus_pb2_grpc.add_MilvusServiceServicer_to_server(FloorService(), server)
    server.add_insecure_port(f"127.0.0.1:{ports['direct']}")
    server.add_insecure_port(f"unix:{unix_path}")
    server.start()
    for name in FLOOR_VARIANTS[1:]:
        OnePortListener(
            "127.0.0.1",
            ports[name],
            unix_path,
            None,
            pump=name.split("_")[0],
            in_process=name.endswith("in_process"),
        ).start()
    print("floor ready", flush=True)
    server.wait_for_termination()


def _latencies(client: Any, queries: np.ndarray, seconds: float) -> list[float]:
    for q in queries[:20]:
        client.search(NAME, data=[q.tolist()], limit=10, search_params=SEARCH_PARAMS)
    times: list[float] = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        q = queries[len(times) % len(queries)].tolist()
        t0 = time.perf_counter()
        client.search(NAME, data=[q], limit=10, search_params=SEARCH_PARAMS)
        times.append(time.perf_counter() - t0)
    return times


def _summary(times: list[float]) -> dict[str, float]:
    us = np.array(times) * 1e6
    return {
        "n": float(len(us)),
        "p50_us": float(np.percentile(us, 50)),
        "p99_us": float(np.percentile(us, 99)),
    }


def _floor(queries: np.ndarray, seconds: float, rounds: int) -> dict[str, Any]:
    from pymilvus import MilvusClient

    ports = {name: _free_port() for name in FLOOR_VARIANTS}
    work = tempfile.mkdtemp(prefix="elanus-floor-")
    unix_path = os.path.join(work, "grpc.sock")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.one_port",
            "--serve-floor",
            json.dumps(ports),
            unix_path,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "floor ready":
            raise RuntimeError("the floor server did not start")
        clients = {n: MilvusClient(uri=f"http://127.0.0.1:{p}") for n, p in ports.items()}
        times: dict[str, list[float]] = {n: [] for n in FLOOR_VARIANTS}
        for _ in range(rounds):
            for name in FLOOR_VARIANTS:
                times[name] += _latencies(clients[name], queries, seconds)
        for client in clients.values():
            client.close()
    finally:
        proc.kill()
        proc.wait(60)
        shutil.rmtree(work, ignore_errors=True)
    return {name: _summary(t) for name, t in times.items()}


def _start_server(data_dir: Path, shared: bool) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    args = [sys.executable, "-m", "elanus.cli", "serve", "--data-dir", str(data_dir)]
    args += ["--port", str(port), "--http-port", str(_free_port()), "--log-level", "WARNING"]
    if not shared:
        args.append("--no-rest-on-grpc-port")
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    ready = threading.Event()

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "elanus ready" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(120):
        proc.kill()
        raise RuntimeError("elanus serve did not become ready")
    return proc, port


def _server(vectors: np.ndarray, queries: np.ndarray, seconds: float, rounds: int) -> Any:
    from pymilvus import MilvusClient

    from benchmarks.server_vs_embedded import _build

    work = Path(tempfile.mkdtemp(prefix="elanus-one-port-"))
    times: dict[str, list[float]] = {"one_port": [], "grpc_only": []}
    try:
        for round_no in range(rounds):
            for name in times:
                proc, port = _start_server(work, shared=name == "one_port")
                try:
                    client = MilvusClient(uri=f"http://127.0.0.1:{port}")
                    if round_no == 0 and name == "one_port":
                        _build(client, vectors, 5000)
                    client.load_collection(NAME)
                    times[name] += _latencies(client, queries, seconds)
                    client.close()
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(60)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {name: _summary(t) for name, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.one_port")
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--serve-floor", nargs=2, metavar=("PORTS", "UNIX_PATH"), help=argparse.SUPPRESS
    )
    args = ap.parse_args(argv)
    if args.serve_floor:
        serve_floor(json.loads(args.serve_floor[0]), args.serve_floor[1])
        return 0
    ds = clustered(args.rows, args.dim)
    out: dict[str, Any] = {"dataset": ds.name, "seconds_per_round": args.seconds}
    out["rounds"] = args.rounds
    floor = _floor(ds.queries, args.seconds, args.rounds)
    out["floor"] = floor
    direct = floor["direct"]
    for name in FLOOR_VARIANTS[1:]:
        out[f"floor_{name}_over_direct"] = {
            q: floor[name][q] / direct[q] for q in ("p50_us", "p99_us")
        }
    server = _server(ds.vectors, ds.queries, args.seconds, args.rounds)
    out["server"] = server
    out["server_one_port_over_grpc_only"] = {
        q: server["one_port"][q] / server["grpc_only"][q] for q in ("p50_us", "p99_us")
    }
    rounded = json.loads(json.dumps(out), parse_float=lambda s: round(float(s), 3))
    print(json.dumps(rounded, indent=2))
    report.RESULTS.mkdir(parents=True, exist_ok=True)
    (report.RESULTS / "one_port.json").write_text(
        json.dumps({"machine": report.machine(), "result": rounded}, indent=1)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
