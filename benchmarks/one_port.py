"""What sharing the Milvus port with the HTTP app costs a pymilvus search.

    python -m benchmarks.one_port [--rows 20000] [--seconds 5] [--rounds 3]

Two measurements, each interleaved in rounds so that load from other processes on
the machine falls on every variant alike:

1. The hop alone: ``benchmarks.grpc_floor``'s service in one process (each Search
   holding the GIL for ``--work-us`` of Python, the server's own share),
   reachable four ways at once: grpcio on TCP directly, and through
   ``OnePortListener`` relaying to grpcio's Unix socket from a process of its own
   with ``splice`` and with ``copy`` (``recv_into``/``sendall``), and with
   ``splice`` from threads inside the grpcio process. pymilvus searches each in turn.
2. The real server: ``elanus serve`` over one data directory (HNSW), restarted
   with sharing on (the default) and off (``--no-rest-on-grpc-port``); with
   ``--tls`` also both with ``tlsMode`` 1 (certificates from ``trustme``).

Reports p50/p99 search latency per variant and the ratios to grpcio directly;
``--threads N`` searches from N threads sharing one client (pymilvus's single
channel), which is where a relay inside the server's process would queue for the
GIL behind request threads. Writes ``benchmarks/results/one_port-<N>-threads.json``.
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


def serve_floor(ports: dict[str, int], unix_path: str, work_us: float) -> None:
    """The floor service on TCP and on a Unix socket, with the relays in front.
    ``work_us``: each Search first runs Python for that long, holding the GIL as a
    real server's decode/plan/encode does."""
    import grpc
    from pymilvus.grpc_gen import milvus_pb2_grpc

    from benchmarks.grpc_floor import FloorService
    from elanus.server.grpc_server import GRPC_OPTIONS
    from elanus.server.one_port import OnePortListener

    class BusyFloor(FloorService):
        def Search(self, request: Any, context: Any) -> Any:
            until = time.perf_counter() + work_us / 1e6
            while time.perf_counter() < until:
                pass
            return super().Search(request, context)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), options=GRPC_OPTIONS)
    milvus_pb2_grpc.add_MilvusServiceServicer_to_server(BusyFloor(), server)
    server.add_insecure_port(f"127.0.0.1:{ports['direct']}")
    server.add_insecure_port(f"unix:{unix_path}")
    server.start()
    pids: dict[str, int | None] = {}
    for name in FLOOR_VARIANTS[1:]:
        listener = OnePortListener(
            "127.0.0.1",
            ports[name],
            unix_path,
            None,
            pump=name.split("_")[0],
            in_process=name.endswith("in_process"),
        )
        listener.start()
        pids[name] = listener.relay_pid
    print("floor ready", flush=True)
    print(json.dumps(pids), flush=True)
    server.wait_for_termination()


def _latencies(client: Any, queries: np.ndarray, seconds: float, threads: int = 1) -> list[float]:
    """Per-search latencies of ``threads`` threads searching back to back."""
    for q in queries[:20]:
        client.search(NAME, data=[q.tolist()], limit=10, search_params=SEARCH_PARAMS)
    per_thread: list[list[float]] = [[] for _ in range(threads)]

    def run(times: list[float], offset: int) -> None:
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            q = queries[(offset + len(times)) % len(queries)].tolist()
            t0 = time.perf_counter()
            client.search(NAME, data=[q], limit=10, search_params=SEARCH_PARAMS)
            times.append(time.perf_counter() - t0)

    workers = [
        threading.Thread(target=run, args=(times, 97 * i)) for i, times in enumerate(per_thread)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [t for times in per_thread for t in times]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _summary(times: list[float]) -> dict[str, float]:
    us = np.array(times) * 1e6
    return {
        "n": float(len(us)),
        "p50_us": float(np.percentile(us, 50)),
        "p99_us": float(np.percentile(us, 99)),
    }


def _floor(
    queries: np.ndarray, seconds: float, rounds: int, threads: int, work_us: float
) -> dict[str, Any]:
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
        pids = json.loads(proc.stdout.readline())
        clients = {n: MilvusClient(uri=f"http://127.0.0.1:{p}") for n, p in ports.items()}
        times: dict[str, list[float]] = {n: [] for n in FLOOR_VARIANTS}
        cpu: dict[str, float] = {n: 0.0 for n in pids if pids[n]}
        for _ in range(rounds):
            for name in FLOOR_VARIANTS:
                before = _cpu_seconds(pids[name]) if name in cpu else 0.0
                times[name] += _latencies(clients[name], queries, seconds, threads)
                if name in cpu:
                    cpu[name] += _cpu_seconds(pids[name]) - before
        for client in clients.values():
            client.close()
    finally:
        proc.kill()
        proc.wait(60)
        shutil.rmtree(work, ignore_errors=True)
    result = {name: _summary(t) for name, t in times.items()}
    for name, seconds_used in cpu.items():
        # Warm-up searches ran too: counted in the CPU time, not in n.
        result[name]["relay_cpu_us_per_search"] = (
            seconds_used * 1e6 / (len(times[name]) + 20 * rounds)
        )
    return result


def _certificates(folder: Path) -> dict[str, str]:
    """A CA and a server certificate for 127.0.0.1/localhost (``trustme``)."""
    import trustme

    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    paths = {name: str(folder / name) for name in ("ca.pem", "server.pem", "server.key")}
    ca.cert_pem.write_to_path(paths["ca.pem"])
    server.cert_chain_pems[0].write_to_path(paths["server.pem"])
    server.private_key_pem.write_to_path(paths["server.key"])
    return paths


def _rest_latencies(port: int, queries: np.ndarray, seconds: float) -> list[float]:
    """REST v2 searches over one keep-alive HTTP/1.1 connection."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times: list[float] = []

    def search(i: int) -> None:
        # Bytes, so http.client sends headers and body in one write (with a str
        # body it writes twice and Nagle's algorithm holds the body ~40 ms).
        body = json.dumps(
            {
                "collectionName": NAME,
                "data": [queries[i % len(queries)].tolist()],
                "annsField": "vec",
                "limit": 10,
                "searchParams": SEARCH_PARAMS,
            }
        ).encode()
        conn.request(
            "POST", "/v2/vectordb/entities/search", body, {"Content-Type": "application/json"}
        )
        reply = json.loads(conn.getresponse().read())
        if reply.get("code") != 0:
            raise RuntimeError(f"REST search failed: {reply}")

    for i in range(20):
        search(i)
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        t0 = time.perf_counter()
        search(len(times))
        times.append(time.perf_counter() - t0)
    conn.close()
    return times


def _start_server(
    data_dir: Path, shared: bool, certs: dict[str, str] | None
) -> tuple[subprocess.Popen[str], int, int]:
    port, http_port = _free_port(), _free_port()
    args = [sys.executable, "-m", "elanus.cli", "serve", "--data-dir", str(data_dir)]
    args += ["--port", str(port), "--http-port", str(http_port), "--log-level", "WARNING"]
    if not shared:
        args.append("--no-rest-on-grpc-port")
    if certs is not None:
        args += ["--tls-mode", "1", "--tls-cert", certs["server.pem"]]
        args += ["--tls-key", certs["server.key"]]
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
    return proc, port, http_port


def _server(
    vectors: np.ndarray, queries: np.ndarray, seconds: float, rounds: int, threads: int, tls: bool
) -> Any:
    from pymilvus import MilvusClient

    from benchmarks.server_vs_embedded import _build

    work = Path(tempfile.mkdtemp(prefix="elanus-one-port-"))
    names = ["one_port", "grpc_only"] + (["one_port_tls", "grpc_only_tls"] if tls else [])
    times: dict[str, list[float]] = {name: [] for name in names}
    # REST through the shared Milvus port and on the HTTP port, same server.
    times.update({"rest_milvus_port": [], "rest_http_port": []})
    certs = _certificates(work) if tls else None
    try:
        for round_no in range(rounds):
            for name in names:
                with_tls = certs if name.endswith("_tls") else None
                proc, port, http_port = _start_server(
                    work / "data", shared=name.startswith("one_port"), certs=with_tls
                )
                try:
                    if with_tls is None:
                        client = MilvusClient(uri=f"http://127.0.0.1:{port}")
                    else:
                        client = MilvusClient(
                            uri=f"https://127.0.0.1:{port}",
                            secure=True,
                            server_pem_path=with_tls["ca.pem"],
                            server_name="localhost",
                        )
                    if round_no == 0 and name == "one_port":
                        _build(client, vectors, 5000)
                    client.load_collection(NAME)
                    times[name] += _latencies(client, queries, seconds, threads)
                    if name == "one_port":
                        times["rest_milvus_port"] += _rest_latencies(port, queries, seconds)
                        times["rest_http_port"] += _rest_latencies(http_port, queries, seconds)
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
    ap.add_argument("--threads", type=int, default=1, help="client threads sharing one client")
    ap.add_argument("--tls", action="store_true", help="also time both with tlsMode 1")
    ap.add_argument(
        "--work-us", type=float, default=200.0, help="Python work per floor Search (GIL held)"
    )
    ap.add_argument(
        "--serve-floor", nargs=2, metavar=("PORTS", "UNIX_PATH"), help=argparse.SUPPRESS
    )
    args = ap.parse_args(argv)
    if args.serve_floor:
        serve_floor(json.loads(args.serve_floor[0]), args.serve_floor[1], args.work_us)
        return 0
    ds = clustered(args.rows, args.dim)
    out: dict[str, Any] = {"dataset": ds.name, "seconds_per_round": args.seconds}
    out["rounds"] = args.rounds
    out["client_threads"] = args.threads
    out["floor_python_work_us"] = args.work_us
    floor = _floor(ds.queries, args.seconds, args.rounds, args.threads, args.work_us)
    out["floor"] = floor
    direct = floor["direct"]
    for name in FLOOR_VARIANTS[1:]:
        out[f"floor_{name}_over_direct"] = {
            q: floor[name][q] / direct[q] for q in ("p50_us", "p99_us")
        }
    server = _server(ds.vectors, ds.queries, args.seconds, args.rounds, args.threads, args.tls)
    out["server"] = server
    for suffix in ("", "_tls") if args.tls else ("",):
        out[f"server_one_port{suffix}_over_grpc_only{suffix}"] = {
            q: server[f"one_port{suffix}"][q] / server[f"grpc_only{suffix}"][q]
            for q in ("p50_us", "p99_us")
        }
    out["rest_milvus_port_over_http_port"] = {
        q: server["rest_milvus_port"][q] / server["rest_http_port"][q] for q in ("p50_us", "p99_us")
    }
    rounded = json.loads(json.dumps(out), parse_float=lambda s: round(float(s), 3))
    print(json.dumps(rounded, indent=2))
    report.RESULTS.mkdir(parents=True, exist_ok=True)
    tag = "-tls" if args.tls else ""
    (report.RESULTS / f"one_port-{args.threads}-threads{tag}.json").write_text(
        json.dumps({"machine": report.machine(), "result": rounded}, indent=1)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
