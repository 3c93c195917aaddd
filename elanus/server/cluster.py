"""What Elanus says about itself as a Milvus "cluster": one node, one resource group.

Milvus spreads a deployment over coordinators, nodes, resource groups and
replicas; Elanus is one process. Clients that ask (Attu's system page,
``list_resource_groups``, ``get_replicas``) get that single-node layout in
Milvus's shapes: the group ``__default_resource_group`` holding node 1, one
replica per loaded collection, and ``system_info`` metrics for that node.
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import time
from typing import Any

from elanus.engine.api import DEFAULT_DATABASE, EngineAPI, LoadState

__all__ = [
    "DEFAULT_RESOURCE_GROUP",
    "NODE_ID",
    "collection_with_id",
    "loaded_collections",
    "system_info",
]

DEFAULT_RESOURCE_GROUP = "__default_resource_group"
NODE_ID = 1


def collection_with_id(engine: EngineAPI, db: str, collection_id: int) -> str | None:
    """The name of ``db``'s collection whose id is ``collection_id``, if any: the
    replica and segment requests may name a collection by id alone."""
    for name in engine.list_collections(db):
        if engine.describe_collection(db, name).collection_id == collection_id:
            return name
    return None


def loaded_collections(engine: EngineAPI) -> dict[str, int]:
    """Loaded collections (``db.name`` outside the default database) and their
    replica count, which is one each."""
    out: dict[str, int] = {}
    for db in engine.list_databases():
        for name in engine.list_collections(db):
            if engine.get_load_state(db, name) == LoadState.LOADED:
                out[name if db == DEFAULT_DATABASE else f"{db}.{name}"] = 1
    return out


def _memory() -> tuple[int, int]:
    """Total memory of the machine and this process's resident size, in bytes."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 0
    used = 0
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    return total, used


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def system_info(started_at: float, version: str, data_dir: str) -> dict[str, Any]:
    """``GetMetrics({"metric_type": "system_info"})``'s JSON: Milvus's
    ``SystemTopology`` with the one node Elanus is."""
    total, used = _memory()
    try:
        disk = shutil.disk_usage(data_dir)
        disk_total, disk_used = float(disk.total), float(disk.used)
    except OSError:
        disk_total = disk_used = 0.0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    cores = os.cpu_count() or 1
    infos = {
        "has_error": False,
        "error_reason": "",
        "name": f"proxy{NODE_ID}",
        "hardware_infos": {
            "ip": socket.gethostname(),
            "cpu_core_count": cores,
            "cpu_core_usage": min(100.0, 100.0 * load / cores),
            "memory": total,
            "memory_usage": used,
            "disk": disk_total,
            "disk_usage": disk_used,
            "io_wait_percentage": 0.0,
        },
        "system_info": {
            "system_version": version,
            "deploy_mode": "STANDALONE",
            "build_version": f"elanus-{version}",
            "build_time": "",
            "used_go_version": f"Python {platform.python_version()}",
        },
        "created_time": _utc(started_at),
        "updated_time": _utc(time.time()),
        "type": "proxy",
        "id": NODE_ID,
        "system_configurations": {
            "default_partition_name": "_default",
            "default_index_name": "_default_idx",
        },
        "quota_metrics": None,
    }
    return {
        "nodes_info": [{"identifier": NODE_ID, "connected": [], "infos": infos}],
    }
