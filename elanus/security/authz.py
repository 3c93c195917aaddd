"""Authorisation against the privilege table: does this caller hold what this
request needs? One function for every door (gRPC, REST, the embedded client)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from elanus.errors import PermissionDenied
from elanus.security.model import ADMIN_ROLE, PUBLIC_ROLE, ROOT_USER, RbacState
from elanus.security.privileges import ALL, ANY, CLUSTER_LEVEL, RPC_PRIVILEGES, Needs

__all__ = ["authorize", "object_names", "visible_collections", "visible_databases", "visible_in"]

DEFAULT_DATABASE = "default"
COLLECTION_GROUPS = frozenset({"CollectionReadOnly", "CollectionReadWrite", "CollectionAdmin"})
# What an RPC missing from the table needs: only root and admin pass.
_UNLISTED = Needs("Global", "All")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _field(request: Any, path: str) -> Any:
    value = request
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        if value is None:
            return None
    return value


def object_names(needs: Needs, request: Any) -> list[str]:
    """The names of the objects a request touches (``*`` for global requests)."""
    if needs.field is None:
        return [ANY]
    value = _field(request, needs.field)
    if value is None or value == "":
        return [ANY]
    if isinstance(value, str | bytes):
        return [_text(value)]
    return [_text(v) for v in value] or [ANY]


def authorize(
    state: RbacState,
    user: str,
    rpc: str,
    request: Any,
    db: str,
    resolve: Callable[[str, str], str] | None = None,
) -> None:
    """Return if ``user`` may make ``request`` (the RPC ``rpc``) in database ``db``;
    else raise ``PermissionDenied`` worded as Milvus words it. As in Milvus, users
    may always act on themselves (their own password, their own description) and
    read the grants of their own roles. ``resolve(db, name)`` turns a collection
    alias into the collection's name (as Milvus's resolveAliasForPrivilege does),
    so a grant on a collection covers requests naming it by an alias."""
    needs = RPC_PRIVILEGES.get(rpc, _UNLISTED)
    if needs is None or user == ROOT_USER:
        return
    db = db or DEFAULT_DATABASE
    if needs.privilege in CLUSTER_LEVEL:
        db = ANY
    if rpc == "RenameCollection" and (_field(request, "newDBName") or db) != db:
        db = ANY
    names = object_names(needs, request)
    if resolve is not None and needs.object_type == "Collection":
        names = [n if n == ANY else resolve(db, n) for n in names]
    if needs.object_type == "User" and names == [user]:
        return
    if rpc == "SelectGrant":
        role = _field(request, "entity.role.name")
        if role and role in (*state.roles_of(user), PUBLIC_ROLE):
            return
    if all(state.allows(user, needs.object_type, needs.privilege, n, db) for n in names):
        return
    raise PermissionDenied(
        f"Privilege{needs.privilege}: permission deny to {user} in the `{db}` database"
    )


def visible_in(state: RbacState, user: str, rpc: str, db: str) -> set[str] | None:
    """What a listing RPC (``ListDatabases`` or ``ShowCollections``) shows ``user``
    (``None``: everything, as for any other RPC)."""
    if rpc == "ListDatabases":
        return visible_databases(state, user)
    if rpc == "ShowCollections":
        return visible_collections(state, user, db)
    return None


def _listing_roles(state: RbacState, user: str) -> set[str] | None:
    """The roles whose grants decide what ``user`` sees listed; ``None`` where root
    or an admin sees everything."""
    if user == ROOT_USER:
        return None
    roles = set(state.roles_of(user))
    return None if ADMIN_ROLE in roles else roles


def visible_databases(state: RbacState, user: str) -> set[str] | None:
    """The databases ``user`` sees listed (``None``: all), as Milvus decides it:
    root and admin see all, others the databases their roles hold grants in
    (``public`` does not count)."""
    roles = _listing_roles(state, user)
    if roles is None:
        return None
    found: set[str] = set()
    for grant in state.grants:
        if grant.role in roles and grant.role != PUBLIC_ROLE:
            if grant.db_name == ANY:
                return None
            found.add(grant.db_name)
    return found


def visible_collections(state: RbacState, user: str, db: str) -> set[str] | None:
    """The collections of ``db`` that ``user`` sees listed (``None``: all): those
    its roles hold collection grants (or collection-level groups) on; ``All``
    on Global shows every one."""
    roles = _listing_roles(state, user)
    if roles is None:
        return None
    found: set[str] = set()
    for grant in state.grants:
        if grant.role not in roles or grant.role == PUBLIC_ROLE:
            continue
        if grant.db_name not in (db, ANY):
            continue
        if grant.object_type == "Global" and grant.privilege == ALL:
            return None
        if grant.object_type != "Collection" and not (
            grant.privilege in state.groups or grant.privilege in COLLECTION_GROUPS
        ):
            continue
        if grant.object_name == ANY:
            return None
        found.add(grant.object_name)
    return found
