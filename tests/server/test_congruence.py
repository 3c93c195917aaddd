"""The same scenarios through the embedded ``elanus.MilvusClient`` and through
pymilvus over gRPC against ``elanus serve``: the results must be the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pymilvus import (
    AnnSearchRequest,
    DataType,
    Function,
    FunctionType,
    MilvusClient,
    RRFRanker,
    WeightedRanker,
)

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

RICH_DIM = 8
WORDS = ["river", "stone", "cloud", "ember", "willow", "harbor", "lantern", "meadow"]
DENSE = RNG.standard_normal((120, RICH_DIM)).astype(np.float32)
RICH_ROWS = [
    {
        "id": i,
        "text": " ".join(WORDS[(i * k) % len(WORDS)] for k in range(1, 2 + i % 4)),
        "sparse": {int(d): float(1 + (i + d) % 5) for d in (i % 11, 20 + i % 7, 40 + i % 3)},
        "dense": DENSE[i].tolist(),
        "meta": {"k": i % 9, "tags": [WORDS[i % 8], WORDS[(i + 3) % 8]], "nested": {"v": i}},
        "labels": [WORDS[j % 8][:4] for j in range(i, i + i % 3 + 1)],
        "grp": i % 6,
        **({"extra": i % 13} if i % 3 else {}),
    }
    for i in range(120)
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


def _setup_rich(client: Any, name: str) -> None:
    """Dense, sparse and BM25 fields, JSON, ARRAY and dynamic keys in one collection."""
    schema = client.create_schema(auto_id=False, enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=256, enable_analyzer=True)
    schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=RICH_DIM)
    schema.add_field("meta", DataType.JSON)
    schema.add_field(
        "labels", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=4, max_length=16
    )
    schema.add_field("grp", DataType.INT64)
    schema.add_function(
        Function(
            name="text_bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["bm25"],
        )
    )
    index = client.prepare_index_params()
    index.add_index("dense", index_type="FLAT", metric_type="COSINE")
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    index.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
    client.insert(name, RICH_ROWS)


def _setup_small(client: Any, name: str) -> None:
    """A fresh small collection for scenarios that write."""
    if client.has_collection(name):
        client.drop_collection(name)
    schema = client.create_schema(auto_id=False, enable_dynamic_field=True)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("name", DataType.VARCHAR, max_length=32)
    schema.add_field("price", DataType.DOUBLE, nullable=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    index = client.prepare_index_params()
    index.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
    client.insert(
        name, [{k: ROWS[i][k] for k in ("id", "name", "price", "vec")} for i in range(20)]
    )


def _all_rows(client: Any, name: str) -> Any:
    rows = client.query(name, filter="id >= 0", output_fields=["*"])
    return sorted(rows, key=lambda r: r["id"])


def _write_result(result: Any) -> Any:
    return {k: v for k, v in dict(result).items() if k != "cost"}


def _hits(hits: Any) -> Any:
    return [[{"id": h["id"], "distance": h["distance"], **h["entity"]} for h in q] for q in hits]


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
    return _hits(hits)


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


def _upsert_full(client: Any, name: str) -> Any:
    table = f"{name}_upsert_full"
    _setup_small(client, table)
    rows = [
        {"id": i, "name": f"new-{i}", "price": 7.5, "vec": VECTORS[i + 50].tolist(), "note": i}
        for i in (3, 4, 25)
    ]
    result = client.upsert(table, rows)
    return {"result": _write_result(result), "rows": _all_rows(client, table)}


def _upsert_partial(client: Any, name: str) -> Any:
    table = f"{name}_upsert_partial"
    _setup_small(client, table)
    prices = client.upsert(
        table, [{"id": 5, "price": 99.0}, {"id": 6, "price": None}], partial_update=True
    )
    names = client.upsert(table, [{"id": 7, "name": "renamed", "note": 1}], partial_update=True)
    return {
        "prices": _write_result(prices),
        "names": _write_result(names),
        "rows": _all_rows(client, table),
    }


def _delete(client: Any, name: str) -> Any:
    table = f"{name}_delete"
    _setup_small(client, table)
    # Keys named outright are counted whether or not they exist, as Milvus counts them.
    by_ids = client.delete(table, ids=[1, 2, 99])
    by_key_filter = client.delete(table, filter="id in [3, 98]")
    by_filter = client.delete(table, filter="price > 10 or name like 'item-1%'")
    return {
        "by_ids": _write_result(by_ids),
        "by_key_filter": _write_result(by_key_filter),
        "by_filter": _write_result(by_filter),
        "rows": [r["id"] for r in _all_rows(client, table)],
    }


def _hybrid(ranker: Any) -> Callable[[Any, str], Any]:
    def run(client: Any, name: str) -> Any:
        table = f"{name}_rich"
        reqs = [
            AnnSearchRequest(
                data=[DENSE[7].tolist(), DENSE[30].tolist()],
                anns_field="dense",
                param={"metric_type": "COSINE"},
                limit=12,
                expr="grp != 2",
            ),
            AnnSearchRequest(
                data=[RICH_ROWS[7]["sparse"], RICH_ROWS[30]["sparse"]],
                anns_field="sparse",
                param={"metric_type": "IP"},
                limit=12,
            ),
        ]
        hits = client.hybrid_search(
            table, reqs, ranker, limit=8, output_fields=["grp", "labels", "extra"]
        )
        return _hits(hits)

    return run


def _grouping(client: Any, name: str) -> Any:
    hits = client.search(
        f"{name}_rich",
        data=[DENSE[3].tolist()],
        anns_field="dense",
        limit=4,
        group_by_field="grp",
        group_size=2,
        output_fields=["grp"],
    )
    return _hits(hits)


def _range_l2(client: Any, name: str) -> Any:
    hits = client.search(
        name,
        data=[VECTORS[20].tolist()],
        limit=50,
        search_params={"metric_type": "L2", "params": {"radius": 1.2, "range_filter": 0.6}},
        output_fields=["name"],
    )
    return _hits(hits)


def _range_cosine(client: Any, name: str) -> Any:
    hits = client.search(
        f"{name}_rich",
        data=[DENSE[9].tolist()],
        anns_field="dense",
        limit=50,
        search_params={"metric_type": "COSINE", "params": {"radius": 0.3, "range_filter": 0.8}},
        output_fields=["grp"],
    )
    return _hits(hits)


def _bm25(client: Any, name: str) -> Any:
    hits = client.search(
        f"{name}_rich",
        data=["river ember", "lantern"],
        anns_field="bm25",
        limit=6,
        search_params={"metric_type": "BM25"},
        output_fields=["text"],
    )
    return _hits(hits)


def _query_iterator(client: Any, name: str) -> Any:
    iterator = client.query_iterator(
        name, batch_size=7, limit=40, filter="id < 90", output_fields=["name", "color"]
    )
    pages = []
    while page := iterator.next():
        pages.append(page)
    iterator.close()
    return pages


def _search_iterator(client: Any, name: str) -> Any:
    iterator = client.search_iterator(
        name,
        data=[VECTORS[40].tolist()],
        batch_size=6,
        limit=25,
        filter="price < 20",
        output_fields=["name"],
    )
    pages = []
    while page := iterator.next():
        pages.append([{"id": h["id"], "distance": h["distance"], **h["entity"]} for h in page])
    iterator.close()
    return pages


FILTERS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "json_compare": ('meta["k"] > 5 and meta["nested"]["v"] < 80', None),
    "json_contains": ('json_contains(meta["tags"], "ember")', None),
    "array": ('array_contains(labels, "rive") and array_length(labels) >= 2', None),
    "array_index": ('labels[0] == "clou"', None),
    "dynamic": ("extra > 8 or extra in [1, 2]", None),
    "template": (
        'id in {ids} and meta["k"] < {top} and grp == {g}',
        {"ids": list(range(0, 120, 5)), "top": 6, "g": 3},
    ),
}


def _filtered(key: str) -> Callable[[Any, str], Any]:
    expr, params = FILTERS[key]

    def run(client: Any, name: str) -> Any:
        kwargs = {"filter_params": params} if params else {}
        rows = client.query(
            f"{name}_rich", filter=expr, output_fields=["meta", "labels", "extra"], **kwargs
        )
        return sorted(rows, key=lambda r: r["id"])

    return run


def _error(call: Callable[[Any, str], Any], says: tuple[str, ...]) -> Callable[[Any, str], Any]:
    """The code of the error a bad call raises; its message must hold every phrase of
    ``says`` (over gRPC Milvus wraps the same words in per-call context)."""

    def run(client: Any, name: str) -> Any:
        try:
            call(client, name)
        except Exception as exc:  # both clients' error roots carry code and message
            message = str(getattr(exc, "message", exc))
            assert [p for p in says if p not in message] == [], message
            return getattr(exc, "code", None)
        raise AssertionError("the bad call succeeded")

    return run


ERRORS: dict[str, tuple[Callable[[Any, str], Any], tuple[str, ...]]] = {
    "unknown_collection": (
        lambda c, n: c.query("no_such_collection", filter="id > 0"),
        ("no_such_collection",),
    ),
    "bad_filter": (
        lambda c, n: c.query(n, filter="id >>> 3"),
        ("cannot parse expression", "unexpected '>'", "at position 4"),
    ),
    "search_wrong_dim": (
        lambda c, n: c.search(n, data=[[0.1] * (DIM - 3)], limit=3),
        ("the dim (13) of query vectors does not match the dim (16) of field vec",),
    ),
    "insert_wrong_dim": (
        lambda c, n: c.insert(
            n, [{"id": 5000, "name": "x", "price": 1.0, "tags": [], "vec": [0.5] * (DIM + 1)}]
        ),
        ("the length(17) of float data should divide the dim(16)",),
    ),
}


SCENARIOS: dict[str, Callable[[Any, str], Any]] = {
    "describe": _describe,
    "search": _search,
    "query": _query,
    "get": _get,
    "count": _count,
    "index": _index,
    "partitions": lambda c, n: sorted(c.list_partitions(n)),
    "collections": lambda c, n: sorted(c.list_collections()),
    "upsert_full": _upsert_full,
    "upsert_partial": _upsert_partial,
    "delete": _delete,
    "hybrid_rrf": _hybrid(RRFRanker(30)),
    "hybrid_weighted": _hybrid(WeightedRanker(0.7, 0.3)),
    "grouping": _grouping,
    "range_l2": _range_l2,
    "range_cosine": _range_cosine,
    "bm25": _bm25,
    "query_iterator": _query_iterator,
    "search_iterator": _search_iterator,
    **{f"filter_{key}": _filtered(key) for key in FILTERS},
    **{f"error_{key}": _error(call, says) for key, (call, says) in ERRORS.items()},
}


@pytest.fixture(scope="module")
def both(client: MilvusClient, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from elanus import MilvusClient as EmbeddedClient

    embedded = EmbeddedClient(str(Path(tmp_path_factory.mktemp("embedded")) / "db"))
    for side in (embedded, client):
        _setup(side, "congruent")
        _setup_rich(side, "congruent_rich")
    yield embedded, client
    embedded.close()


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_embedded_and_grpc_agree(both: Any, scenario: str) -> None:
    embedded, remote = both
    run = SCENARIOS[scenario]
    assert _plain(run(remote, "congruent")) == _plain(run(embedded, "congruent"))
