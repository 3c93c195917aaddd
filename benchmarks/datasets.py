"""Benchmark data: fixed-seed synthetic clusters and an offline real-text embedding set.

Everything expensive (vectors, ground truth) is computed once and cached under
``benchmarks/.cache``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("ELANUS_BENCH_CACHE") or Path(__file__).resolve().parent / ".cache")

# Selectivities of the integer filter column: `sel < t` keeps this share of rows.
SELECTIVITIES = (1.0, 0.5, 0.1, 0.01, 0.001)
CATEGORIES = ("red", "green", "blue", "amber", "violet")


@dataclass(frozen=True)
class Dataset:
    name: str
    vectors: np.ndarray  # (n, d) float32
    queries: np.ndarray  # (nq, d) float32
    sel: np.ndarray  # int64 in [0, 1_000_000): `sel < s*1e6` keeps share s
    category: list[str]
    metric: str = "L2"

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def rows(self) -> int:
        return int(self.vectors.shape[0])

    def filter_expr(self, share: float) -> str:
        return f"sel < {int(share * 1_000_000)}" if share < 1.0 else ""

    def filter_mask(self, share: float) -> np.ndarray:
        return self.sel < int(share * 1_000_000)


def clustered(rows: int, dim: int = 128, queries: int = 200, seed: int = 7) -> Dataset:
    """A Gaussian mixture: 256 centres, unit spread, queries drawn from the same mixture."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(256, dim)).astype(np.float32)

    def draw(n: int) -> np.ndarray:
        labels = rng.integers(0, len(centres), size=n)
        return (centres[labels] + rng.normal(size=(n, dim))).astype(np.float32)

    vectors = draw(rows)
    qs = draw(queries)
    sel = (
        rng.permutation(1_000_000)[:rows] if rows <= 1_000_000 else rng.integers(0, 1_000_000, rows)
    )
    cats = [CATEGORIES[i] for i in rng.integers(0, len(CATEGORIES), size=rows)]
    return Dataset(f"clustered-{rows}x{dim}", vectors, qs, sel.astype(np.int64), cats)


def _sentences(limit: int) -> list[str]:
    """English sentences from a corpus that ships with Python itself (pydoc topics)."""
    from pydoc_data.topics import topics

    text = " ".join(topics.values())
    parts = re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", text))
    seen: dict[str, None] = {}
    for part in parts:
        if 30 <= len(part) <= 300:
            seen.setdefault(part, None)
    return list(seen)[:limit]


def real_text(limit: int = 20_000, queries: int = 200, seed: int = 7) -> Dataset:
    """Sentences embedded with the offline MiniLM model (384-d), cached after the first build."""
    path = CACHE / f"minilm-{limit}.npz"
    sentences = _sentences(limit + queries)
    if not path.exists():
        # The same offline MiniLM provider Elanus's TEXT_EMBEDDING function uses.
        from elanus.text import create_embedding_provider

        provider = create_embedding_provider({"provider": "local"})
        emb = provider.embed_documents(sentences)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(path, emb=np.asarray(emb, dtype=np.float32))
    emb = np.load(path)["emb"]
    rng = np.random.default_rng(seed)
    n = len(emb) - queries
    sel = rng.integers(0, 1_000_000, n).astype(np.int64)
    cats = [CATEGORIES[i] for i in rng.integers(0, len(CATEGORIES), size=n)]
    return Dataset(f"minilm-{n}x384", emb[:n], emb[n:], sel, cats, metric="IP")


def ground_truth(ds: Dataset, k: int = 100, share: float = 1.0) -> np.ndarray:
    """Exact top-k row ids per query (restricted to rows passing the filter), cached."""
    key = hashlib.sha1(ds.vectors[:: max(1, ds.rows // 1000)].tobytes()).hexdigest()[:12]
    path = CACHE / f"gt-{ds.name}-{key}-{k}-{share}.npy"
    if path.exists():
        return np.load(path)
    import faiss

    mask = ds.filter_mask(share)
    rows = np.flatnonzero(mask)
    index = faiss.IndexFlatIP(ds.dim) if ds.metric == "IP" else faiss.IndexFlatL2(ds.dim)
    index.add(ds.vectors[rows])
    _, ids = index.search(ds.queries, min(k, len(rows)))
    gt = np.where(ids >= 0, rows[np.clip(ids, 0, None)], -1)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, gt)
    return gt


def recall_at(found: list[list[int]], gt: np.ndarray, k: int) -> float:
    hits = 0
    total = 0
    for got, truth in zip(found, gt):
        want = {int(t) for t in truth[:k] if t >= 0}
        hits += len(want & {int(g) for g in got[:k]})
        total += len(want)
    return hits / total if total else 1.0


def describe(ds: Dataset) -> str:
    return json.dumps({"name": ds.name, "rows": ds.rows, "dim": ds.dim, "metric": ds.metric})
