"""Text layer: analyzers, BM25, text/phrase match, rerankers, embedding providers.

Pure functions and values over text and hit lists; the engine wires them into
collections. Imports only ``elanus.errors``/``elanus.schema`` and third-party libs.
"""

from elanus.text.analyze import AnalyzeResult, run_analyzer
from elanus.text.analyzer import (
    Analyzer,
    MultiAnalyzer,
    create_analyzer,
    create_multi_analyzer,
    normalize_analyzer_params,
)
from elanus.text.bm25 import (
    DEFAULT_BM25_B,
    DEFAULT_BM25_K1,
    BM25Stats,
    bm25_doc_vectors,
    bm25_doc_weights,
    bm25_query_weights,
    bm25_scores,
    term_hash,
    term_hashes,
    validate_bm25_params,
)
from elanus.text.embedding import EmbeddingProvider, create_embedding_provider
from elanus.text.match_index import MatchIndex
from elanus.text.rerank import (
    BoostFunction,
    DecayRanker,
    RankedHits,
    Reranker,
    RRFRanker,
    SearchHits,
    WeightedRanker,
    apply_boost,
    boost_function_from_params,
    create_reranker,
)
from elanus.text.rerank_model import (
    LocalRerankProvider,
    RerankProvider,
    create_rerank_provider,
    model_rerank_queries,
    register_rerank_provider,
)
from elanus.text.tokens import Token

__all__ = [
    "DEFAULT_BM25_B",
    "DEFAULT_BM25_K1",
    "AnalyzeResult",
    "Analyzer",
    "BM25Stats",
    "BoostFunction",
    "DecayRanker",
    "EmbeddingProvider",
    "LocalRerankProvider",
    "MatchIndex",
    "MultiAnalyzer",
    "RRFRanker",
    "RankedHits",
    "RerankProvider",
    "Reranker",
    "SearchHits",
    "Token",
    "WeightedRanker",
    "apply_boost",
    "bm25_doc_vectors",
    "bm25_doc_weights",
    "bm25_query_weights",
    "bm25_scores",
    "boost_function_from_params",
    "create_analyzer",
    "create_embedding_provider",
    "create_multi_analyzer",
    "create_rerank_provider",
    "create_reranker",
    "model_rerank_queries",
    "normalize_analyzer_params",
    "register_rerank_provider",
    "run_analyzer",
    "term_hash",
    "term_hashes",
    "validate_bm25_params",
]
