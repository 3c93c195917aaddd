"""REST v2 endpoints about the server itself: resource groups, segments, quotas,
and ``common/run_analyzer``.

Elanus is one process (``cluster``): one resource group holding the one node every
loaded collection's single replica lives on. Endpoints that would change that
layout answer "not supported" rather than pretending.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elanus.engine.api import EngineAPI
from elanus.errors import NotSupportedError, ParameterError
from elanus.server.cluster import (
    DEFAULT_RESOURCE_GROUP,
    NODE_ID,
    collection_with_id,
    loaded_collections,
)
from elanus.server.rest_body import RestBody, endpoint

__all__: list[str] = []


@endpoint("resource_groups/list")
def list_resource_groups(engine: EngineAPI, body: RestBody) -> list[str]:
    return [DEFAULT_RESOURCE_GROUP]


@endpoint("resource_groups/describe")
def describe_resource_group(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    name = body.text("name")
    if name != DEFAULT_RESOURCE_GROUP:
        raise ParameterError(f"resource group not found[rg={name}]")
    loaded = loaded_collections(engine)
    return {
        "resource_group": {
            "name": DEFAULT_RESOURCE_GROUP,
            "capacity": 1,
            "num_available_node": 1,
            "num_loaded_replica": loaded,
            "num_outgoing_node": {},
            "num_incoming_node": {},
            "config": {"requests": {"node_num": 1}, "limits": {"node_num": 1}},
            "nodes": [{"node_id": NODE_ID, "address": "localhost", "hostname": "elanus"}],
        }
    }


@endpoint(
    "resource_groups/create",
    "resource_groups/drop",
    "resource_groups/alter",
    "resource_groups/transfer_replica",
)
def change_resource_groups(engine: EngineAPI, body: RestBody) -> None:
    raise NotSupportedError(
        "not supported by Elanus: resource groups other than the one default group "
        "of its single node"
    )


@endpoint("segments/describe")
def describe_segments(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    collection_id = body.integer("collectionID", 0)
    wanted = {int(s) for s in body.get("segmentIDs", []) if isinstance(s, int)}
    db = body.db
    name = collection_with_id(engine, db, collection_id)
    if name is None:
        return {"segmentInfos": []}
    infos: list[dict[str, Any]] = []
    for seg in engine.list_segments(db, name):
        if wanted and seg.segment_id not in wanted:
            continue
        infos.append(
            {
                "segmentID": seg.segment_id,
                "collectionID": seg.collection_id,
                "partitionID": seg.partition_id,
                "vChannel": f"elanus-dml_0_{seg.collection_id}v0",
                "numRows": seg.num_rows,
                "state": seg.state,
                "level": seg.level,
                "isSorted": False,
                "insertLogs": [],
                "deltaLogs": [],
                "statsLogs": [],
            }
        )
    return {"segmentInfos": infos}


def _token_json(item: Any, detail: bool, with_hash: bool) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        item = {"token": str(item)}
    out: dict[str, Any] = {"token": item.get("token", "")}
    if detail:
        out["startOffset"] = item.get("start_offset", 0)
        out["endOffset"] = item.get("end_offset", 0)
        out["position"] = item.get("position", 0)
        out["positionLength"] = item.get("position_length", 1)
    if with_hash:
        out["hash"] = item.get("hash", 0)
    return out


@endpoint("common/run_analyzer")
def run_analyzer(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    texts = body.text_list("text", required=True) or []
    names = body.text_list("analyzerNames") or []
    detail, with_hash = body.flag("withDetail"), body.flag("withHash")
    results = engine.run_analyzer(
        texts,
        body.optional_text("analyzerParams") or None,
        with_detail=detail,
        with_hash=with_hash,
        db=body.db,
        collection=body.optional_text("collectionName") or None,
        field=body.optional_text("fieldName") or None,
        analyzer_names=(names[0] if len(names) == 1 else names) if names else None,
    )
    return {
        "results": [
            {"tokens": [_token_json(t, detail, with_hash) for t in r.tokens]} for r in results
        ]
    }
