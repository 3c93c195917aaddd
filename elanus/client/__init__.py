"""The embedded front door: ``MilvusClient`` over a local data directory."""

from elanus.client.milvus_client import MilvusClient

__all__ = ["MilvusClient"]
