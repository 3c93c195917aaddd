"""Fixtures for the vector index tests: small clustered sets, built once."""

from __future__ import annotations

from collections.abc import Iterator

import faiss
import numpy as np
import pytest
from vector_testdata import DIM, NQ, N, clustered


@pytest.fixture(scope="session", autouse=True)
def _one_faiss_thread() -> Iterator[None]:
    # The test machine is small and shared: OpenMP spinning across busy cores
    # makes builds many times slower without changing any result.
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(previous)


@pytest.fixture(scope="session")
def float_data() -> tuple[np.ndarray, np.ndarray]:
    return clustered(N, DIM, NQ)
