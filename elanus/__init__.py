"""Elanus: a vector database that speaks Milvus.

``from elanus import MilvusClient, DataType, ...`` gives the same names pymilvus
users import; the schema, index and ranker builders are pymilvus's own classes,
so code written for Milvus runs unchanged against the embedded client.
"""

from pymilvus import (
    AnnSearchRequest,
    CollectionSchema,
    DataType,
    FieldSchema,
    Function,
    FunctionType,
    IndexType,
    RRFRanker,
    WeightedRanker,
)
from pymilvus.milvus_client.index import IndexParams

from elanus.client import MilvusClient
from elanus.errors import ElanusError

__version__ = "0.1.0"

# What pymilvus users catch; every Elanus error carries Milvus's ``code`` and ``message``.
MilvusException = ElanusError

__all__ = [
    "AnnSearchRequest",
    "CollectionSchema",
    "DataType",
    "ElanusError",
    "FieldSchema",
    "Function",
    "FunctionType",
    "IndexParams",
    "IndexType",
    "MilvusClient",
    "MilvusException",
    "RRFRanker",
    "WeightedRanker",
    "__version__",
]
