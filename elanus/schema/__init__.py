"""Data types, field and collection schemas, functions, validation. Knows nothing else."""

from elanus.schema.collection import CollectionSchema
from elanus.schema.field import DYNAMIC_FIELD_NAME, FieldSchema, FunctionSchema
from elanus.schema.types import DataType, FunctionType

__all__ = [
    "DYNAMIC_FIELD_NAME",
    "CollectionSchema",
    "DataType",
    "FieldSchema",
    "FunctionSchema",
    "FunctionType",
]
