"""The embedded ``MilvusClient``: pymilvus's client, over a local data directory."""

from __future__ import annotations

from typing import Any

from elanus.client import engines
from elanus.client.admin import AdminMethods
from elanus.client.data import DataMethods
from elanus.client.guard import guard_methods, log_in
from elanus.client.security_methods import SecurityMethods
from elanus.engine.api import DEFAULT_DATABASE, EngineAPI
from elanus.errors import ElanusError

__all__ = ["MilvusClient"]


@guard_methods
class MilvusClient(AdminMethods, DataMethods, SecurityMethods):
    """Same methods, arguments, defaults and result shapes as ``pymilvus.MilvusClient``.

    ``uri`` is a local path (``"./milvus.db"``): the data directory, created when
    missing. Clients on one path in one process share one engine; the engine is
    closed when the last of them closes. Errors are ``elanus.errors`` classes,
    each with Milvus's ``code`` and ``message``. When the data directory has
    authorization on, ``user``/``password`` (or ``token="user:password"``) must
    name one of its users, and every method needs the privilege the server would
    ask for (docs/security.md).
    """

    def __init__(
        self,
        uri: str = "./milvus.db",
        user: str = "",
        password: str = "",
        db_name: str = "",
        token: str = "",
        timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        self._path = engines.data_dir_of(uri)
        self._closed = False
        self._engine: EngineAPI = engines.acquire(self._path, kwargs.pop("engine_options", None))
        self._db = DEFAULT_DATABASE
        self._user: str | None = None
        try:
            self._user = log_in(self._engine, user, password, token)
            if db_name:
                self.use_database(db_name)
        except ElanusError:
            self.close()
            raise

    def _resolve_alias(self, db: str, name: str) -> str:
        """The collection an alias names (any other name as it is), for privilege checks."""
        try:
            return self._engine.describe_alias(db, name)
        except ElanusError:
            return name

    @property
    def data_dir(self) -> str:
        return self._path

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        engines.release(self._path)

    def __enter__(self) -> MilvusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run_analyzer(
        self,
        texts: str | list[str],
        analyzer_params: Any = None,
        with_hash: bool = False,
        with_detail: bool = False,
        collection_name: str | None = None,
        field_name: str | None = None,
        analyzer_names: str | list[str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        return self._engine.run_analyzer(
            texts,
            analyzer_params,
            with_detail=with_detail,
            with_hash=with_hash,
            db=self._db,
            collection=collection_name,
            field=field_name,
            analyzer_names=analyzer_names,
        )
