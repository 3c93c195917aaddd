"""Durable insert rate and exact-search latency of the embedded engine, beside raw FAISS.

    python -m benchmarks.core [--rows 100000] [--dim 128] [--batch 5000]

Inserts rows in batches through ``elanus.MilvusClient`` (every batch fsynced before
it is acknowledged), then times single-query exact (FLAT) search over them, and the
same search with ``faiss.IndexFlatL2`` on the same vectors, reporting the ratio.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time

import numpy as np

from benchmarks.datasets import clustered


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.core")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args(argv)

    import faiss

    from elanus import DataType, MilvusClient

    ds = clustered(args.rows, args.dim, queries=args.queries)
    tmp = tempfile.mkdtemp(prefix="elanus-core-")
    try:
        client = MilvusClient(f"{tmp}/data")
        schema = MilvusClient.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=args.dim)
        index = client.prepare_index_params()
        index.add_index("vector", index_type="FLAT", metric_type="L2")
        client.create_collection("core", schema=schema, index_params=index)
        ids = np.arange(args.rows, dtype=np.int64)
        t0 = time.perf_counter()
        for s in range(0, args.rows, args.batch):
            client.insert(
                "core", {"id": ids[s : s + args.batch], "vector": ds.vectors[s : s + args.batch]}
            )
        insert_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        client.flush("core")
        flush_s = time.perf_counter() - t0

        lat = []
        for q in ds.queries:
            t0 = time.perf_counter()
            client.search("core", data=q[None, :], limit=10, search_params={"metric_type": "L2"})
            lat.append(time.perf_counter() - t0)
        client.close()

        flat = faiss.IndexFlatL2(args.dim)
        flat.add(ds.vectors)
        flat_lat = []
        for q in ds.queries:
            t0 = time.perf_counter()
            flat.search(q[None, :], 10)
            flat_lat.append(time.perf_counter() - t0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    p50, p50f = np.percentile(lat, 50) * 1000, np.percentile(flat_lat, 50) * 1000
    print(f"rows={args.rows} dim={args.dim} batch={args.batch} (durable: fsync per batch)")
    print(f"insert: {args.rows / insert_s:,.0f} rows/s ({insert_s:.2f} s); flush {flush_s:.2f} s")
    print(
        f"exact search, single query, k=10: p50 {p50:.2f} ms, p99 {np.percentile(lat, 99) * 1000:.2f} ms, "
        f"{len(lat) / sum(lat):,.0f} q/s"
    )
    print(f"raw faiss IndexFlatL2: p50 {p50f:.2f} ms -> Elanus at {p50f / p50:.2f}x of FAISS speed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
