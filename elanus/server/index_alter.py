"""What Milvus's proxy checks before an index's properties change, for the gRPC
``AlterIndex`` and the REST ``indexes/alter_properties`` / ``drop_properties``."""

from __future__ import annotations

from collections.abc import Iterable

from elanus.engine.api import EngineAPI, LoadState
from elanus.errors import ElanusError, ParameterError

__all__ = ["CollectionLoadedError", "check_index_alter"]

# The index properties Milvus lets a user set or drop.
_CONFIGURABLE = frozenset({"mmap.enabled", "indexoffsetcache.enabled", "warmup"})


class CollectionLoadedError(ElanusError):
    """Milvus's ``ErrCollectionLoaded``."""

    code = 104


def check_index_alter(engine: EngineAPI, db: str, collection: str, keys: Iterable[str]) -> None:
    """Only configurable keys, and only while the collection is released."""
    for key in keys:
        if key not in _CONFIGURABLE:
            raise ParameterError(f"{key} is not a configable index property")
    if engine.get_load_state(db, collection) == LoadState.LOADED:
        raise CollectionLoadedError(
            "can't alter index on loaded collection, please release the collection first: "
            f"collection already loaded[collection={collection}]"
        )
