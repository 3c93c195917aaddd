"""The same scenarios through the embedded ``elanus.MilvusClient`` and through
pymilvus over gRPC against ``elanus serve``: the results must be the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pymilvus import DataType, MilvusClient

DIM = 16
RNG = np.random.default_rng(11)
VECTORS = RNG.random((200, DIM), dtype=np.float32)
ROWS = [
    {
        "id": i,
        "name": f"item-{i}",
        "price": float(i % 17) * 1.5,
        "tags": [i % 5, i % 7],
        "vec": VECTORS[i].tolist(),
        "color": ["red", "green", "blue"][i % 3],
        **({"size": i % 4} if i % 2 else {}),
    }
    for i in range(200)
]


def _plain(value: Any) -> Any:
    """Results as plain Python, floats rounded, so two clients' outputs compare."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (float, np.floating)):
        return round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    if hasattr(value, "name") and hasattr(value, "value"):
        return value.name
    return value


def _setup(client: Any, name: str) -> None:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("name", DataType.VARCHAR, max_length=32)
    schema.add_field("price", DataType.DOUBLE)
    schema.add_field("tags", DataType.ARRAY, element_type=DataType.INT64, max_capacity=4)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    index = client.prepare_index_params()
    index.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
    client.insert(name, ROWS[:150])
    client.upsert(name, [{**r, "name": r["name"].upper()} for r in ROWS[140:200]])
    client.delete(name, ids=[0, 1, 2])
    client.delete(name, filter="id in [10, 11]")


def _describe(client: Any, name: str) -> Any:
    desc = client.describe_collection(name)
    keep = ("collection_name", "enable_dynamic_field", "num_partitions", "consistency_level")
    fields = [
        {k: f.get(k) for k in ("name", "type", "params", "is_primary", "element_type")}
        for f in desc["fields"]
    ]
    return {**{k: desc.get(k) for k in keep}, "fields": fields}


def _search(client: Any, name: str) -> Any:
    hits = client.search(
        name,
        data=[VECTORS[5].tolist(), VECTORS[150].tolist()],
        limit=7,
        filter="price > 3",
        output_fields=["name", "tags", "color"],
    )
    return [[{"id": h["id"], "distance": h["distance"], **h["entity"]} for h in q] for q in hits]


def _query(client: Any, name: str) -> Any:
    rows = client.query(
        name, filter='color == "blue" and id < 60', output_fields=["id", "name", "price", "size"]
    )
    return sorted(rows, key=lambda r: r["id"])


def _get(client: Any, name: str) -> Any:
    return sorted(client.get(name, ids=[3, 145, 199, 1000]), key=lambda r: r["id"])


def _count(client: Any, name: str) -> Any:
    return client.query(name, filter="", output_fields=["count(*)"])


def _index(client: Any, name: str) -> Any:
    desc = client.describe_index(name, "vec")
    return {k: desc.get(k) for k in ("index_type", "metric_type", "field_name", "index_name")}


SCENARIOS: dict[str, Callable[[Any, str], Any]] = {
    "describe": _describe,
    "search": _search,
    "query": _query,
    "get": _get,
    "count": _count,
    "index": _index,
    "partitions": lambda c, n: sorted(c.list_partitions(n)),
    "collections": lambda c, n: sorted(c.list_collections()),
}


@pytest.fixture(scope="module")
def both(client: MilvusClient, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from elanus import MilvusClient as EmbeddedClient

    embedded = EmbeddedClient(str(Path(tmp_path_factory.mktemp("embedded")) / "db"))
    _setup(embedded, "congruent")
    _setup(client, "congruent")
    yield embedded, client
    embedded.close()


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_embedded_and_grpc_agree(both: Any, scenario: str) -> None:
    embedded, remote = both
    run = SCENARIOS[scenario]
    assert _plain(run(remote, "congruent")) == _plain(run(embedded, "congruent"))
