"""Partition errors as pymilvus users of Milvus read them, through ``elanus serve``.

Loading or releasing a partition that does not exist says
"partition not found[partition=X]"; search and query say "partition name X not
found"; a partition-key collection refuses partition names on reads and deletes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pymilvus import DataType, MilvusClient, MilvusException

DIM = 4


@pytest.fixture
def fresh(client: MilvusClient, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "pw_" + "".join(c if c.isalnum() else "_" for c in request.node.name)
    yield name
    client.drop_collection(name)


@pytest.mark.parametrize("name", ["12 s", "(mn)", "nonexisted"])
def test_load_and_release_name_the_missing_partition(
    client: MilvusClient, fresh: str, name: str
) -> None:
    client.create_collection(fresh, dimension=DIM)
    with pytest.raises(MilvusException) as info:
        client.load_partitions(fresh, [name])
    assert f"partition not found[partition={name}]" in info.value.message
    with pytest.raises(MilvusException) as info:
        client.release_partitions(fresh, ["_default", name])
    assert f"partition not found[partition={name}]" in info.value.message
    with pytest.raises(MilvusException) as info:
        client.search(fresh, [[0.1] * DIM], partition_names=[name])
    assert f"partition name {name} not found" in info.value.message


def test_partition_key_collection_refuses_partition_names(client: MilvusClient, fresh: str) -> None:
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("tag", DataType.INT64, is_partition_key=True)
    schema.add_field("vec", DataType.FLOAT_VECTOR, dim=DIM)
    index = client.prepare_index_params()
    index.add_index("vec", metric_type="L2")
    client.create_collection(fresh, schema=schema, index_params=index)
    client.insert(fresh, [{"id": i, "tag": i % 3, "vec": [float(i)] * DIM} for i in range(6)])
    hidden = client.list_partitions(fresh)[0]
    refused = "not support manually specifying the partition names if partition key mode is used"
    for call in (
        lambda: client.search(fresh, [[0.1] * DIM], partition_names=[hidden]),
        lambda: client.query(fresh, filter="id >= 0", partition_names=[hidden]),
        lambda: client.delete(fresh, filter="id in [1]", partition_name=hidden),
    ):
        with pytest.raises(MilvusException) as info:
            call()
        assert refused in info.value.message
    assert len(client.query(fresh, filter="id >= 0")) == 6
