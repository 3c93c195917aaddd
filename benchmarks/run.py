"""Run one benchmark workload against Elanus and its peers in the same run.

    python -m benchmarks.run search --quick
    python -m benchmarks.run ingest --rows 100000 --peers elanus,milvus-lite

Workloads: ingest, search, filtered, server, restart, fulltext. Each writes
``benchmarks/results/<workload>.md`` (+ .json, + PNG plots) with the ratio of
Elanus to every peer. ``--quick`` keeps each under about five minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from benchmarks import report
from benchmarks.datasets import (
    SELECTIVITIES,
    Dataset,
    clustered,
    ground_truth,
    real_text,
    recall_at,
)
from benchmarks.peers import (
    INDEXES,
    PEER_KINDS,
    MilvusApiPeer,
    Peer,
    free_port,
    server_process,
)

K = 10


def timed_queries(
    fn: Callable[[np.ndarray], Any], queries: np.ndarray, budget_s: float
) -> tuple[list[float], list[Any]]:
    """Run single queries one after another until all are done or the budget is spent."""
    lat: list[float] = []
    out: list[Any] = []
    deadline = time.perf_counter() + budget_s
    for q in queries:
        t0 = time.perf_counter()
        out.append(fn(q[None, :]))
        lat.append(time.perf_counter() - t0)
        if time.perf_counter() > deadline:
            break
    return lat, out


def open_peer(name: str) -> Peer | None:
    try:
        return PEER_KINDS[name]()
    except Exception as exc:  # a peer that cannot start is reported, not fatal
        print(f"[{name}] cannot start: {exc}", file=sys.stderr)
        return None


def search_workload(
    ds: Dataset, peers: list[str], indexes: list[str], budget: float, batch: int
) -> None:
    gt = ground_truth(ds, 100)
    rows: list[dict[str, Any]] = []
    curves: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for index_name in indexes:
        cfg = INDEXES[index_name]
        for name in peers:
            peer = open_peer(name)
            if peer is None:
                continue
            try:
                stats = peer.load(ds, cfg, batch)
                for value in cfg.sweep or (None,):
                    lat, found = timed_queries(
                        lambda q: peer.search(q, K, cfg, value), ds.queries, budget
                    )
                    ids = [f[0] for f in found]
                    t0 = time.perf_counter()
                    nb = min(len(ds.queries), 100)
                    peer.search(ds.queries[:nb], K, cfg, value)
                    batch_qps = nb / (time.perf_counter() - t0)
                    row = {
                        "index": index_name,
                        "param": f"{cfg.sweep_key}={value}" if cfg.sweep_key else "-",
                        "peer": name,
                        "recall@10": recall_at(ids, gt[: len(ids)], K),
                        "p50 ms": 1000 * float(np.percentile(lat, 50)),
                        "p99 ms": 1000 * float(np.percentile(lat, 99)),
                        "QPS": len(lat) / sum(lat),
                        "batch QPS": batch_qps,
                        "index s": stats.index_s,
                    }
                    rows.append(row)
                    curves.setdefault((index_name, name), []).append((row["recall@10"], row["QPS"]))
                    print(row, flush=True)
            except Exception as exc:
                print(f"[{name}] {index_name}: {exc!r}", file=sys.stderr)
            finally:
                peer.close()
    _add_ratios(rows, ("index", "param"), {"QPS": True, "batch QPS": True, "p50 ms": False})

    def plot(ax: Any) -> None:
        for (index_name, name), pts in curves.items():
            pts.sort()
            ax.plot(
                [p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{name} {index_name}"
            )
        ax.set_xlabel("recall@10")
        ax.set_ylabel("queries/s (single)")
        ax.set_yscale("log")
        ax.legend(fontsize=7)

    report.write(
        f"search-{ds.name}",
        rows,
        [
            "index",
            "param",
            "peer",
            "recall@10",
            "p50 ms",
            "p99 ms",
            "QPS",
            "batch QPS",
            "index s",
            "QPS vs peer",
            "batch QPS vs peer",
            "p50 ms vs peer",
        ],
        [
            f"data {ds.name}, metric {ds.metric}, k={K}; QPS = single queries back to back;"
            " batch = 100 queries in one call",
            "ratios: Elanus (embedded) relative to the peer on the same row; >1 means Elanus is better",
        ]
        + [f"{n}: build params {INDEXES[i].build}" for n in peers for i in indexes][: len(indexes)],
        [("recall-qps", plot)],
    )


def _add_ratios(rows: list[dict[str, Any]], key: tuple[str, ...], metrics: dict[str, bool]) -> None:
    ours = {tuple(r[k] for k in key): r for r in rows if r["peer"] == "elanus"}
    for r in rows:
        base = ours.get(tuple(r[k] for k in key))
        for m, higher in metrics.items():
            r[f"{m} vs peer"] = (
                "—"
                if base is None or r["peer"] == "elanus"
                else report.ratio(base.get(m), r.get(m), higher)
            )


def filtered_workload(ds: Dataset, peers: list[str], budget: float, batch: int) -> None:
    cfg = INDEXES["HNSW"]
    rows: list[dict[str, Any]] = []
    for name in peers:
        peer = open_peer(name)
        if peer is None:
            continue
        try:
            peer.load(ds, cfg, batch)
            for share in SELECTIVITIES:
                gt = ground_truth(ds, 100, share)
                expr = ds.filter_expr(share)
                lat, found = timed_queries(
                    lambda q: peer.search(q, K, cfg, 64, expr), ds.queries, budget
                )
                ids = [f[0] for f in found]
                t0 = time.perf_counter()
                n = peer.count(expr) if name != "faiss" else int(ds.filter_mask(share).sum())
                count_ms = 1000 * (time.perf_counter() - t0)
                t0 = time.perf_counter()
                got = peer.fetch(expr, 1000) if name != "faiss" else 0
                fetch_ms = 1000 * (time.perf_counter() - t0)
                row = {
                    "selectivity": share,
                    "peer": name,
                    "recall@10": recall_at(ids, gt[: len(ids)], K),
                    "QPS": len(lat) / sum(lat),
                    "count(*) ms": count_ms if name != "faiss" else None,
                    "fetch 1k ms": fetch_ms if name != "faiss" else None,
                    "count": n,
                    "fetched": got,
                }
                rows.append(row)
                print(row, flush=True)
        except Exception as exc:
            print(f"[{name}] filtered: {exc!r}", file=sys.stderr)
        finally:
            peer.close()
    _add_ratios(rows, ("selectivity",), {"QPS": True, "count(*) ms": False, "fetch 1k ms": False})
    report.write(
        f"filtered-{ds.name}",
        rows,
        [
            "selectivity",
            "peer",
            "recall@10",
            "QPS",
            "count(*) ms",
            "fetch 1k ms",
            "QPS vs peer",
            "count(*) ms vs peer",
            "fetch 1k ms vs peer",
        ],
        [f"HNSW M=16 efConstruction=200, ef=64, k={K}; filter `sel < t` keeps the given share"],
    )


def ingest_workload(ds: Dataset, peers: list[str], batches: list[int]) -> None:
    rows: list[dict[str, Any]] = []
    import resource

    for b in batches:
        for name in peers:
            if name == "faiss":
                continue
            peer = open_peer(name)
            if peer is None:
                continue
            try:
                stats = peer.load(ds, INDEXES["HNSW"], b)
                row = {
                    "batch": b,
                    "peer": name,
                    "rows/s": ds.rows / stats.insert_s,
                    "flush s": stats.flush_s,
                    "index s": stats.index_s,
                    "disk MiB": stats.disk_bytes / 2**20,
                    "peak RSS MiB (bench process)": resource.getrusage(
                        resource.RUSAGE_SELF
                    ).ru_maxrss
                    / 1024,
                }
                rows.append(row)
                print(row, flush=True)
            except Exception as exc:
                print(f"[{name}] ingest: {exc!r}", file=sys.stderr)
            finally:
                peer.close()
    _add_ratios(rows, ("batch",), {"rows/s": True, "index s": False})

    def plot(ax: Any) -> None:
        labels = [f"{r['peer']}\n{r['batch']}" for r in rows]
        ax.bar(labels, [r["rows/s"] for r in rows])
        ax.set_ylabel("rows/s (durable inserts)")
        ax.tick_params(axis="x", labelsize=7)

    report.write(
        f"ingest-{ds.name}",
        rows,
        [
            "batch",
            "peer",
            "rows/s",
            "flush s",
            "index s",
            "disk MiB",
            "peak RSS MiB (bench process)",
            "rows/s vs peer",
            "index s vs peer",
        ],
        [
            "inserts are durable (each acknowledged batch is on disk) in every peer that offers it",
            "index = HNSW M=16 efConstruction=200 built after flush",
        ],
        [("ingest", plot)],
    )


def server_workload(ds: Dataset, budget: float, batch: int) -> None:
    cfg = INDEXES["HNSW"]
    rows: list[dict[str, Any]] = []
    for name in ("elanus", "elanus-server", "milvus-lite-server"):
        peer = open_peer(name)
        if peer is None:
            continue
        try:
            peer.load(ds, cfg, batch)
            for threads in (1, 4):
                done = 0
                lock = threading.Lock()
                deadline = time.perf_counter() + budget

                def worker(offset: int, p: Peer = peer) -> None:
                    nonlocal done
                    i = offset
                    while time.perf_counter() < deadline:
                        p.search(ds.queries[i % len(ds.queries)][None, :], K, cfg, 64)
                        i += threads
                        with lock:
                            done += 1

                t0 = time.perf_counter()
                with ThreadPoolExecutor(threads) as pool:
                    list(pool.map(worker, range(threads)))
                qps = done / (time.perf_counter() - t0)
                rows.append({"peer": name, "client threads": threads, "QPS": qps})
                print(rows[-1], flush=True)
        except Exception as exc:
            print(f"[{name}] server: {exc!r}", file=sys.stderr)
        finally:
            peer.close()
    _add_ratios(rows, ("client threads",), {"QPS": True})
    report.write(
        f"server-{ds.name}",
        rows,
        ["peer", "client threads", "QPS", "QPS vs peer"],
        [
            "HNSW M=16 efConstruction=200, ef=64, single-vector searches through pymilvus",
            "elanus row = the same workload embedded (in-process), the ceiling for the server",
        ],
    )


def restart_workload(ds: Dataset, batch: int, peers: list[str]) -> None:
    import sys as _sys
    import tempfile
    from pathlib import Path

    from pymilvus import MilvusClient

    rows: list[dict[str, Any]] = []
    for kind in [p for p in ("elanus", "milvus-lite") if p in peers]:
        data = Path(tempfile.mkdtemp(prefix=f"restart-{kind}-")) / "data"
        port = free_port()
        argv = (
            [
                _sys.executable,
                "-m",
                "elanus.cli",
                "serve",
                "--data-dir",
                str(data),
                "--port",
                str(port),
                "--http-port",
                str(free_port()),
            ]
            if kind == "elanus"
            else [
                _sys.executable,
                "-m",
                "milvus_lite",
                "server",
                "--data-dir",
                str(data),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
        )
        try:
            with server_process(argv, port):
                peer = MilvusApiPeer.__new__(MilvusApiPeer)
                peer.client = MilvusClient(uri=f"http://127.0.0.1:{port}")
                peer.tmp = data.parent
                peer.kind = kind
                peer.metric = ds.metric
                MilvusApiPeer.load(peer, ds, INDEXES["HNSW"], batch)
                peer.client.close()
            t0 = time.perf_counter()
            with server_process(argv, port, timeout=600):
                client = MilvusClient(uri=f"http://127.0.0.1:{port}")
                while True:
                    with contextlib.suppress(Exception):
                        client.load_collection("bench")
                        client.search("bench", [ds.queries[0].tolist()], limit=K)
                        break
                    time.sleep(0.05)
                secs = time.perf_counter() - t0
                client.close()
            rows.append({"peer": kind, "rows": ds.rows, "start to first search s": secs})
            print(rows[-1], flush=True)
        except Exception as exc:
            print(f"[{kind}] restart: {exc!r}", file=sys.stderr)
    _add_ratios(rows, ("rows",), {"start to first search s": False})
    report.write(
        f"restart-{ds.name}",
        rows,
        ["peer", "rows", "start to first search s", "start to first search s vs peer"],
        ["time from starting the server process to the first answered search, HNSW index"],
    )


def fulltext_workload(docs: int, peers: list[str], budget: float) -> None:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    from benchmarks.datasets import _sentences

    base = _sentences(200_000)
    texts = [base[i % len(base)] + f" doc{i}" for i in range(docs)]
    queries = [
        "how to define a function",
        "exception handling in loops",
        "string formatting",
        "import a module",
        "class attribute lookup",
    ]
    rows: list[dict[str, Any]] = []
    for name in peers:
        if name == "faiss":
            continue
        peer = open_peer(name)
        if peer is None:
            continue
        try:
            c = peer.client  # type: ignore[attr-defined]
            schema = MilvusClient.create_schema()
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("text", DataType.VARCHAR, max_length=1000, enable_analyzer=True)
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(
                Function(
                    name="bm25",
                    function_type=FunctionType.BM25,
                    input_field_names=["text"],
                    output_field_names=["sparse"],
                )
            )
            idx = c.prepare_index_params()
            idx.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
            c.create_collection("ft", schema=schema, index_params=idx)
            for s in range(0, docs, 5000):
                c.insert("ft", [{"id": i, "text": texts[i]} for i in range(s, min(s + 5000, docs))])
            c.flush("ft")
            lat = []
            deadline = time.perf_counter() + budget
            i = 0
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                c.search(
                    "ft",
                    [queries[i % len(queries)]],
                    anns_field="sparse",
                    limit=K,
                    search_params={"metric_type": "BM25"},
                )
                lat.append(time.perf_counter() - t0)
                i += 1
            rows.append(
                {
                    "peer": name,
                    "docs": docs,
                    "p50 ms": 1000 * float(np.percentile(lat, 50)),
                    "p99 ms": 1000 * float(np.percentile(lat, 99)),
                    "QPS": len(lat) / sum(lat),
                }
            )
            print(rows[-1], flush=True)
        except Exception as exc:
            print(f"[{name}] fulltext: {exc!r}", file=sys.stderr)
        finally:
            peer.close()
    _add_ratios(rows, ("docs",), {"QPS": True, "p50 ms": False})
    report.write(
        f"fulltext-{docs}",
        rows,
        ["peer", "docs", "p50 ms", "p99 ms", "QPS", "QPS vs peer", "p50 ms vs peer"],
        [
            "BM25 function on a VARCHAR field, SPARSE_INVERTED_INDEX, k=10, one query text per search"
        ],
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "workload", choices=["ingest", "search", "filtered", "server", "restart", "fulltext"]
    )
    ap.add_argument("--quick", action="store_true", help="small sizes: under ~5 minutes on 2 cores")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--data", choices=["clustered", "minilm"], default="clustered")
    ap.add_argument("--peers", default="faiss,elanus,milvus-lite")
    ap.add_argument("--indexes", default="HNSW,IVF_FLAT,IVF_PQ")
    ap.add_argument(
        "--budget", type=float, default=None, help="seconds of single queries per point"
    )
    ap.add_argument("--batch", type=int, default=5000, help="insert batch size")
    args = ap.parse_args(argv)
    rows = args.rows or (20_000 if args.quick else 100_000)
    budget = args.budget or (3.0 if args.quick else 15.0)
    peers = [p for p in args.peers.split(",") if p]
    if args.data == "minilm":
        ds = real_text(limit=rows)
    else:
        ds = clustered(rows, queries=100 if args.quick else 500)
    if args.workload == "search":
        search_workload(ds, peers, args.indexes.split(","), budget, args.batch)
    elif args.workload == "filtered":
        filtered_workload(ds, peers, budget, args.batch)
    elif args.workload == "ingest":
        ingest_workload(ds, peers, [1000, 10000] if not args.quick else [1000, 5000])
    elif args.workload == "server":
        server_workload(ds, budget, args.batch)
    elif args.workload == "restart":
        restart_workload(
            ds if args.rows or args.quick else clustered(1_000_000, queries=10),
            args.batch,
            peers,
        )
    else:
        fulltext_workload(rows, peers, budget)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
