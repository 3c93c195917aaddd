"""Function outputs computed when a batch arrives: BM25 and TEXT_EMBEDDING.

A schema's functions turn an input text field into an output vector field. Users
never supply outputs (``elanus.schema.columns`` rejects them with Milvus's
message); the write path calls :func:`apply_functions` on the normalised batch,
before it is stamped and logged, so the WAL and the segments hold the outputs and
recovery never re-runs an analyzer or a model.

* BM25: the input text is analysed with the field's ``analyzer_params`` (or, with
  ``multi_analyzer_params``, the analyzer chosen per row by the ``by_field``
  value) into a row of term frequencies keyed by term hash (``elanus.text.bm25``).
  Null or empty text gives an empty row.
* TEXT_EMBEDDING: the provider named by the function's params embeds the text
  (``elanus.text.embedding``); a missing optional extra is a clear error.

Analyzers and providers are cached per configuration: building one (stop lists,
stemmers, jieba, a model) costs far more than a batch.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from elanus.errors import DataError
from elanus.schema import CollectionSchema, FieldSchema, FunctionSchema, FunctionType
from elanus.schema.types import dense_vector_numpy_dtype
from elanus.text import (
    Analyzer,
    EmbeddingProvider,
    MultiAnalyzer,
    bm25_doc_vectors,
    create_analyzer,
    create_embedding_provider,
    create_multi_analyzer,
)

__all__ = [
    "FieldAnalyzer",
    "apply_functions",
    "embedding_provider",
    "field_analyzer",
    "function_for_output",
    "query_analyzer",
]

_cache_lock = threading.Lock()
_analyzers: dict[str, Analyzer | MultiAnalyzer] = {}
_providers: dict[str, EmbeddingProvider] = {}

# What analyses one text field: a single analyzer, or one chosen per row.
FieldAnalyzer = Analyzer | MultiAnalyzer


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def field_analyzer(field: FieldSchema) -> FieldAnalyzer:
    """The (cached) analyzer of a text field: multi-analyzer params win, as in Milvus."""
    multi = field.params.get("multi_analyzer_params")
    if isinstance(multi, str) and multi.strip():
        multi = json.loads(multi)
    key = _key({"multi": multi} if multi else {"single": field.analyzer_params or {}})
    with _cache_lock:
        found = _analyzers.get(key)
    if found is not None:
        return found
    built: FieldAnalyzer = (
        create_multi_analyzer(multi) if multi else create_analyzer(field.analyzer_params)
    )
    with _cache_lock:
        return _analyzers.setdefault(key, built)


def query_analyzer(field: FieldSchema, analyzer_name: str | None = None) -> Analyzer:
    """The analyzer query text goes through: the field's, or for a multi-analyzer
    field the one ``analyzer_name`` picks (``default`` when none is given)."""
    found = field_analyzer(field)
    if isinstance(found, MultiAnalyzer):
        return found.select(analyzer_name)
    return found


def embedding_provider(function: FunctionSchema) -> EmbeddingProvider:
    key = _key(dict(function.params))
    with _cache_lock:
        found = _providers.get(key)
    if found is not None:
        return found
    built = create_embedding_provider(function.params)
    with _cache_lock:
        return _providers.setdefault(key, built)


def function_for_output(schema: CollectionSchema, output: str) -> FunctionSchema | None:
    for fn in schema.functions:
        if output in fn.output_field_names:
            return fn
    return None


def _texts(column: Any) -> list[str | None]:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if isinstance(column, pa.Array):
        return column.to_pylist()  # type: ignore[no-any-return]
    return [None if v is None else str(v) for v in column]


def _bm25_column(
    schema: CollectionSchema, fn: FunctionSchema, columns: Mapping[str, Any], n: int
) -> sp.csr_array:
    source = schema.field(fn.input_field_names[0])
    analyzer = field_analyzer(source)
    texts = _texts(columns[source.name])
    if isinstance(analyzer, MultiAnalyzer):
        by = columns.get(analyzer.by_field)
        names = _texts(by) if by is not None else [None] * n
        token_lists = [
            [t.text for t in analyzer.tokenize(text, name)] if text else []
            for text, name in zip(texts, names, strict=True)
        ]
    else:
        token_lists = [[t.text for t in analyzer.tokenize(text)] if text else [] for text in texts]
    return bm25_doc_vectors(token_lists)


def _embedding_column(
    schema: CollectionSchema, fn: FunctionSchema, columns: Mapping[str, Any], n: int
) -> np.ndarray:
    source = fn.input_field_names[0]
    target = schema.field(fn.output_field_names[0])
    texts = _texts(columns[source])
    if any(t is None for t in texts):
        raise DataError(f"text embedding function {fn.name} got a null value in field {source}")
    vectors = np.asarray(embedding_provider(fn).embed_documents([str(t) for t in texts]))
    if vectors.ndim != 2 or vectors.shape != (n, target.dim):
        raise DataError(
            f"text embedding function {fn.name} produced vectors of dim "
            f"{vectors.shape[-1] if vectors.ndim == 2 else '?'}, field {target.name} has dim {target.dim}"
        )
    return np.ascontiguousarray(vectors, dtype=dense_vector_numpy_dtype(target.dtype))


def apply_functions(
    schema: CollectionSchema, columns: dict[str, Any], num_rows: int
) -> dict[str, Any]:
    """``columns`` with every function output added (a new dict; inputs untouched).

    Functions whose input field is absent (a partial upsert before the stored row
    is merged in) are skipped; the caller runs this again on the merged batch.
    """
    if not schema.functions:
        return columns
    out = dict(columns)
    for fn in schema.functions:
        if not fn.input_field_names or fn.input_field_names[0] not in out:
            continue
        target = fn.output_field_names[0]
        if fn.function_type == FunctionType.BM25:
            out[target] = _bm25_column(schema, fn, out, num_rows)
        elif fn.function_type == FunctionType.TEXTEMBEDDING:
            out[target] = _embedding_column(schema, fn, out, num_rows)
    return out
