"""Privileges: their names per object type, the built-in groups, and the one table
saying what each gRPC RPC and REST endpoint needs.

Names are Milvus's API names (``Load``, ``CreateCollection``; the wire adds the
``Privilege`` prefix in denials). ``RPC_PRIVILEGES`` mirrors the privilege each
request message declares in Milvus's protocol (``common.privilege_ext_obj``);
``tests/security`` checks it against the protos pymilvus ships, so the table and
the protocol cannot drift apart. ``None`` means "any authenticated caller".
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ALL",
    "ANY",
    "BUILTIN_GROUPS",
    "CLUSTER_LEVEL",
    "COLLECTION_LEVEL",
    "DATABASE_LEVEL",
    "OBJECT_PRIVILEGES",
    "OBJECT_TYPES",
    "REST_PRIVILEGES",
    "RPC_PRIVILEGES",
    "Needs",
    "object_type_of",
    "privilege_level",
]

ANY = "*"
ALL = "All"
OBJECT_TYPES = ("Collection", "Global", "User")


@dataclass(frozen=True)
class Needs:
    """What a request needs: ``privilege`` on an object of ``object_type``. The
    object is named by the request's ``field`` (``None``: the object is ``*``)."""

    object_type: str
    privilege: str
    field: str | None = None


def _needs(object_type: str, privilege: str, field: str | None = None) -> Needs:
    return Needs(object_type, privilege, field)


_COLLECTION_READ_ONLY = (
    "Query",
    "Search",
    "IndexDetail",
    "GetFlushState",
    "GetLoadState",
    "GetLoadingProgress",
    "HasPartition",
    "ShowPartitions",
    "DescribeCollection",
    "DescribeAlias",
    "GetStatistics",
    "ListAliases",
    "GetImportProgress",
    "ListImport",
    "DescribeSnapshot",
    "ListSnapshots",
)
_COLLECTION_READ_WRITE = _COLLECTION_READ_ONLY + (
    "Load",
    "Release",
    "Insert",
    "Delete",
    "Upsert",
    "Import",
    "Flush",
    "Compaction",
    "LoadBalance",
    "CreateIndex",
    "DropIndex",
    "CreatePartition",
    "DropPartition",
    "AddCollectionField",
    "AlterCollectionSchema",
    "RefreshExternalCollection",
    "CreateSnapshot",
    "DropSnapshot",
)
_COLLECTION_ADMIN = _COLLECTION_READ_WRITE + ("CreateAlias", "DropAlias", "RestoreSnapshot")
_DATABASE_READ_ONLY = ("ShowCollections", "DescribeDatabase")
_DATABASE_READ_WRITE = _DATABASE_READ_ONLY + ("AlterDatabase",)
_DATABASE_ADMIN = _DATABASE_READ_WRITE + ("CreateCollection", "DropCollection", "RenameCollection")
_CLUSTER_READ_ONLY = (
    "ListDatabases",
    "SelectOwnership",
    "SelectUser",
    "DescribeResourceGroup",
    "ListResourceGroups",
    "ListPrivilegeGroups",
    "GetReplicateConfiguration",
    "ListFileResources",
)
_CLUSTER_READ_WRITE = _CLUSTER_READ_ONLY + (
    "FlushAll",
    "TransferNode",
    "TransferReplica",
    "UpdateResourceGroups",
    "AddFileResource",
    "RemoveFileResource",
    "PinSnapshotData",
    "UnpinSnapshotData",
)
_CLUSTER_ADMIN = _CLUSTER_READ_WRITE + (
    "BackupRBAC",
    "RestoreRBAC",
    "CreateDatabase",
    "DropDatabase",
    "CreateOwnership",
    "DropOwnership",
    "ManageOwnership",
    "CreateResourceGroup",
    "DropResourceGroup",
    "UpdateUser",
    "CreatePrivilegeGroup",
    "DropPrivilegeGroup",
    "OperatePrivilegeGroup",
    "UpdateReplicateConfiguration",
    "RestoreExternalSnapshot",
    "ExportSnapshot",
)
# The v1 groups (granted like single privileges on a collection).
_READ_ONLY = (
    "Query",
    "Search",
    "IndexDetail",
    "GetFlushState",
    "GetLoadState",
    "GetLoadingProgress",
    "HasPartition",
    "ShowPartitions",
    "ShowCollections",
    "ListAliases",
    "ListDatabases",
    "DescribeCollection",
    "DescribeDatabase",
    "DescribeAlias",
    "GetStatistics",
    "DescribeSnapshot",
    "ListSnapshots",
)
_READ_WRITE = _READ_ONLY + (
    "CreateIndex",
    "DropIndex",
    "CreatePartition",
    "DropPartition",
    "Load",
    "Release",
    "Insert",
    "Delete",
    "Upsert",
    "Import",
    "Flush",
    "Compaction",
    "LoadBalance",
    "CreateAlias",
    "DropAlias",
    "CreateSnapshot",
    "DropSnapshot",
    "RefreshExternalCollection",
)
_ADMIN = tuple(
    dict.fromkeys(
        _READ_WRITE
        + _CLUSTER_ADMIN
        + ("CreateCollection", "DropCollection", "RenameCollection", "AlterDatabase")
        + ("RestoreSnapshot",)
    )
)

# Milvus's built-in privilege groups, in the order ``list_privilege_groups`` gives them.
BUILTIN_GROUPS: dict[str, tuple[str, ...]] = {
    "CollectionReadOnly": _COLLECTION_READ_ONLY,
    "CollectionReadWrite": _COLLECTION_READ_WRITE,
    "CollectionAdmin": _COLLECTION_ADMIN,
    "DatabaseReadOnly": _DATABASE_READ_ONLY,
    "DatabaseReadWrite": _DATABASE_READ_WRITE,
    "DatabaseAdmin": _DATABASE_ADMIN,
    "ClusterReadOnly": _CLUSTER_READ_ONLY,
    "ClusterReadWrite": _CLUSTER_READ_WRITE,
    "ClusterAdmin": _CLUSTER_ADMIN,
    "ReadOnly": _READ_ONLY,
    "ReadWrite": _READ_WRITE,
    "Admin": _ADMIN,
}
CLUSTER_LEVEL = frozenset(_CLUSTER_ADMIN)
DATABASE_LEVEL = frozenset(_DATABASE_ADMIN)
COLLECTION_LEVEL = frozenset(_COLLECTION_ADMIN)

# Which single privileges (and v1 groups) a v1 grant may name per object type.
OBJECT_PRIVILEGES: dict[str, frozenset[str]] = {
    "Collection": frozenset(
        _COLLECTION_READ_WRITE + ("ReadOnly", "ReadWrite") + ("RestoreSnapshot",)
    ),
    "Global": frozenset(
        (ALL, "CreateCollection", "DropCollection", "DescribeCollection", "ShowCollections")
        + ("RenameCollection", "CreateOwnership", "DropOwnership", "SelectOwnership")
        + ("ManageOwnership", "BackupRBAC", "RestoreRBAC", "CreateResourceGroup")
        + ("UpdateResourceGroups", "DropResourceGroup", "DescribeResourceGroup")
        + ("ListResourceGroups", "TransferReplica", "TransferNode", "FlushAll")
        + ("CreateDatabase", "DropDatabase", "ListDatabases", "AlterDatabase")
        + ("DescribeDatabase", "CreateAlias", "DropAlias", "DescribeAlias", "ListAliases")
        + ("Admin", "CreatePrivilegeGroup", "DropPrivilegeGroup", "ListPrivilegeGroups")
        + ("OperatePrivilegeGroup", "UpdateReplicateConfiguration")
        + ("PinSnapshotData", "UnpinSnapshotData", "RestoreExternalSnapshot", "ExportSnapshot")
        + tuple(g for g in BUILTIN_GROUPS if g.startswith(("Cluster", "Database", "Collection")))
    ),
    "User": frozenset(("UpdateUser", "SelectUser")),
}


def object_type_of(privilege: str) -> str:
    """The object type a privilege belongs to (Global for anything not listed)."""
    for object_type in ("Collection", "User"):
        if privilege in OBJECT_PRIVILEGES[object_type]:
            return object_type
    return "Global"


def privilege_level(privilege: str) -> str:
    """ "Cluster", "Database", "Collection" or "" (as Milvus's v2 grants level them)."""
    if privilege in CLUSTER_LEVEL:
        return "Cluster"
    if privilege in DATABASE_LEVEL:
        return "Database"
    if privilege in COLLECTION_LEVEL:
        return "Collection"
    return ""


# Every RPC of MilvusService, in the protocol's order.
RPC_PRIVILEGES: dict[str, Needs | None] = {
    "CreateCollection": _needs("Global", "CreateCollection"),
    "DropCollection": _needs("Global", "DropCollection"),
    "HasCollection": None,
    "LoadCollection": _needs("Collection", "Load", "collection_name"),
    "ReleaseCollection": _needs("Collection", "Release", "collection_name"),
    "DescribeCollection": _needs("Global", "DescribeCollection"),
    "BatchDescribeCollection": _needs("Global", "DescribeCollection"),
    "GetCollectionStatistics": _needs("Collection", "GetStatistics", "collection_name"),
    "ShowCollections": None,
    "AlterCollection": _needs("Global", "CreateCollection"),
    "AlterCollectionField": _needs("Global", "CreateCollection"),
    "AddCollectionFunction": _needs("Global", "CreateCollection"),
    "AlterCollectionFunction": _needs("Global", "CreateCollection"),
    "DropCollectionFunction": _needs("Global", "CreateCollection"),
    "TruncateCollection": _needs("Global", "DropCollection"),
    "CreatePartition": _needs("Collection", "CreatePartition", "collection_name"),
    "DropPartition": _needs("Collection", "DropPartition", "collection_name"),
    "HasPartition": _needs("Collection", "HasPartition", "collection_name"),
    "LoadPartitions": _needs("Collection", "Load", "collection_name"),
    "Prewarm": _needs("Collection", "Load", "collection_name"),
    "DescribePrewarmTask": None,
    "ReleasePartitions": _needs("Collection", "Release", "collection_name"),
    "GetPartitionStatistics": _needs("Collection", "GetStatistics", "collection_name"),
    "ShowPartitions": _needs("Collection", "ShowPartitions", "collection_name"),
    "CreateNamespace": _needs("Collection", "CreatePartition", "collection_name"),
    "DescribeNamespace": _needs("Collection", "ShowPartitions", "collection_name"),
    "ListNamespaces": _needs("Collection", "ShowPartitions", "collection_name"),
    "DropNamespace": _needs("Collection", "DropPartition", "collection_name"),
    "HasNamespace": _needs("Collection", "HasPartition", "collection_name"),
    "GetNamespaceStats": _needs("Collection", "ShowPartitions", "collection_name"),
    "GetLoadingProgress": _needs("Collection", "GetLoadState", "collection_name"),
    "GetLoadState": _needs("Collection", "GetLoadState", "collection_name"),
    "CreateAlias": _needs("Global", "CreateAlias"),
    "DropAlias": _needs("Global", "DropAlias"),
    "AlterAlias": _needs("Global", "CreateAlias"),
    "DescribeAlias": _needs("Global", "DescribeAlias"),
    "ListAliases": _needs("Global", "ListAliases"),
    "CreateIndex": _needs("Collection", "CreateIndex", "collection_name"),
    "AlterIndex": _needs("Collection", "CreateIndex", "collection_name"),
    "DescribeIndex": _needs("Collection", "IndexDetail", "collection_name"),
    "GetIndexStatistics": _needs("Collection", "IndexDetail", "collection_name"),
    "GetIndexState": _needs("Collection", "IndexDetail", "collection_name"),
    "GetIndexBuildProgress": _needs("Collection", "IndexDetail", "collection_name"),
    "DropIndex": _needs("Collection", "DropIndex", "collection_name"),
    "Insert": _needs("Collection", "Insert", "collection_name"),
    "Delete": _needs("Collection", "Delete", "collection_name"),
    "Upsert": _needs("Collection", "Upsert", "collection_name"),
    "Search": _needs("Collection", "Search", "collection_name"),
    "HybridSearch": _needs("Collection", "Search", "collection_name"),
    "Flush": _needs("Collection", "Flush", "collection_names"),
    "Query": _needs("Collection", "Query", "collection_name"),
    "CalcDistance": None,
    "FlushAll": _needs("Global", "FlushAll"),
    "AddCollectionField": _needs("Collection", "AddCollectionField", "collection_name"),
    "AddCollectionStructField": _needs("Collection", "AddCollectionField", "collection_name"),
    "GetFlushState": _needs("Collection", "GetFlushState", "collection_name"),
    "GetFlushAllState": None,
    "GetPersistentSegmentInfo": None,
    "GetQuerySegmentInfo": None,
    "GetReplicas": None,
    "Dummy": None,
    "RegisterLink": None,
    "GetMetrics": None,
    "GetComponentStates": None,
    "LoadBalance": _needs("Collection", "LoadBalance", "collectionName"),
    "GetCompactionState": None,
    "ManualCompaction": _needs("Collection", "Compaction", "collection_name"),
    "GetCompactionStateWithPlans": None,
    "Import": _needs("Collection", "Import", "collection_name"),
    "GetImportState": None,
    "ListImportTasks": None,
    "CreateCredential": _needs("Global", "CreateOwnership"),
    "UpdateCredential": _needs("User", "UpdateUser", "username"),
    "DeleteCredential": _needs("Global", "DropOwnership"),
    "ListCredUsers": _needs("Global", "SelectOwnership"),
    "CreateRole": _needs("Global", "CreateOwnership"),
    "AlterRole": _needs("Global", "CreateOwnership"),
    "DropRole": _needs("Global", "DropOwnership"),
    "OperateUserRole": _needs("Global", "ManageOwnership"),
    "SelectRole": _needs("Global", "SelectOwnership"),
    "SelectUser": _needs("User", "SelectUser", "user.name"),
    "OperatePrivilege": _needs("Global", "ManageOwnership"),
    "OperatePrivilegeV2": _needs("Global", "ManageOwnership"),
    "SelectGrant": _needs("Global", "SelectOwnership"),
    "GetVersion": None,
    "CheckHealth": None,
    "CreateResourceGroup": _needs("Global", "CreateResourceGroup"),
    "DropResourceGroup": _needs("Global", "DropResourceGroup"),
    "UpdateResourceGroups": _needs("Global", "UpdateResourceGroups"),
    "TransferNode": _needs("Global", "TransferNode"),
    "TransferReplica": _needs("Global", "TransferReplica"),
    "ListResourceGroups": _needs("Global", "ListResourceGroups"),
    "DescribeResourceGroup": _needs("Global", "DescribeResourceGroup"),
    "RenameCollection": _needs("Global", "RenameCollection"),
    "ListIndexedSegment": None,
    "DescribeSegmentIndexData": None,
    "Connect": None,
    "AllocTimestamp": None,
    "CreateDatabase": _needs("Global", "CreateDatabase"),
    "DropDatabase": _needs("Global", "DropDatabase"),
    "ListDatabases": None,
    "AlterDatabase": _needs("Global", "AlterDatabase"),
    "DescribeDatabase": _needs("Global", "DescribeDatabase"),
    "ReplicateMessage": None,
    "BackupRBAC": _needs("Global", "BackupRBAC"),
    "RestoreRBAC": _needs("Global", "RestoreRBAC"),
    "CreatePrivilegeGroup": _needs("Global", "CreatePrivilegeGroup"),
    "DropPrivilegeGroup": _needs("Global", "DropPrivilegeGroup"),
    "ListPrivilegeGroups": _needs("Global", "ListPrivilegeGroups"),
    "OperatePrivilegeGroup": _needs("Global", "OperatePrivilegeGroup"),
    "RunAnalyzer": None,
    "AddFileResource": _needs("Global", "AddFileResource"),
    "RemoveFileResource": _needs("Global", "RemoveFileResource"),
    "ListFileResources": _needs("Global", "ListFileResources"),
    "AddUserTags": _needs("User", "UpdateUser", "user_name"),
    "DeleteUserTags": _needs("User", "UpdateUser", "user_name"),
    "GetUserTags": _needs("User", "SelectUser", "user_name"),
    "ListUsersWithTag": _needs("User", "SelectUser"),
    "CreateRowPolicy": _needs("Collection", "CreateOwnership", "collection_name"),
    "DropRowPolicy": _needs("Collection", "DropOwnership", "collection_name"),
    "ListRowPolicies": _needs("Collection", "SelectOwnership", "collection_name"),
    "UpdateReplicateConfiguration": _needs("Global", "UpdateReplicateConfiguration"),
    "GetReplicateConfiguration": _needs("Global", "GetReplicateConfiguration"),
    "GetReplicateInfo": None,
    "CreateReplicateStream": None,
    "DumpMessages": None,
    "ComputePhraseMatchSlop": None,
    "CreateSnapshot": _needs("Collection", "CreateSnapshot", "collection_name"),
    "DropSnapshot": _needs("Collection", "DropSnapshot", "collection_name"),
    "ListSnapshots": _needs("Collection", "ListSnapshots", "collection_name"),
    "DescribeSnapshot": _needs("Collection", "DescribeSnapshot", "collection_name"),
    "RestoreSnapshot": _needs("Collection", "RestoreSnapshot", "collection_name"),
    "RestoreExternalSnapshot": _needs("Global", "RestoreExternalSnapshot"),
    "ExportSnapshot": _needs("Global", "ExportSnapshot"),
    "GetExportSnapshotState": _needs("Global", "ExportSnapshot"),
    "GetRestoreSnapshotState": None,
    "ListRestoreSnapshotJobs": _needs("Collection", "RestoreSnapshot", "collection_name"),
    "PinSnapshotData": _needs("Global", "PinSnapshotData"),
    "UnpinSnapshotData": _needs("Global", "UnpinSnapshotData"),
    "AlterCollectionSchema": _needs("Collection", "AlterCollectionSchema", "collection_name"),
    "BatchUpdateManifest": _needs("Collection", "Insert", "collection_name"),
    "RefreshExternalCollection": _needs(
        "Collection", "RefreshExternalCollection", "collection_name"
    ),
    "GetRefreshExternalCollectionProgress": None,
    "ListRefreshExternalCollectionJobs": None,
}

# Every REST v2 endpoint (``/v2/vectordb/<path>``) and the RPC whose privilege it
# needs: one table for both doors. An endpoint missing here is refused to all but
# root and admin (``tests`` check that every registered endpoint is listed).
REST_PRIVILEGES: dict[str, str] = {
    "databases/create": "CreateDatabase",
    "databases/drop": "DropDatabase",
    "databases/list": "ListDatabases",
    "databases/describe": "DescribeDatabase",
    "databases/alter": "AlterDatabase",
    "databases/drop_properties": "AlterDatabase",
    "databases/alter_properties": "AlterDatabase",
    "collections/create": "CreateCollection",
    "collections/describe": "DescribeCollection",
    "collections/list": "ShowCollections",
    "collections/has": "HasCollection",
    "collections/drop": "DropCollection",
    "collections/rename": "RenameCollection",
    "collections/get_stats": "GetCollectionStatistics",
    "collections/get_load_state": "GetLoadState",
    "collections/load": "LoadCollection",
    "collections/release": "ReleaseCollection",
    "collections/alter_properties": "AlterCollection",
    "collections/drop_properties": "AlterCollection",
    "collections/compact": "ManualCompaction",
    "collections/get_compaction_state": "GetCompactionState",
    "collections/flush": "Flush",
    "collections/refresh_load": "LoadCollection",
    "collections/fields/alter_properties": "AlterCollectionField",
    "collections/fields/add": "AddCollectionField",
    "collections/struct_fields/add": "AddCollectionStructField",
    "collections/add_function": "AddCollectionFunction",
    "collections/alter_function": "AlterCollectionFunction",
    "collections/drop_function": "DropCollectionFunction",
    "collections/truncate": "TruncateCollection",
    "common/run_analyzer": "RunAnalyzer",
    "segments/describe": "GetPersistentSegmentInfo",
    "resource_groups/create": "CreateResourceGroup",
    "resource_groups/drop": "DropResourceGroup",
    "resource_groups/alter": "UpdateResourceGroups",
    "resource_groups/describe": "DescribeResourceGroup",
    "resource_groups/list": "ListResourceGroups",
    "resource_groups/transfer_replica": "TransferReplica",
    "partitions/create": "CreatePartition",
    "partitions/drop": "DropPartition",
    "partitions/list": "ShowPartitions",
    "partitions/has": "HasPartition",
    "partitions/get_stats": "GetPartitionStatistics",
    "partitions/load": "LoadPartitions",
    "partitions/release": "ReleasePartitions",
    "aliases/create": "CreateAlias",
    "aliases/drop": "DropAlias",
    "aliases/alter": "AlterAlias",
    "aliases/describe": "DescribeAlias",
    "aliases/list": "ListAliases",
    "indexes/create": "CreateIndex",
    "indexes/describe": "DescribeIndex",
    "indexes/list": "DescribeIndex",
    "indexes/drop": "DropIndex",
    "indexes/alter_properties": "AlterIndex",
    "indexes/drop_properties": "AlterIndex",
    "entities/insert": "Insert",
    "entities/upsert": "Upsert",
    "entities/delete": "Delete",
    "entities/query": "Query",
    "entities/get": "Query",
    "entities/search": "Search",
    "entities/advanced_search": "HybridSearch",
    "entities/hybrid_search": "HybridSearch",
    "users/create": "CreateCredential",
    "users/drop": "DeleteCredential",
    "users/list": "ListCredUsers",
    "users/describe": "SelectUser",
    "users/update_password": "UpdateCredential",
    "users/grant_role": "OperateUserRole",
    "users/revoke_role": "OperateUserRole",
    "roles/create": "CreateRole",
    "roles/drop": "DropRole",
    "roles/list": "SelectRole",
    "roles/describe": "SelectGrant",
    "roles/grant_privilege": "OperatePrivilege",
    "roles/revoke_privilege": "OperatePrivilege",
    "roles/grant_privilege_v2": "OperatePrivilegeV2",
    "roles/revoke_privilege_v2": "OperatePrivilegeV2",
    "privilege_groups/create": "CreatePrivilegeGroup",
    "privilege_groups/drop": "DropPrivilegeGroup",
    "privilege_groups/list": "ListPrivilegeGroups",
    "privilege_groups/add_privileges_to_group": "OperatePrivilegeGroup",
    "privilege_groups/remove_privileges_from_group": "OperatePrivilegeGroup",
}
