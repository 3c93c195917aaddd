"""Single-query latency of the embedded client against raw FAISS, interleaved.

    python -m benchmarks.single_query [--rows 20000] [--ef 64] [--blocks 12]

One HNSW collection (M=16, efConstruction=200) and one ``IndexHNSWFlat`` with the
same parameters on the same vectors; then blocks of 300 single queries alternate
between FAISS (one OpenMP thread, as Elanus uses for a lone query) and
``elanus.MilvusClient.search``. Alternating blocks means both see the same machine
load, so the p50 ratio is steady on a shared machine where separate runs are not.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from benchmarks.datasets import clustered

_BLOCK = 300


def _elanus_client(vectors: np.ndarray, work: Path) -> Any:
    from pymilvus import DataType

    from elanus import MilvusClient

    client = MilvusClient(str(work / "data"))
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=vectors.shape[1])
    client.create_collection("bench", schema=schema)
    client.insert("bench", [{"id": i, "vector": v} for i, v in enumerate(vectors)])
    client.flush("bench")
    index = client.prepare_index_params()
    index.add_index(
        "vector", index_type="HNSW", metric_type="L2", params={"M": 16, "efConstruction": 200}
    )
    client.create_index("bench", index)
    while True:
        info = client.describe_index("bench", client.list_indexes("bench")[0])
        if not info.get("pending_index_rows") and str(info.get("state")) == "Finished":
            break
        time.sleep(0.2)
    client.load_collection("bench")
    return client


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.single_query")
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--ef", type=int, default=64)
    ap.add_argument("--blocks", type=int, default=12)
    args = ap.parse_args(argv)

    ds = clustered(args.rows, 128)
    client = _elanus_client(ds.vectors, Path(tempfile.mkdtemp(prefix="elanus-single-")))
    index = faiss.IndexHNSWFlat(ds.dim, 16)
    index.hnsw.efConstruction = 200
    index.add(ds.vectors)
    params = faiss.SearchParametersHNSW()
    params.efSearch = args.ef
    search_params = {"metric_type": "L2", "params": {"ef": args.ef}}

    def raw(q: np.ndarray) -> None:
        faiss.omp_set_num_threads(1)
        index.search(q[None, :], 10, params=params)

    def embedded(q: np.ndarray) -> None:
        client.search("bench", data=q[None, :], limit=10, search_params=search_params)

    runs: list[tuple[Callable[[np.ndarray], None], list[float]]] = [(raw, []), (embedded, [])]
    for q in ds.queries[:100]:  # warm-up: caches, lazily loaded files
        raw(q)
        embedded(q)
    for block in range(args.blocks):
        for fn, times in runs:
            for i in range(_BLOCK):
                q = ds.queries[(block * _BLOCK + i) % len(ds.queries)]
                started = time.perf_counter()
                fn(q)
                times.append(time.perf_counter() - started)
    client.close()
    faiss_ms = float(np.percentile(runs[0][1], 50)) * 1e3
    elanus_ms = float(np.percentile(runs[1][1], 50)) * 1e3
    print(
        f"{ds.name} HNSW ef={args.ef} k=10: FAISS p50 {faiss_ms:.4f} ms, "
        f"Elanus p50 {elanus_ms:.4f} ms, Elanus / FAISS {elanus_ms / faiss_ms:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
