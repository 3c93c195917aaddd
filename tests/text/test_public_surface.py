"""The text layer's public surface is explicit."""

from __future__ import annotations

import elanus.text as text


def test_every_exported_name_exists() -> None:
    for name in text.__all__:
        assert hasattr(text, name), name


def test_exported_names() -> None:
    assert set(text.__all__) >= {
        "create_analyzer",
        "run_analyzer",
        "BM25Stats",
        "bm25_scores",
        "MatchIndex",
        "RRFRanker",
        "WeightedRanker",
        "DecayRanker",
        "create_reranker",
        "create_embedding_provider",
    }
