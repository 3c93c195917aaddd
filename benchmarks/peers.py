"""The systems compared, behind one small interface.

Every peer gets the same rows, the same index type and parameters and the same
queries; how each is configured is in ``describe()`` and lands in the report.
Elanus and milvus-lite are both driven through the MilvusClient API (embedded,
and through their own gRPC servers via pymilvus); raw FAISS is the ceiling.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.datasets import Dataset

COLLECTION = "bench"


@dataclass(frozen=True)
class IndexConfig:
    index_type: str
    build: dict[str, Any]
    sweep_key: str | None  # the search parameter swept for the recall/QPS curve
    sweep: tuple[int, ...] = ()

    def search_params(self, value: int | None) -> dict[str, Any]:
        return {} if self.sweep_key is None or value is None else {self.sweep_key: value}


INDEXES = {
    "FLAT": IndexConfig("FLAT", {}, None, (0,)),
    "HNSW": IndexConfig("HNSW", {"M": 16, "efConstruction": 200}, "ef", (16, 32, 64, 128, 256)),
    "IVF_FLAT": IndexConfig("IVF_FLAT", {"nlist": 1024}, "nprobe", (1, 4, 16, 64)),
    "IVF_PQ": IndexConfig("IVF_PQ", {"nlist": 1024, "m": 16, "nbits": 8}, "nprobe", (4, 16, 64)),
}


@dataclass
class LoadStats:
    insert_s: float = 0.0
    flush_s: float = 0.0
    index_s: float = 0.0
    disk_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Peer:
    name = "peer"

    def describe(self) -> str:
        return self.name

    def load(self, ds: Dataset, cfg: IndexConfig, batch: int) -> LoadStats:
        raise NotImplementedError

    def search(
        self, queries: np.ndarray, k: int, cfg: IndexConfig, value: int | None, filter: str = ""
    ) -> list[list[int]]:
        raise NotImplementedError

    def count(self, filter: str) -> int:
        raise NotImplementedError

    def fetch(self, filter: str, limit: int) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass


class FaissPeer(Peer):
    """Raw FAISS in-process with the same index and parameters: the ceiling."""

    name = "faiss"

    def __init__(self) -> None:
        import faiss

        self.faiss = faiss
        self.index: Any = None
        self.sel: np.ndarray | None = None

    def describe(self) -> str:
        return f"faiss-cpu {self.faiss.__version__}, one OpenMP thread for single queries"

    def load(self, ds: Dataset, cfg: IndexConfig, batch: int) -> LoadStats:
        faiss = self.faiss
        d = ds.dim
        metric = faiss.METRIC_INNER_PRODUCT if ds.metric == "IP" else faiss.METRIC_L2
        t0 = time.perf_counter()
        if cfg.index_type == "FLAT":
            index = faiss.IndexFlat(d, metric)
        elif cfg.index_type == "HNSW":
            index = faiss.IndexHNSWFlat(d, cfg.build["M"], metric)
            index.hnsw.efConstruction = cfg.build["efConstruction"]
        else:
            nlist = min(cfg.build["nlist"], max(1, ds.rows // 39))
            quantizer = faiss.IndexFlat(d, metric)
            if cfg.index_type == "IVF_FLAT":
                index = faiss.IndexIVFFlat(quantizer, d, nlist, metric)
            else:
                index = faiss.IndexIVFPQ(
                    quantizer, d, nlist, cfg.build["m"], cfg.build["nbits"], metric
                )
            index.train(ds.vectors)
        index.add(ds.vectors)
        self.index = index
        self.sel = ds.sel
        return LoadStats(index_s=time.perf_counter() - t0)

    def search(
        self, queries: np.ndarray, k: int, cfg: IndexConfig, value: int | None, filter: str = ""
    ) -> list[list[int]]:
        faiss = self.faiss
        params: Any = None
        kwargs: dict[str, Any] = {}
        if filter:
            assert self.sel is not None
            threshold = int(filter.split("<")[1])
            bits = np.packbits(self.sel < threshold, bitorder="little")
            kwargs["sel"] = faiss.IDSelectorBitmap(len(self.sel), faiss.swig_ptr(bits))
            self._keep = bits  # the selector points into this buffer
        if cfg.index_type == "HNSW":
            params = faiss.SearchParametersHNSW(efSearch=max(value or 16, k), **kwargs)
        elif cfg.index_type in ("IVF_FLAT", "IVF_PQ"):
            params = faiss.SearchParametersIVF(nprobe=value or 1, **kwargs)
        elif kwargs:
            params = faiss.SearchParameters(**kwargs)
        # One OpenMP thread for a lone query, as Elanus does: FAISS splits its
        # parallel loops over queries, so more threads only add wake-ups.
        previous = faiss.omp_get_max_threads()
        if len(queries) == 1:
            faiss.omp_set_num_threads(1)
        try:
            _, ids = self.index.search(queries, k, params=params)
        finally:
            faiss.omp_set_num_threads(previous)
        return [[int(i) for i in row if i >= 0] for row in ids]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server_process(
    argv: list[str], port: int, timeout: float = 120.0
) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"{argv[0]} exited: {err[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            break
        time.sleep(0.2)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


class MilvusApiPeer(Peer):
    """Anything that speaks the MilvusClient API: Elanus or milvus-lite, embedded or served."""

    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind  # elanus-embedded | elanus-server | lite-embedded | lite-server
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        self.metric = "L2"
        self._stack = contextlib.ExitStack()
        self.client: Any = self._connect()

    def _connect(self) -> Any:
        if self.kind == "elanus-embedded":
            from elanus import MilvusClient as ElanusClient

            return ElanusClient(str(self.tmp / "data"))
        from pymilvus import MilvusClient

        if self.kind == "lite-embedded":
            return MilvusClient(str(self.tmp / "lite.db"))
        port = free_port()
        if self.kind == "elanus-server":
            argv = [
                sys.executable,
                "-m",
                "elanus.cli",
                "serve",
                "--data-dir",
                str(self.tmp / "data"),
                "--port",
                str(port),
                "--http-port",
                str(free_port()),
            ]
        else:
            argv = [
                sys.executable,
                "-m",
                "milvus_lite",
                "server",
                "--data-dir",
                str(self.tmp / "data"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
        self._stack.enter_context(server_process(argv, port))
        return MilvusClient(uri=f"http://127.0.0.1:{port}")

    def describe(self) -> str:
        import pymilvus

        return f"{self.kind} via MilvusClient (pymilvus {pymilvus.__version__})"

    def load(self, ds: Dataset, cfg: IndexConfig, batch: int) -> LoadStats:
        from pymilvus import DataType, MilvusClient

        c = self.client
        self.metric = ds.metric
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=ds.dim)
        schema.add_field("sel", DataType.INT64)
        schema.add_field("category", DataType.VARCHAR, max_length=16)
        c.create_collection(COLLECTION, schema=schema)
        stats = LoadStats()
        t0 = time.perf_counter()
        for start in range(0, ds.rows, batch):
            end = min(start + batch, ds.rows)
            rows = [
                {"id": i, "vector": v, "sel": int(s), "category": cat}
                for i, v, s, cat in zip(
                    range(start, end),
                    ds.vectors[start:end],
                    ds.sel[start:end],
                    ds.category[start:end],
                )
            ]
            c.insert(COLLECTION, rows)
        stats.insert_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        c.flush(COLLECTION)
        stats.flush_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        params = c.prepare_index_params()
        params.add_index(
            "vector", index_type=cfg.index_type, metric_type=ds.metric, params=cfg.build
        )
        try:
            c.create_index(COLLECTION, params)
        except Exception as exc:
            # milvus-lite builds inside the call; on a long build pymilvus may retry
            # after the connection is reset and meet the index the first call made.
            if "index already exists" not in str(exc):
                raise
        self._wait_index(ds.rows)
        c.load_collection(COLLECTION)
        stats.index_s = time.perf_counter() - t0
        stats.disk_bytes = sum(p.stat().st_size for p in self.tmp.rglob("*") if p.is_file())
        return stats

    def _wait_index(self, rows: int, timeout: float = 1800) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            names = self.client.list_indexes(COLLECTION)
            info = self.client.describe_index(COLLECTION, names[0]) if names else {}
            pending = int(info.get("pending_index_rows", 0) or 0)
            state = str(info.get("state", "Finished"))
            if pending == 0 and state in ("Finished", "IndexState.Finished", "3", ""):
                return
            time.sleep(0.2)

    def search(
        self, queries: np.ndarray, k: int, cfg: IndexConfig, value: int | None, filter: str = ""
    ) -> list[list[int]]:
        params = {"metric_type": self.metric, "params": cfg.search_params(value)}
        res = self.client.search(
            COLLECTION,
            data=[q.tolist() for q in queries] if self.kind != "elanus-embedded" else queries,
            limit=k,
            filter=filter,
            search_params=params,
            anns_field="vector",
        )
        return [[int(hit["id"]) for hit in hits] for hits in res]

    def count(self, filter: str) -> int:
        res = self.client.query(COLLECTION, filter=filter or "id >= 0", output_fields=["count(*)"])
        return int(res[0]["count(*)"])

    def fetch(self, filter: str, limit: int) -> int:
        res = self.client.query(
            COLLECTION,
            filter=filter or "id >= 0",
            output_fields=["id", "sel", "category"],
            limit=limit,
        )
        return len(res)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        self._stack.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


PEER_KINDS: dict[str, Callable[[], Peer]] = {
    "faiss": FaissPeer,
    "elanus": lambda: MilvusApiPeer("elanus", "elanus-embedded"),
    "elanus-server": lambda: MilvusApiPeer("elanus-server", "elanus-server"),
    "milvus-lite": lambda: MilvusApiPeer("milvus-lite", "lite-embedded"),
    "milvus-lite-server": lambda: MilvusApiPeer("milvus-lite-server", "lite-server"),
}
