"""Database properties: a collection limit, deny flags and the default replica count."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from elanus.engine.engine import Engine
from elanus.engine.requests import IndexSpec, QueryRequest, SearchRequest
from elanus.errors import ElanusError, ParameterError

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import DIM, rows, simple_schema  # noqa: E402


def test_a_database_holds_at_most_its_max_collections(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)) as e:
        e.create_database("d", {"database.max.collections": "2"})
        e.create_collection("d", "a", simple_schema())
        e.create_collection("d", "b", simple_schema())
        with pytest.raises(ElanusError) as info:
            e.create_collection("d", "c", simple_schema())
        assert info.value.code == 102
        assert str(info.value) == ("exceeded the limit number of collections[dbName=d][limit=2]")
        assert sorted(e.list_collections("d")) == ["a", "b"]
        e.create_collection("default", "c", simple_schema())  # other databases unaffected
        e.alter_database_properties("d", {"database.max.collections": "3"})
        e.create_collection("d", "c", simple_schema())
        e.alter_database_properties("d", {"database.max.collections": "many"})
        with pytest.raises(ParameterError, match="parse value of property fail, key:database"):
            e.create_collection("d", "e", simple_schema())
        e.drop_database_properties("d", ["database.max.collections"])
        e.create_collection("d", "e", simple_schema())


def test_database_replica_number_is_the_default_for_loads(tmp_path: Path) -> None:
    flat = [IndexSpec("vec", "FLAT", "vec", "L2")]
    with Engine.open(str(tmp_path)) as e:
        e.create_database("d", {"database.replica.number": "2"})
        e.create_collection("d", "c", simple_schema(), indexes=flat)
        e.release_collection("d", "c")
        for default in (None, 0, -1):
            with pytest.raises(ElanusError, match="when load 2 replica count") as info:
                e.load_collection("d", "c", replica_number=default)
            assert info.value.code == 65535
        with pytest.raises(ElanusError, match="when load 2 replica count"):
            e.load_partitions("d", "c", ["_default"])
        assert e.get_load_state("d", "c") == "NotLoad"
        e.load_collection("d", "c", replica_number=1)  # a load's own count wins
        e.release_collection("d", "c")
        e.alter_database_properties("d", {"database.replica.number": "1"})
        e.load_collection("d", "c")
        assert e.get_load_state("d", "c") == "Loaded"
        e.create_collection("default", "c", simple_schema(), indexes=flat)
        e.release_collection("default", "c")
        e.load_collection("default", "c")  # other databases unaffected
        for bad in ("two", "1.5", ""):
            with pytest.raises(
                ParameterError,
                match=rf"invalid database property: \[key=database.replica.number\] \[value={bad}\]",
            ):
                e.alter_database_properties("d", {"database.replica.number": bad})
        with pytest.raises(ParameterError, match="invalid database property"):
            e.create_database("x", {"database.replica.number": "many"})
        assert "x" not in e.list_databases()
        assert e.describe_database("d").properties["database.replica.number"] == "1"


def _search(e: Engine, db: str) -> None:
    request = SearchRequest(np.ones((1, DIM), dtype=np.float32), anns_field="vec", limit=3)
    e.search(db, "c", request)


def test_force_deny_flags_refuse_writes_and_reads(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)) as e:
        e.create_database("d")
        e.create_collection("d", "c", simple_schema())
        e.insert("d", "c", *rows([1, 2, 3], 1))
        e.alter_database_properties("d", {"database.force.deny.writing": "true"})
        writing = "force deny writing in database properties"
        for write in (
            lambda: e.insert("d", "c", *rows([4], 1)),
            lambda: e.upsert("d", "c", *rows([1], 2)),
            lambda: e.delete("d", "c", ids=[1]),
            lambda: e.delete("d", "c", filter="id > 0"),
        ):
            with pytest.raises(ElanusError, match=writing) as info:
                write()
            assert info.value.code == 9
        counted = e.query("d", "c", QueryRequest(output_fields=["count(*)"]))
        assert counted.columns["count(*)"][0].as_py() == 3
        e.alter_database_properties(
            "d", {"database.force.deny.writing": "false", "database.force.deny.reading": "True"}
        )
        e.insert("d", "c", *rows([4], 1))
        reading = "quota exceeded.reason=access has been disabled by the administrator: force deny reading"
        for read in (
            lambda: e.query("d", "c", QueryRequest(filter="id > 0")),
            lambda: e.query("d", "c", QueryRequest(ids=[1])),
            lambda: _search(e, "d"),
            lambda: e.query_iterator_page("d", "c", QueryRequest(filter="", limit=2)),
        ):
            with pytest.raises(ElanusError, match=reading) as info:
                read()
            assert info.value.code == 9
        e.drop_database_properties("d", ["database.force.deny.reading"])
        counted = e.query("d", "c", QueryRequest(output_fields=["count(*)"]))
        assert counted.columns["count(*)"][0].as_py() == 4
        # a value Go's ParseBool cannot read leaves the flag off, as in Milvus
        e.alter_database_properties("d", {"database.force.deny.writing": "yes"})
        e.insert("d", "c", *rows([5], 1))
