"""Soak: many pymilvus clients against one real ``elanus serve`` for a long time.

Each client process owns a range of primary keys and keeps a model of it: which
keys are live and which version of their row each holds. It runs a random mix
of insert, upsert, delete, search, query and flush, and checks every read
against its model (query by ids and by range: exactly the live rows with their
values; search: only live rows of its range). Every minute (``--report-every``)
the parent prints operations, errors, wrong answers, p99 latency and the
server's resident memory; at the end the same rows as a Markdown table.

    .venv/bin/python scripts/soak.py --clients 8 --duration 1800

Exit status 0 only when there was no error and no wrong answer.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["main"]

COLLECTION = "soak"
DIM = 16
KEYS_PER_CLIENT = 2_000

# (operation, weight)
MIX = (
    ("insert", 20),
    ("upsert", 25),
    ("delete", 10),
    ("search", 20),
    ("query", 20),
    ("flush", 2),
)


def row(key: int, version: int) -> dict[str, Any]:
    rng = random.Random(key * 1_000_003 + version)
    return {
        "id": key,
        "version": version,
        "tag": f"k{key}-v{version}",
        "vec": [rng.random() for _ in range(DIM)],
    }


# --- one client process ---------------------------------------------------------------


class Client:
    """One client's model of its key range and its checks."""

    def __init__(self, client: Any, index: int, seed: int) -> None:
        self.client = client
        self.lo = index * KEYS_PER_CLIENT
        self.hi = self.lo + KEYS_PER_CLIENT
        self.rng = random.Random(seed)
        self.live: dict[int, int] = {}  # key -> version
        self.version = 0
        self.bad: list[str] = []

    def step(self, kind: str) -> None:
        getattr(self, kind)()

    def _keys(self, pool: list[int], most: int) -> list[int]:
        return self.rng.sample(pool, min(len(pool), self.rng.randint(1, most)))

    def insert(self) -> None:
        absent = [k for k in range(self.lo, self.hi) if k not in self.live]
        if not absent:
            return self.upsert()
        self._write("insert", self._keys(absent, 50))

    def upsert(self) -> None:
        self._write("upsert", self._keys(list(range(self.lo, self.hi)), 50))

    def _write(self, kind: str, keys: list[int]) -> None:
        self.version += 1
        getattr(self.client, kind)(COLLECTION, [row(k, self.version) for k in keys])
        for k in keys:
            self.live[k] = self.version

    def delete(self) -> None:
        pool = (
            list(self.live)
            if self.live and self.rng.random() < 0.9
            else list(range(self.lo, self.hi))
        )
        keys = self._keys(pool, 20)
        if self.rng.random() < 0.5:
            self.client.delete(COLLECTION, ids=keys)
        else:
            self.client.delete(COLLECTION, filter=f"id in {keys}")
        for k in keys:
            self.live.pop(k, None)

    def flush(self) -> None:
        self.client.flush(COLLECTION)

    def query(self) -> None:
        if self.rng.random() < 0.2:
            got = self.client.query(
                COLLECTION,
                filter=f"id >= {self.lo} and id < {self.hi}",
                output_fields=["version", "tag"],
                limit=16_384,
                consistency_level="Strong",
            )
            self._compare(got, dict(self.live), "range query")
            return
        keys = self._keys(list(range(self.lo, self.hi)), 30)
        got = self.client.query(
            COLLECTION,
            filter=f"id in {keys}",
            output_fields=["version", "tag"],
            consistency_level="Strong",
        )
        self._compare(got, {k: self.live[k] for k in keys if k in self.live}, "query by ids")

    def _compare(self, got: list[dict[str, Any]], want: dict[int, int], what: str) -> None:
        seen = {int(r["id"]): (int(r["version"]), r["tag"]) for r in got}
        if len(seen) != len(got):
            self.bad.append(f"{what}: a key came back twice")
        for key, version in want.items():
            if key not in seen:
                self.bad.append(f"{what}: live key {key} (version {version}) missing")
            elif seen[key] != (version, f"k{key}-v{version}"):
                self.bad.append(f"{what}: key {key} is {seen[key]}, expected version {version}")
        for key in seen.keys() - want.keys():
            self.bad.append(f"{what}: key {key} returned but deleted or never written")

    def search(self) -> None:
        hits = self.client.search(
            COLLECTION,
            data=[[self.rng.random() for _ in range(DIM)]],
            limit=10,
            filter=f"id >= {self.lo} and id < {self.hi}",
            output_fields=["version"],
            search_params={"params": {"ef": 32}},
            consistency_level="Strong",
        )
        for hit in hits[0]:
            key, version = int(hit["id"]), int(hit["entity"]["version"])
            if self.live.get(key) != version:
                self.bad.append(f"search: hit {key} version {version}, model {self.live.get(key)}")


def run_client(uri: str, index: int, seed: int, duration: float) -> int:
    """A client process: report one JSON line per second on stdout."""
    import logging

    from pymilvus import MilvusClient

    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    me = Client(MilvusClient(uri=uri, timeout=60), index, seed)
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    end = time.monotonic() + duration
    while time.monotonic() < end:
        counts: dict[str, int] = {}
        latencies: dict[str, list[float]] = {}
        errors: list[str] = []
        tick = time.monotonic() + 1.0
        while time.monotonic() < min(tick, end):
            kind = me.rng.choices(kinds, weights)[0]
            started = time.perf_counter()
            try:
                me.step(kind)
            except Exception as exc:  # every failure is counted and reported, never hidden
                errors.append(f"{kind}: {type(exc).__name__}: {exc}"[:300])
                continue
            latencies.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
            counts[kind] = counts.get(kind, 0) + 1
        report = {
            "n": counts,
            "lat": latencies,
            "err": errors,
            "bad": me.bad[:20],
            "nbad": len(me.bad),
        }
        me.bad.clear()
        print(json.dumps(report), flush=True)
    return 0


# --- the parent ---------------------------------------------------------------------------


@dataclass
class Window:
    ops: int = 0
    errors: int = 0
    wrong: int = 0
    latencies: list[float] = field(default_factory=list)
    search_latencies: list[float] = field(default_factory=list)
    write_latencies: list[float] = field(default_factory=list)


def p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: str, log_path: str) -> tuple[subprocess.Popen, str]:
    port, http_port = _free_port(), _free_port()
    with open(log_path, "ab") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "elanus.cli", "serve",
                "--data-dir", data_dir, "--port", str(port), "--http-port", str(http_port),
                "--log-level", "WARNING",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"elanus serve did not start; see {log_path}") from None
            time.sleep(0.1)


def create_collection(uri: str) -> None:
    from pymilvus import DataType, MilvusClient

    client = MilvusClient(uri=uri)
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("version", DataType.INT64)
    schema.add_field("tag", DataType.VARCHAR, max_length=64)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    params = client.prepare_index_params()
    params.add_index("vec", index_type="HNSW", metric_type="L2", params={"M": 16})
    client.create_collection(COLLECTION, schema=schema, index_params=params)
    client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=1800, help="seconds (default 30 min)")
    parser.add_argument("--report-every", type=float, default=60, help="seconds per row")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", help="server data directory (default: a temp dir)")
    parser.add_argument("--client", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--uri", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client is not None:
        return run_client(args.uri, args.client, args.seed, args.duration)

    root = tempfile.mkdtemp(prefix="elanus-soak-")
    data_dir = args.data_dir or os.path.join(root, "data")
    server, uri = start_server(data_dir, os.path.join(root, "server.log"))
    rows: list[tuple[str, ...]] = []
    first_errors: list[str] = []
    totals = Window()
    try:
        create_collection(uri)
        clients = [
            subprocess.Popen(
                [
                    sys.executable,
                    os.path.abspath(__file__),
                    "--client",
                    str(i),
                    "--uri",
                    uri,
                    "--seed",
                    str(args.seed * 1000 + i),
                    "--duration",
                    str(args.duration),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for i in range(args.clients)
        ]
        selector = selectors.DefaultSelector()
        for proc in clients:
            assert proc.stdout is not None
            selector.register(proc.stdout, selectors.EVENT_READ, proc)
        open_streams = len(clients)
        started = time.monotonic()
        window, window_start = Window(), started
        header = (
            "| minute | operations | ops/s | errors | wrong answers | p99 ms (all) "
            "| p99 ms search | p99 ms writes | server RSS MiB |"
        )
        print(header, flush=True)
        print("|" + "---|" * 9, flush=True)
        while open_streams:
            for key, _ in selector.select(timeout=1.0):
                line = key.fileobj.readline()  # type: ignore[union-attr]
                if not line:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                report = json.loads(line)
                n = sum(report["n"].values())
                for target in (window, totals):
                    target.ops += n
                    target.errors += len(report["err"])
                    target.wrong += report["nbad"]
                    for kind, values in report["lat"].items():
                        target.latencies.extend(values)
                        if kind == "search":
                            target.search_latencies.extend(values)
                        elif kind in ("insert", "upsert", "delete"):
                            target.write_latencies.extend(values)
                for message in report["err"] + report["bad"]:
                    if len(first_errors) < 20:
                        first_errors.append(message)
            now = time.monotonic()
            if now - window_start >= args.report_every or not open_streams:
                seconds = max(now - window_start, 1e-9)
                cells = (
                    f"{(now - started) / 60:.1f}",
                    str(window.ops),
                    f"{window.ops / seconds:.0f}",
                    str(window.errors),
                    str(window.wrong),
                    f"{p99(window.latencies):.1f}",
                    f"{p99(window.search_latencies):.1f}",
                    f"{p99(window.write_latencies):.1f}",
                    f"{rss_mib(server.pid):.0f}",
                )
                rows.append(cells)
                print("| " + " | ".join(cells) + " |", flush=True)
                window, window_start = Window(), now
        for proc in clients:
            proc.wait()
        alive = server.poll() is None
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    elapsed = time.monotonic() - started
    print(
        f"\n{args.clients} clients, {elapsed:.0f} s: {totals.ops} operations "
        f"({totals.ops / max(elapsed, 1e-9):.0f}/s), {totals.errors} errors, {totals.wrong} wrong "
        f"answers, p99 {p99(totals.latencies):.1f} ms (search {p99(totals.search_latencies):.1f} ms, "
        f"writes {p99(totals.write_latencies):.1f} ms), server {'up' if alive else 'DOWN'} to the end",
        flush=True,
    )
    for message in first_errors:
        print("ERROR:", message, flush=True)
    ok = totals.errors == 0 and totals.wrong == 0 and alive and totals.ops > 0
    if ok and not args.data_dir:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"files kept in {root}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
