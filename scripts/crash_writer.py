"""The crash loop's writer: what runs in the killed process, or against the killed server.

``scripts/crash_loop.py`` drives it and checks what survives each kill. Every row's
values derive exactly from its key and version (``row_values``), so a read can be
checked row by row.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from typing import Any

__all__ = [
    "COLLECTION",
    "ENGINE_OPTIONS",
    "DataState",
    "apply_call",
    "create_collection",
    "embedded_writer",
    "read_state",
    "row_values",
    "run_writer",
]

COLLECTION = "crash"
KEYS = 400  # key space 0..KEYS-1
DIM = 4
READ_LIMIT = 16_384

# (kind, weight) of what a writer does between kills
OPERATIONS = (
    ("insert", 30),
    ("upsert", 25),
    ("delete", 12),
    ("delete_filter", 5),
    ("flush", 10),
    ("compact", 8),
    ("scalar_index", 6),
    ("vector_index", 2),
)

# Sealing and compaction happen every few calls with these (embedded mode).
ENGINE_OPTIONS = {"seal_rows": 120, "compact_min_rows": 300}

DataState = dict[int, int]  # key -> version of its live row


def row_values(key: int, version: int) -> dict[str, Any]:
    """The row a key has at a version: every value derived from the two, exactly."""
    return {
        "id": key,
        "val": key * 1_000_003 + version,
        "tag": f"k{key}v{version}" + "x" * ((key * 7 + version) % 23),
        "vec": [
            key + 0.25,
            version % 4096 + 0.5,
            ((key * 7919 + version * 104729) % 1000) / 8,
            1.0,
        ],
    }


def create_collection(client: Any) -> None:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("val", DataType.INT64)
    schema.add_field("tag", DataType.VARCHAR, max_length=64)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    params = client.prepare_index_params()
    params.add_index("vec", index_type="HNSW", metric_type="L2", params={"M": 8})
    client.create_collection(COLLECTION, schema=schema, index_params=params)


def read_state(client: Any) -> list[dict[str, Any]]:
    """Every row, read back through the client; plus a search whose hits must be live."""
    if not client.has_collection(COLLECTION):
        return []
    if "vec" not in client.list_indexes(COLLECTION):
        # killed between dropping and rebuilding it: a collection loads with an index only
        _add_vector_index(client, "HNSW")
    client.load_collection(COLLECTION)
    rows = client.query(
        COLLECTION, filter="id >= 0", output_fields=["id", "val", "tag", "vec"], limit=READ_LIMIT
    )
    out = [
        {"id": int(r["id"]), "val": int(r["val"]), "tag": str(r["tag"]), "vec": list(r["vec"])}
        for r in rows
    ]
    hits = client.search(
        COLLECTION, data=[[1.0, 2.0, 3.0, 1.0]], limit=50, output_fields=["val"], anns_field="vec"
    )
    out.extend({"hit": int(h["id"]), "val": int(h["entity"]["val"])} for h in hits[0])
    return out


def run_writer(
    client: Any, rng: random.Random, state: DataState, first_version: int, report: Callable
) -> None:
    """Random calls forever (until killed): ``report("begin", op)`` before each,
    ``report("ack", op)`` after it returns."""
    version = first_version
    weights = [w for _, w in OPERATIONS]
    kinds = [k for k, _ in OPERATIONS]
    while True:
        kind = rng.choices(kinds, weights)[0]
        op: dict[str, Any] = {"kind": kind, "version": version}
        absent = [k for k in range(KEYS) if k not in state]
        present = sorted(state)
        if kind == "insert" and absent:
            op["keys"] = rng.sample(absent, min(len(absent), rng.randint(1, 25)))
        elif kind in ("insert", "upsert"):
            op["kind"] = "upsert"
            op["keys"] = rng.sample(range(KEYS), rng.randint(1, 25))
        elif kind in ("delete", "delete_filter"):
            pool = present if present and rng.random() < 0.9 else list(range(KEYS))
            op["keys"] = rng.sample(pool, min(len(pool), rng.randint(1, 12)))
        elif kind == "scalar_index":
            op["build"] = "val" not in client.list_indexes(COLLECTION)
        elif kind == "vector_index":
            op["index_type"] = rng.choice(["HNSW", "IVF_FLAT", "FLAT"])
        report("begin", op)
        _call(client, op)
        report("ack", op)
        apply_call(state, op)
        version += 1


def apply_call(state: DataState, op: dict[str, Any]) -> None:
    """Record in ``state`` what ``op`` does to the rows (calls without keys do nothing)."""
    for key in op.get("keys", ()):
        if op["kind"] in ("insert", "upsert"):
            state[key] = op["version"]
        else:
            state.pop(key, None)


def _call(client: Any, op: dict[str, Any]) -> None:
    kind = op["kind"]
    if kind in ("insert", "upsert"):
        rows = [row_values(k, op["version"]) for k in op["keys"]]
        getattr(client, kind)(COLLECTION, rows)
    elif kind == "delete":
        client.delete(COLLECTION, ids=op["keys"])
    elif kind == "delete_filter":
        client.delete(COLLECTION, filter=f"id in {sorted(op['keys'])}")
    elif kind == "flush":
        client.flush(COLLECTION)
    elif kind == "compact":
        client.compact(COLLECTION)
    elif kind == "scalar_index":
        if op["build"]:
            params = client.prepare_index_params()
            params.add_index("val", index_type="STL_SORT", index_name="val")
            client.create_index(COLLECTION, params)
        else:
            client.drop_index(COLLECTION, "val")
    elif kind == "vector_index":
        client.release_collection(COLLECTION)
        if "vec" in client.list_indexes(COLLECTION):
            client.drop_index(COLLECTION, "vec")
        _add_vector_index(client, op["index_type"])
        client.load_collection(COLLECTION)


def _add_vector_index(client: Any, index_type: str) -> None:
    params = client.prepare_index_params()
    extra = {"nlist": 4} if index_type == "IVF_FLAT" else {}
    params.add_index("vec", index_type=index_type, metric_type="L2", params=extra)
    client.create_index(COLLECTION, params)


def state_of(rows: list[dict[str, Any]]) -> DataState:
    return {r["id"]: (r["val"] - r["id"] * 1_000_003) for r in rows if "id" in r}


def embedded_writer(data_dir: str, fd: int, seed: int, first_version: int) -> None:
    """The embedded writer: open, report what is there, then write until killed."""
    out = os.fdopen(fd, "w", buffering=1)

    def report(what: str, op: dict[str, Any]) -> None:
        out.write(json.dumps({"t": what, "op": op}) + "\n")
        out.flush()

    try:
        import elanus

        client = elanus.MilvusClient(data_dir, engine_options=ENGINE_OPTIONS)
        if not client.has_collection(COLLECTION):
            create_collection(client)
        rows = read_state(client)
        out.write(json.dumps({"t": "rows", "rows": rows}) + "\n")
        out.flush()
        run_writer(client, random.Random(seed), state_of(rows), first_version, report)
    except BaseException as exc:  # the parent reports it as the cycle's failure
        out.write(json.dumps({"t": "error", "error": f"{type(exc).__name__}: {exc}"}) + "\n")
        out.flush()
    finally:
        os._exit(0)
