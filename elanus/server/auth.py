"""Authentication and authorisation at the server's doors, from one table.

``Doorkeeper.admit`` is called once per request by the gRPC ``@rpc`` wrapper and
by the REST middleware (``rest_auth``): when the data directory has authorization enabled it checks
the credential (``elanus.security.authn``) and then the privilege the request
needs (``elanus.security.privileges``: RPC_PRIVILEGES, REST_PRIVILEGES naming the
RPC each endpoint stands for). The engine is then called as for anyone: it never
sees a credential. With authorization off every token is accepted and ignored.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Iterable
from typing import Any

from elanus.engine.api import EngineAPI
from elanus.errors import AuthenticationError, ElanusError
from elanus.security.authn import AUTH_FAILURE, Authenticator
from elanus.security.authz import authorize, visible_in
from elanus.security.model import ROOT_USER
from elanus.security.passwords import verify_password

__all__ = [
    "DEFAULT_ROOT_PASSWORD",
    "Doorkeeper",
    "prepare_authorization",
    "resolver",
    "token_from_metadata",
]

log = logging.getLogger("elanus.server")

DEFAULT_ROOT_PASSWORD = "Milvus"
# Listings filtered to what the caller may see, with the field holding the names.
_LISTINGS = {"ListDatabases": "db_names", "ShowCollections": "collection_names"}
# RPCs whose success the audit log records, with the request field naming the object.
_AUDITED_DROPS = {"DropDatabase": "db_name", "DropCollection": "collection_name"}


def prepare_authorization(engine: EngineAPI, enabled: bool, root_password: str) -> bool:
    """Turn authorization on when configured (it stays on for a directory that had
    it); warn loudly while root still has Milvus's default password. Returns
    whether requests will be checked."""
    if enabled:
        engine.enable_authorization(root_password)
    state = engine.security_state()
    if not state.auth_enabled:
        return False
    root_hash = state.users.get(ROOT_USER, "")
    if root_hash and verify_password(root_hash, DEFAULT_ROOT_PASSWORD):
        log.warning(
            "SECURITY WARNING: authorization is on but user root still has the default "
            "password; change it (pymilvus update_password) before exposing this server"
        )
    return True


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def token_from_metadata(metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    """The ``user:password`` pymilvus sends base64-encoded under ``authorization``."""
    for key, value in metadata or ():
        if key.lower() == "authorization" and value:
            raw = _text(value)
            try:
                return base64.b64decode(raw, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise AuthenticationError(
                    f"{AUTH_FAILURE} (the authorization header is not base64): not authenticated"
                ) from None
    return None


def resolver(engine: EngineAPI) -> Callable[[str, str], str]:
    """Alias to collection name in a database; any other name is left as it is."""

    def resolve(db: str, name: str) -> str:
        try:
            return engine.describe_alias(db, name)
        except ElanusError:
            return name

    return resolve


class Doorkeeper:
    def __init__(self) -> None:
        self.authenticator = Authenticator()

    def admit(
        self,
        engine: EngineAPI | None,
        rpc: str,
        request: Any,
        token_of: Callable[[], str | None],
        db: str,
    ) -> str:
        """The caller's user name ("" with authorization off), or
        ``AuthenticationError`` / ``PermissionDenied``."""
        if engine is None:
            return ""
        state = engine.security_state()
        if not state.auth_enabled:
            return ""
        token: str | None = None
        try:
            token = token_of()
            user = self.authenticator.authenticate(state, token)
        except AuthenticationError:
            claimed = (token or "").partition(":")[0]
            engine.audit("login_failure", claimed, rpc=rpc)
            raise
        authorize(state, user, rpc, request, db, resolver(engine))
        return user

    def filter_reply(self, engine: EngineAPI, rpc: str, reply: Any, user: str, db: str) -> Any:
        """Listings show only what the caller may see, as Milvus lists them."""
        if not user or rpc not in _LISTINGS:
            return reply
        keep = visible_in(engine.security_state(), user, rpc, db)
        if keep is None:
            return reply
        names_field = _LISTINGS[rpc]
        names = list(getattr(reply, names_field))
        kept = [i for i, name in enumerate(names) if name in keep]
        for field in reply.DESCRIPTOR.fields:
            values = getattr(reply, field.name)
            if field.name == "status" or not hasattr(values, "__len__"):
                continue
            if isinstance(values, str | bytes) or len(values) != len(names):
                continue
            chosen = [values[i] for i in kept]
            del values[:]
            values.extend(chosen)
        return reply

    @staticmethod
    def audited(rpc: str) -> bool:
        """Whether a success of ``rpc`` is recorded in the audit log."""
        return rpc in _AUDITED_DROPS

    def audit_success(self, engine: EngineAPI, rpc: str, request: Any, user: str, db: str) -> None:
        """Record a succeeded drop; ``request`` is the RPC's message or, from REST,
        a dict of the same field names."""
        target = _AUDITED_DROPS.get(rpc)
        if target is not None:
            if isinstance(request, dict):
                name = request.get(target, "")
            else:
                name = getattr(request, target, "")
            engine.audit(rpc, user, database=db, name=_text(name or ""))
