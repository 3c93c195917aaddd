"""The embedded client's door: when its data directory has authorization on, the
credential given to ``MilvusClient`` is checked once, and every method is checked
against the privilege of the RPC it stands for, through the same table and the
same ``elanus.security.authz.authorize`` as the server's doors."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from elanus.engine.api import DEFAULT_DATABASE, EngineAPI
from elanus.security.authn import Authenticator
from elanus.security.authz import authorize, visible_in

__all__ = ["CLIENT_RPCS", "LOCAL_METHODS", "guard_methods", "log_in"]

# Each public method of the embedded MilvusClient and the RPC whose privilege it needs.
CLIENT_RPCS: dict[str, str] = {
    "add_collection_field": "AddCollectionField",
    "alter_alias": "AlterAlias",
    "alter_collection_field": "AlterCollectionField",
    "alter_collection_properties": "AlterCollection",
    "alter_database_properties": "AlterDatabase",
    "alter_index_properties": "AlterIndex",
    "compact": "ManualCompaction",
    "create_alias": "CreateAlias",
    "create_collection": "CreateCollection",
    "create_database": "CreateDatabase",
    "create_index": "CreateIndex",
    "create_partition": "CreatePartition",
    "delete": "Delete",
    "describe_alias": "DescribeAlias",
    "describe_collection": "DescribeCollection",
    "describe_database": "DescribeDatabase",
    "describe_index": "DescribeIndex",
    "drop_alias": "DropAlias",
    "drop_collection": "DropCollection",
    "drop_collection_properties": "AlterCollection",
    "drop_database": "DropDatabase",
    "drop_database_properties": "AlterDatabase",
    "drop_index": "DropIndex",
    "drop_index_properties": "AlterIndex",
    "drop_partition": "DropPartition",
    "flush": "Flush",
    "get": "Query",
    "get_collection_stats": "GetCollectionStatistics",
    "get_compaction_state": "GetCompactionState",
    "get_load_state": "GetLoadState",
    "get_partition_stats": "GetPartitionStatistics",
    "get_server_type": "GetVersion",
    "get_server_version": "GetVersion",
    "has_collection": "HasCollection",
    "has_partition": "HasPartition",
    "hybrid_search": "HybridSearch",
    "insert": "Insert",
    "list_aliases": "ListAliases",
    "list_collections": "ShowCollections",
    "list_databases": "ListDatabases",
    "list_indexes": "DescribeIndex",
    "list_partitions": "ShowPartitions",
    "load_collection": "LoadCollection",
    "load_partitions": "LoadPartitions",
    "query": "Query",
    "query_iterator": "Query",
    "refresh_load": "LoadCollection",
    "release_collection": "ReleaseCollection",
    "release_partitions": "ReleasePartitions",
    "rename_collection": "RenameCollection",
    "run_analyzer": "RunAnalyzer",
    "search": "Search",
    "search_iterator": "Search",
    "truncate_collection": "TruncateCollection",
    "upsert": "Upsert",
    "use_database": "DescribeDatabase",
    "using_database": "DescribeDatabase",
    "create_user": "CreateCredential",
    "drop_user": "DeleteCredential",
    "update_password": "UpdateCredential",
    "list_users": "ListCredUsers",
    "describe_user": "SelectUser",
    "create_role": "CreateRole",
    "drop_role": "DropRole",
    "list_roles": "SelectRole",
    "describe_role": "SelectGrant",
    "grant_role": "OperateUserRole",
    "revoke_role": "OperateUserRole",
    "grant_privilege": "OperatePrivilege",
    "revoke_privilege": "OperatePrivilege",
    "grant_privilege_v2": "OperatePrivilegeV2",
    "revoke_privilege_v2": "OperatePrivilegeV2",
    "create_privilege_group": "CreatePrivilegeGroup",
    "drop_privilege_group": "DropPrivilegeGroup",
    "list_privilege_groups": "ListPrivilegeGroups",
    "add_privileges_to_group": "OperatePrivilegeGroup",
    "remove_privileges_from_group": "OperatePrivilegeGroup",
}
# Drops the audit log records, with the argument naming what was dropped.
_AUDITED_DROPS = {"drop_collection": "collection_name", "drop_database": "db_name"}
# Methods that touch no data and need no privilege.
LOCAL_METHODS = frozenset({"close", "create_schema", "data_dir", "prepare_index_params"})


def log_in(engine: EngineAPI, user: str, password: str, token: str) -> str | None:
    """The user the credential names when the directory has authorization on
    (``AuthenticationError`` when it is wrong), else ``None``."""
    state = engine.security_state()
    if not state.auth_enabled:
        return None
    credential = token or (f"{user}:{password}" if user or password else "")
    try:
        return Authenticator().authenticate(state, credential)
    except Exception:
        engine.audit("login_failure", credential.partition(":")[0], rpc="embedded")
        raise


def _view(bound: inspect.BoundArguments) -> dict[str, Any]:
    args = bound.arguments
    collection = args.get("collection_name") or args.get("old_name") or ""
    user = args.get("user_name") or ""
    return {
        "collection_name": collection,
        "collection_names": [collection] if collection else [],
        "newDBName": args.get("new_db_name") or "",
        "username": user,
        "user": {"name": user},
        "entity": {"role": {"name": args.get("role_name") or ""}},
    }


def _guard(name: str, rpc: str, method: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(method)

    @functools.wraps(method)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        user = getattr(self, "_user", None)
        if user is not None:
            bound = signature.bind_partial(self, *args, **kwargs)
            explicit = bound.arguments.get("db_name") or kwargs.get("db_name")
            db = str(explicit or self._db or DEFAULT_DATABASE)
            view = _view(bound)
            if view["newDBName"] == "":
                view["newDBName"] = db
            authorize(self._engine.security_state(), user, rpc, view, db, self._resolve_alias)
        result = method(self, *args, **kwargs)
        if name in _AUDITED_DROPS:
            bound = signature.bind_partial(self, *args, **kwargs)
            target = bound.arguments.get(_AUDITED_DROPS[name]) or ""
            self._engine.audit(
                "DropCollection" if name == "drop_collection" else "DropDatabase",
                user or "",
                database=str(bound.arguments.get("db_name") or self._db),
                name=str(target),
            )
        if user is not None:
            keep = visible_in(self._engine.security_state(), user, rpc, db)
            if keep is not None:
                result = [n for n in result if n in keep]
        return result

    return guarded


def guard_methods(cls: type) -> type:
    """Wrap every public method of ``cls`` listed in ``CLIENT_RPCS``."""
    for name, rpc in CLIENT_RPCS.items():
        method = getattr(cls, name, None)
        if callable(method):
            setattr(cls, name, _guard(name, rpc, method))
    return cls
