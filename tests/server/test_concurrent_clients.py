"""Many pymilvus clients at once against one ``elanus serve``: mixed reads and writes.

Each writer owns a disjoint key range and applies a seeded sequence of inserts,
upserts and deletes (by ids and by filter), keeping a model of what was
acknowledged; readers search and query throughout. Afterwards the collection
holds exactly the model, and every row read at any time was whole (its vector
encodes its own key and version). A second test runs a slow exact-scan search
and checks that inserts keep being acknowledged while it is in flight: it
asserts ordering, never speed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient

DIM = 8
WRITERS = 4
READERS = 2
OPS_PER_WRITER = 40
SPAN = 10_000  # keys of writer w lie in [w * SPAN, (w + 1) * SPAN)


def _vector(key: int, version: int) -> list[float]:
    """A vector that encodes its row, so a torn or mixed-up row shows."""
    return [float(key), float(version)] + [float(key % 7)] * (DIM - 2)


def _row(key: int, version: int, owner: int) -> dict[str, Any]:
    return {"id": key, "owner": owner, "version": version, "vec": _vector(key, version)}


def _create(client: MilvusClient, name: str) -> None:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("owner", DataType.INT64)
    schema.add_field("version", DataType.INT64)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    index = client.prepare_index_params()
    index.add_index("vec", index_type="FLAT", metric_type="L2")
    if client.has_collection(name):
        client.drop_collection(name)
    client.create_collection(name, schema=schema, index_params=index)


def _check_whole(rows: list[dict[str, Any]]) -> None:
    keys = [int(r["id"]) for r in rows]
    assert len(keys) == len(set(keys)), "a key was returned twice"
    for r in rows:
        vec = [float(v) for v in r["vec"]]
        assert vec == _vector(int(r["id"]), int(r["version"])), f"torn row {r}"
        assert int(r["owner"]) == int(r["id"]) // SPAN


def _writer(uri: str, name: str, owner: int, model: dict[int, int], errors: list[str]) -> None:
    client = MilvusClient(uri=uri)
    rng = np.random.default_rng(owner)
    base = owner * SPAN
    next_key = base
    try:
        for _ in range(OPS_PER_WRITER):
            op = rng.choice(["insert", "upsert", "delete", "delete_filter"], p=[0.4, 0.3, 0.2, 0.1])
            live = sorted(model)
            if op == "insert" or not live:
                keys = list(range(next_key, next_key + int(rng.integers(1, 20))))
                next_key += len(keys)
                client.insert(name, [_row(k, 0, owner) for k in keys])
                model.update({k: 0 for k in keys})
            elif op == "upsert":
                keys = [int(k) for k in rng.choice(live, min(len(live), 5), replace=False)]
                client.upsert(name, [_row(k, model[k] + 1, owner) for k in keys])
                model.update({k: model[k] + 1 for k in keys})
            elif op == "delete":
                keys = [int(k) for k in rng.choice(live, min(len(live), 3), replace=False)]
                client.delete(name, ids=keys)
                for k in keys:
                    model.pop(k)
            else:
                cut = int(rng.choice(live))
                client.delete(name, filter=f"owner == {owner} and id <= {cut} and version == 0")
                for k in [k for k in live if k <= cut and model[k] == 0]:
                    model.pop(k)
    except Exception as exc:  # reported by the test thread
        errors.append(f"writer {owner}: {exc!r}")
    finally:
        client.close()


def _reader(
    uri: str, name: str, stop: threading.Event, reads: list[int], errors: list[str]
) -> None:
    client = MilvusClient(uri=uri)
    rng = np.random.default_rng(100 + len(reads))
    fields = ["id", "owner", "version", "vec"]
    try:
        while not stop.is_set():
            owner = int(rng.integers(0, WRITERS))
            _check_whole(client.query(name, filter=f"owner == {owner}", output_fields=fields))
            q = [_vector(int(rng.integers(0, WRITERS * SPAN)), 0)]
            hits = client.search(name, q, limit=10, output_fields=fields)[0]
            _check_whole([h["entity"] for h in hits])
            reads.append(1)
    except Exception as exc:
        errors.append(f"reader: {exc!r}")
    finally:
        client.close()


def test_mixed_clients_leave_exactly_the_acknowledged_writes(server: Any) -> None:
    admin = MilvusClient(uri=server.uri)
    _create(admin, "mixed")
    models: list[dict[int, int]] = [{} for _ in range(WRITERS)]
    errors: list[str] = []
    reads: list[int] = []
    stop = threading.Event()
    writers = [
        threading.Thread(target=_writer, args=(server.uri, "mixed", w, models[w], errors))
        for w in range(WRITERS)
    ]
    readers = [
        threading.Thread(target=_reader, args=(server.uri, "mixed", stop, reads, errors))
        for _ in range(READERS)
    ]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(timeout=120)
    stop.set()
    for t in readers:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in readers + writers), "a client hung"
    assert errors == []
    assert reads, "no read completed while the writers ran"
    admin.flush("mixed")
    rows = admin.query(
        "mixed",
        filter="id >= 0",
        output_fields=["id", "owner", "version", "vec"],
        consistency_level="Strong",
        limit=16384,
    )
    _check_whole(rows)
    want = {k: v for model in models for k, v in model.items()}
    assert {int(r["id"]): int(r["version"]) for r in rows} == want
    assert admin.query("mixed", filter="", output_fields=["count(*)"])[0]["count(*)"] == len(want)
    admin.close()


def test_inserts_are_acknowledged_while_a_slow_search_runs(server: Any) -> None:
    admin = MilvusClient(uri=server.uri)
    schema = admin.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=64)
    index = admin.prepare_index_params()
    index.add_index("vec", index_type="FLAT", metric_type="L2")
    admin.create_collection("slow", schema=schema, index_params=index)
    rng = np.random.default_rng(0)
    data = rng.random((20_000, 64), dtype=np.float32)
    for lo in range(0, len(data), 5000):
        admin.insert("slow", [{"id": lo + j, "vec": v} for j, v in enumerate(data[lo : lo + 5000])])
    admin.flush("slow")

    writer = MilvusClient(uri=server.uri)
    lone = []
    for key in range(5):
        start = time.monotonic()
        writer.insert("slow", [{"id": 1_000_000 + key, "vec": data[key]}])
        lone.append(time.monotonic() - start)

    searcher = MilvusClient(uri=server.uri)
    nq = 200
    # Grow the batch until the search outlasts many lone inserts, so "inserts
    # finished while it ran" cannot happen by chance ordering alone.
    for _ in range(4):
        sent = threading.Event()
        span: dict[str, float] = {}

        def run(batch: int = nq) -> None:
            sent.set()
            span["start"] = time.monotonic()
            searcher.search("slow", data[:batch], limit=1000, filter="id % 7 != 3")
            span["end"] = time.monotonic()

        thread = threading.Thread(target=run)
        thread.start()
        sent.wait()
        acked: list[float] = []
        key = 2_000_000 + nq
        while thread.is_alive():
            writer.insert("slow", [{"id": key, "vec": data[0]}])
            acked.append(time.monotonic())
            key += 1_000_000
        thread.join()
        if span["end"] - span["start"] > 20 * max(lone):
            break
        nq *= 2
    else:
        pytest.skip("the search never outlasted 20 lone inserts on this machine")
    during = [t for t in acked if t < span["end"]]
    # Serialised behind the search, no insert would return before it does.
    assert len(during) >= 3, (len(acked), span, lone)
    for c in (admin, writer, searcher):
        c.close()
