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
    "CreateCollection": Needs("Global", "CreateCollection"),
    "DropCollection": Needs("Global", "DropCollection"),
    "HasCollection": None,
    "LoadCollection": Needs("Collection", "Load", "collection_name"),
    "ReleaseCollection": Needs("Collection", "Release", "collection_name"),
    "DescribeCollection": Needs("Global", "DescribeCollection"),
    "BatchDescribeCollection": Needs("Global", "DescribeCollection"),
    "GetCollectionStatistics": Needs("Collection", "GetStatistics", "collection_name"),
    "ShowCollections": None,
    "AlterCollection": Needs("Global", "CreateCollection"),
    "AlterCollectionField": Needs("Global", "CreateCollection"),
    "AddCollectionFunction": Needs("Global", "CreateCollection"),
    "AlterCollectionFunction": Needs("Global", "CreateCollection"),
    "DropCollectionFunction": Needs("Global", "CreateCollection"),
    "TruncateCollection": Needs("Global", "DropCollection"),
    "CreatePartition": Needs("Collection", "CreatePartition", "collection_name"),
    "DropPartition": Needs("Collection", "DropPartition", "collection_name"),
    "HasPartition": Needs("Collection", "HasPartition", "collection_name"),
    "LoadPartitions": Needs("Collection", "Load", "collection_name"),
    "Prewarm": Needs("Collection", "Load", "collection_name"),
    "DescribePrewarmTask": None,
    "ReleasePartitions": Needs("Collection", "Release", "collection_name"),
    "GetPartitionStatistics": Needs("Collection", "GetStatistics", "collection_name"),
    "ShowPartitions": Needs("Collection", "ShowPartitions", "collection_name"),
    "CreateNamespace": Needs("Collection", "CreatePartition", "collection_name"),
    "DescribeNamespace": Needs("Collection", "ShowPartitions", "collection_name"),
    "ListNamespaces": Needs("Collection", "ShowPartitions", "collection_name"),
    "DropNamespace": Needs("Collection", "DropPartition", "collection_name"),
    "HasNamespace": Needs("Collection", "HasPartition", "collection_name"),
    "GetNamespaceStats": Needs("Collection", "ShowPartitions", "collection_name"),
    "GetLoadingProgress": Needs("Collection", "GetLoadState", "collection_name"),
    "GetLoadState": Needs("Collection", "GetLoadState", "collection_name"),
    "CreateAlias": Needs("Global", "CreateAlias"),
    "DropAlias": Needs("Global", "DropAlias"),
    "AlterAlias": Needs("Global", "CreateAlias"),
    "DescribeAlias": Needs("Global", "DescribeAlias"),
    "ListAliases": Needs("Global", "ListAliases"),
    "CreateIndex": Needs("Collection", "CreateIndex", "collection_name"),
    "AlterIndex": Needs("Collection", "CreateIndex", "collection_name"),
    "DescribeIndex": Needs("Collection", "IndexDetail", "collection_name"),
    "GetIndexStatistics": Needs("Collection", "IndexDetail", "collection_name"),
    "GetIndexState": Needs("Collection", "IndexDetail", "collection_name"),
    "GetIndexBuildProgress": Needs("Collection", "IndexDetail", "collection_name"),
    "DropIndex": Needs("Collection", "DropIndex", "collection_name"),
    "Insert": Needs("Collection", "Insert", "collection_name"),
    "Delete": Needs("Collection", "Delete", "collection_name"),
    "Upsert": Needs("Collection", "Upsert", "collection_name"),
    "Search": Needs("Collection", "Search", "collection_name"),
    "HybridSearch": Needs("Collection", "Search", "collection_name"),
    "Flush": Needs("Collection", "Flush", "collection_names"),
    "Query": Needs("Collection", "Query", "collection_name"),
    "CalcDistance": None,
    "FlushAll": Needs("Global", "FlushAll"),
    "AddCollectionField": Needs("Collection", "AddCollectionField", "collection_name"),
    "AddCollectionStructField": Needs("Collection", "AddCollectionField", "collection_name"),
    "GetFlushState": Needs("Collection", "GetFlushState", "collection_name"),
    "GetFlushAllState": None,
    "GetPersistentSegmentInfo": None,
    "GetQuerySegmentInfo": None,
    "GetReplicas": None,
    "Dummy": None,
    "RegisterLink": None,
    "GetMetrics": None,
    "GetComponentStates": None,
    "LoadBalance": Needs("Collection", "LoadBalance", "collectionName"),
    "GetCompactionState": None,
    "ManualCompaction": Needs("Collection", "Compaction", "collection_name"),
    "GetCompactionStateWithPlans": None,
    "Import": Needs("Collection", "Import", "collection_name"),
    "GetImportState": None,
    "ListImportTasks": None,
    "CreateCredential": Needs("Global", "CreateOwnership"),
    "UpdateCredential": Needs("User", "UpdateUser", "username"),
    "DeleteCredential": Needs("Global", "DropOwnership"),
    "ListCredUsers": Needs("Global", "SelectOwnership"),
    "CreateRole": Needs("Global", "CreateOwnership"),
    "AlterRole": Needs("Global", "CreateOwnership"),
    "DropRole": Needs("Global", "DropOwnership"),
    "OperateUserRole": Needs("Global", "ManageOwnership"),
    "SelectRole": Needs("Global", "SelectOwnership"),
    "SelectUser": Needs("User", "SelectUser", "user.name"),
    "OperatePrivilege": Needs("Global", "ManageOwnership"),
    "OperatePrivilegeV2": Needs("Global", "ManageOwnership"),
    "SelectGrant": Needs("Global", "SelectOwnership"),
    "GetVersion": None,
    "CheckHealth": None,
    "CreateResourceGroup": Needs("Global", "CreateResourceGroup"),
    "DropResourceGroup": Needs("Global", "DropResourceGroup"),
    "UpdateResourceGroups": Needs("Global", "UpdateResourceGroups"),
    "TransferNode": Needs("Global", "TransferNode"),
    "TransferReplica": Needs("Global", "TransferReplica"),
    "ListResourceGroups": Needs("Global", "ListResourceGroups"),
    "DescribeResourceGroup": Needs("Global", "DescribeResourceGroup"),
    "RenameCollection": Needs("Global", "RenameCollection"),
    "ListIndexedSegment": None,
    "DescribeSegmentIndexData": None,
    "Connect": None,
    "AllocTimestamp": None,
    "CreateDatabase": Needs("Global", "CreateDatabase"),
    "DropDatabase": Needs("Global", "DropDatabase"),
    "ListDatabases": None,
    "AlterDatabase": Needs("Global", "AlterDatabase"),
    "DescribeDatabase": Needs("Global", "DescribeDatabase"),
    "ReplicateMessage": None,
    "BackupRBAC": Needs("Global", "BackupRBAC"),
    "RestoreRBAC": Needs("Global", "RestoreRBAC"),
    "CreatePrivilegeGroup": Needs("Global", "CreatePrivilegeGroup"),
    "DropPrivilegeGroup": Needs("Global", "DropPrivilegeGroup"),
    "ListPrivilegeGroups": Needs("Global", "ListPrivilegeGroups"),
    "OperatePrivilegeGroup": Needs("Global", "OperatePrivilegeGroup"),
    "RunAnalyzer": None,
    "AddFileResource": Needs("Global", "AddFileResource"),
    "RemoveFileResource": Needs("Global", "RemoveFileResource"),
    "ListFileResources": Needs("Global", "ListFileResources"),
    "AddUserTags": Needs("User", "UpdateUser", "user_name"),
    "DeleteUserTags": Needs("User", "UpdateUser", "user_name"),
    "GetUserTags": Needs("User", "SelectUser", "user_name"),
    "ListUsersWithTag": Needs("User", "SelectUser"),
    "CreateRowPolicy": Needs("Collection", "CreateOwnership", "collection_name"),
    "DropRowPolicy": Needs("Collection", "DropOwnership", "collection_name"),
    "ListRowPolicies": Needs("Collection", "SelectOwnership", "collection_name"),
    "UpdateReplicateConfiguration": Needs("Global", "UpdateReplicateConfiguration"),
    "GetReplicateConfiguration": Needs("Global", "GetReplicateConfiguration"),
    "GetReplicateInfo": None,
    "CreateReplicateStream": None,
    "DumpMessages": None,
    "ComputePhraseMatchSlop": None,
    "CreateSnapshot": Needs("Collection", "CreateSnapshot", "collection_name"),
    "DropSnapshot": Needs("Collection", "DropSnapshot", "collection_name"),
    "ListSnapshots": Needs("Collection", "ListSnapshots", "collection_name"),
    "DescribeSnapshot": Needs("Collection", "DescribeSnapshot", "collection_name"),
    "RestoreSnapshot": Needs("Collection", "RestoreSnapshot", "collection_name"),
    "RestoreExternalSnapshot": Needs("Global", "RestoreExternalSnapshot"),
    "ExportSnapshot": Needs("Global", "ExportSnapshot"),
    "GetExportSnapshotState": Needs("Global", "ExportSnapshot"),
    "GetRestoreSnapshotState": None,
    "ListRestoreSnapshotJobs": Needs("Collection", "RestoreSnapshot", "collection_name"),
    "PinSnapshotData": Needs("Global", "PinSnapshotData"),
    "UnpinSnapshotData": Needs("Global", "UnpinSnapshotData"),
    "AlterCollectionSchema": Needs("Collection", "AlterCollectionSchema", "collection_name"),
    "BatchUpdateManifest": Needs("Collection", "Insert", "collection_name"),
    "RefreshExternalCollection": Needs(
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
