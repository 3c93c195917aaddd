"""server layer: the Milvus gRPC protocol over the engine (REST comes beside it)."""

from elanus.server.app import serve
from elanus.server.config import ServerConfig, load_config

__all__ = ["ServerConfig", "load_config", "serve"]
