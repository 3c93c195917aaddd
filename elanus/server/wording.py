"""Where Milvus's proxy words things its own way: names checked before any lookup,
and the same error worded differently depending on the call that met it.

The engine raises one error per kind; these rules turn it into the text a
pymilvus user sees from Milvus for that call.
"""

from __future__ import annotations

import re
from typing import Any

from elanus.errors import (
    CollectionNotFound,
    ExpressionError,
    ParameterError,
    PartitionNotFound,
)
from elanus.schema.validate import validate_name

__all__ = ["check_names", "reword"]

# RPCs whose collection_name is not checked as a name (search and index creation
# look the collection up first and report "not found"): Milvus checks it on every
# other request before the lookup, so a malformed name reports the naming rule.
_UNCHECKED_NAMES = frozenset(
    # OperatePrivilegeV2's collection_name may be "*" (every collection).
    {"CreateCollection", "ListAliases", "Search", "HybridSearch", "CreateIndex", "OperatePrivilegeV2"}
)
_DATABASE_RPCS = frozenset({"CreateDatabase", "DropDatabase"})
_CANT_FIND_RPCS = frozenset({"DescribeCollection", "Upsert"})
_PLANNED_RPCS = frozenset({"Search", "Query", "HybridSearch"})
# Load and release say "partition not found[partition=X]", as the engine does.
_PARTITION_NAME_RPCS = frozenset({"Search", "Query", "HybridSearch"})


def check_names(name: str, request: Any) -> None:
    """Refuse malformed collection, partition, alias or database names the way Milvus's
    proxy does, before anything is looked up."""
    if name in _UNCHECKED_NAMES:
        return
    collection = getattr(request, "collection_name", "")
    if collection and isinstance(collection, str):
        validate_name("collection", collection)
    partition = getattr(request, "partition_name", "")
    if partition and isinstance(partition, str):
        validate_name("partition", partition)
    alias = getattr(request, "alias", "")
    if alias and isinstance(alias, str):
        validate_name("alias", alias)
    if name in _DATABASE_RPCS:
        validate_name("database", request.db_name)


def reword(exc: Exception, name: str, request: Any, db: str) -> Exception:
    """``exc`` as Milvus words it for the RPC ``name``."""
    if isinstance(exc, ExpressionError) and name in _PLANNED_RPCS:
        # Milvus reports a bad filter as a failure to plan the request, naming the
        # expression first: "cannot parse expression: <expr>, error: <why>".
        if not exc.expression:
            return ExpressionError(f"failed to create query plan: {exc}")
        why = str(exc).removeprefix("cannot parse expression: ")
        return ExpressionError(
            f"failed to create query plan: cannot parse expression: {exc.expression}, error: {why}"
        )
    if (
        isinstance(exc, ParameterError)
        and name in _PLANNED_RPCS
        and str(exc).startswith("failed to get field schema by name")
    ):
        return ParameterError(f"failed to create query plan: {exc}")
    if isinstance(exc, PartitionNotFound) and name in _PARTITION_NAME_RPCS:
        # These calls resolve partitions by name first, and say so.
        match = re.search(r"\[partition=([^\]]*)\]", str(exc))
        if match:
            return PartitionNotFound(f"partition name {match.group(1)} not found")
    if isinstance(exc, CollectionNotFound) and name in _CANT_FIND_RPCS:
        return CollectionNotFound(
            f"can't find collection[database={db}][collection={request.collection_name}]"
        )
    return exc
