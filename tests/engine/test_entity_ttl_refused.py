"""Per-entity TTL (the ``ttl_field`` property) is refused, at create and at alter,
rather than stored with no effect; the collection is left as it was."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from elanus.engine.engine import Engine
from elanus.errors import NotSupportedError

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import simple_schema  # noqa: E402

DB = "default"


def test_a_ttl_field_is_refused_at_create_and_at_alter(tmp_path: Path) -> None:
    with Engine.open(str(tmp_path)) as e:
        with pytest.raises(NotSupportedError, match="per-entity TTL"):
            e.create_collection(DB, "c", simple_schema(), properties={"ttl_field": "ts"})
        assert e.list_collections(DB) == []
        e.create_collection(DB, "c", simple_schema(), properties={"collection.ttl.seconds": "5"})
        with pytest.raises(NotSupportedError, match="ttl_field"):
            e.alter_collection_properties(DB, "c", {"ttl_field": "ts"})
        assert "ttl_field" not in e.describe_collection(DB, "c").properties
        assert e.describe_collection(DB, "c").properties["collection.ttl.seconds"] == "5"
