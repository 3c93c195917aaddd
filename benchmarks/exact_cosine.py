"""Single-query exact COSINE search (the quick-setup metric) beside raw FAISS, interleaved.

    python -m benchmarks.exact_cosine [--rows 20000] [--dim 128] [--blocks 8]

Three collections searched exactly with COSINE: rows still in the growing segment
of a quick-setup (AUTOINDEX, COSINE) collection, one sealed segment under a FLAT
index, and a sealed AUTOINDEX segment of 2,000 rows (below the size at which an
index is used, so it is scanned). Beside them, ``faiss.IndexFlatIP`` over
the same vectors normalised once up front (the ceiling: no per-query work on the
rows). Blocks of single queries alternate between the four, so all see the same
machine load and the p50 ratios hold on a shared machine.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import faiss
import numpy as np

from benchmarks.datasets import clustered

_BLOCK = 200
_SMALL = 2000


def _collection(client: Any, name: str, vectors: np.ndarray, *, flush: bool, flat: bool) -> None:
    from elanus import DataType

    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=vectors.shape[1])
    index = client.prepare_index_params()
    index.add_index("vector", index_type="FLAT" if flat else "AUTOINDEX", metric_type="COSINE")
    client.create_collection(name, schema=schema, index_params=index)
    client.insert(name, {"id": np.arange(len(vectors)), "vector": vectors})
    if flush:
        client.flush(name)
    client.load_collection(name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.exact_cosine")
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--blocks", type=int, default=8)
    args = ap.parse_args(argv)

    from elanus import MilvusClient

    ds = clustered(args.rows, args.dim)
    tmp = tempfile.mkdtemp(prefix="elanus-cosine-")
    try:
        client = MilvusClient(f"{tmp}/data")
        _collection(client, "growing", ds.vectors, flush=False, flat=False)
        _collection(client, "flat", ds.vectors, flush=True, flat=True)
        _collection(client, "small", ds.vectors[:_SMALL], flush=True, flat=False)
        unit = ds.vectors / np.linalg.norm(ds.vectors, axis=1, keepdims=True)
        ceiling = faiss.IndexFlatIP(args.dim)
        ceiling.add(np.ascontiguousarray(unit, dtype=np.float32))
        params = {"metric_type": "COSINE"}

        def raw(q: np.ndarray) -> None:
            faiss.omp_set_num_threads(1)
            ceiling.search(q[None, :] / np.linalg.norm(q), 10)

        def search(name: str) -> Callable[[np.ndarray], None]:
            def run(q: np.ndarray) -> None:
                client.search(name, data=q[None, :], limit=10, search_params=params)

            return run

        runs: list[tuple[str, Callable[[np.ndarray], None], list[float]]] = [
            ("faiss IndexFlatIP (pre-normalised)", raw, []),
            (f"growing segment, {args.rows} rows", search("growing"), []),
            (f"sealed + FLAT, {args.rows} rows", search("flat"), []),
            (f"sealed, {_SMALL} rows (below index size)", search("small"), []),
        ]
        for q in ds.queries[:50]:  # warm-up: lazily loaded files, kept unit rows
            for _, fn, _ in runs:
                fn(q)
        for block in range(args.blocks):
            for _, fn, times in runs:
                for i in range(_BLOCK):
                    q = ds.queries[(block * _BLOCK + i) % len(ds.queries)]
                    started = time.perf_counter()
                    fn(q)
                    times.append(time.perf_counter() - started)
        client.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base = float(np.percentile(runs[0][2], 50)) * 1e3
    print(f"{ds.name} COSINE k=10, single queries, p50 (ratio to FAISS):")
    for name, _, times in runs:
        p50 = float(np.percentile(times, 50)) * 1e3
        print(f"  {name:40s} {p50:8.3f} ms  {p50 / base:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
