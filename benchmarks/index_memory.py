"""Index memory: resident bytes (``nbytes``) and size on disk of each vector index.

    python -m benchmarks.index_memory [--rows 100000] [--indexes IVF_PQ,DISKANN,HNSW,IVF_FLAT]

Builds each index through ``elanus.index.build_vector_index`` over the clustered
set (128-d float32), saves it, and reports resident bytes, bytes on disk and build
time beside the raw vectors' size. For IVF_PQ the same FAISS index built directly
is serialized too, as the floor Elanus's figure can be compared with.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.datasets import clustered

BUILD: dict[str, dict[str, Any]] = {
    "IVF_PQ": {"nlist": 1024, "m": 16, "nbits": 8},
    "DISKANN": {},
    "HNSW": {"M": 16, "efConstruction": 200},
    "IVF_FLAT": {"nlist": 1024},
}


def _disk_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.index_memory")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--indexes", default="IVF_PQ,DISKANN")
    args = ap.parse_args(argv)

    import faiss

    from elanus.index import build_vector_index
    from elanus.schema.field import FieldSchema
    from elanus.schema.types import DataType

    ds = clustered(args.rows, queries=10)
    field = FieldSchema("vector", DataType.FLOAT_VECTOR, params={"dim": ds.dim})
    raw_mib = ds.vectors.nbytes / 2**20
    rows: list[dict[str, Any]] = []
    tmp = Path(tempfile.mkdtemp(prefix="elanus-index-mem-"))
    try:
        for name in [n for n in args.indexes.split(",") if n]:
            t0 = time.perf_counter()
            index = build_vector_index(field, name, "L2", BUILD.get(name, {}), ds.vectors)
            build_s = time.perf_counter() - t0
            index.save(tmp / name)
            row: dict[str, Any] = {
                "index": name,
                "params": BUILD.get(name, {}) or "defaults",
                "rows": ds.rows,
                "resident MiB (nbytes)": index.nbytes / 2**20,
                "on disk MiB": _disk_bytes(tmp / name) / 2**20,
                "raw vectors MiB": raw_mib,
                "build s": build_s,
                "faiss MiB": None,
            }
            if name == "IVF_PQ":
                p = BUILD[name]
                ref = faiss.IndexIVFPQ(
                    faiss.IndexFlatL2(ds.dim), ds.dim, p["nlist"], p["m"], p["nbits"]
                )
                ref.train(ds.vectors)
                ref.add(ds.vectors)
                row["faiss MiB"] = faiss.serialize_index(ref).nbytes / 2**20
            rows.append(row)
            print(row, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report.write(
        f"index-memory-{ds.name}",
        rows,
        [
            "index",
            "params",
            "rows",
            "resident MiB (nbytes)",
            "on disk MiB",
            "raw vectors MiB",
            "build s",
            "faiss MiB",
        ],
        [
            "resident = the index's own `nbytes` (what stays in memory once loaded);"
            " on disk = its saved files",
            "DISKANN keeps the graph and PQ codes resident; full vectors stay on disk",
            "faiss MiB = the same IVF_PQ built with FAISS directly, serialized (the floor)",
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
