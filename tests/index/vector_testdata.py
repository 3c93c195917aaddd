"""Data and measures shared by the vector index tests."""

from __future__ import annotations

import numpy as np

from elanus.schema.field import FieldSchema
from elanus.schema.types import DataType

N, DIM, NQ = 5000, 32, 40


def clustered(n: int, dim: int, nq: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((64, dim)).astype(np.float32) * 4
    data = centers[rng.integers(0, 64, n)] + rng.standard_normal((n, dim)).astype(np.float32)
    queries = centers[rng.integers(0, 64, nq)] + rng.standard_normal((nq, dim)).astype(np.float32)
    return data.astype(np.float32), queries.astype(np.float32)


def vector_field(dtype: DataType, dim: int) -> FieldSchema:
    return FieldSchema("vec", dtype, params={"dim": dim})


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of each query's true neighbours found (ignoring empty slots)."""
    scores = []
    for got, want in zip(found, truth):
        want_set = set(want[want >= 0].tolist())
        if want_set:
            scores.append(len(want_set & set(got[got >= 0].tolist())) / len(want_set))
    return float(np.mean(scores)) if scores else 1.0


def mask_with(n: int, fraction: float, seed: int = 3) -> np.ndarray:
    """A row mask with exactly max(1, fraction * n) rows passing."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, max(1, int(round(fraction * n))), replace=False)] = True
    return mask
