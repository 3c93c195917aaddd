"""Hits built by the result shaper behave as ``Hit``: reads, equality, copies, pickles."""

from __future__ import annotations

import copy
import pickle

from elanus.client.results import Hit, _hit_type


def test_fast_built_hits_read_copy_and_pickle_as_hits() -> None:
    hit = _hit_type("pk")({"pk": 7, "distance": 0.25, "entity": {"color": "red"}})
    plain = Hit({"pk": 7, "distance": 0.25, "entity": {"color": "red"}}, "pk")
    assert isinstance(hit, Hit) and type(hit).__name__ == "Hit"
    assert hit == plain and hit.id == 7 and hit.pk == 7 and hit.distance == 0.25
    assert hit["color"] == "red" and hit.color == "red" and hit.fields == {"color": "red"}
    for other in (copy.copy(hit), copy.deepcopy(hit), pickle.loads(pickle.dumps(hit))):
        assert type(other) is Hit and other == hit and other.id == 7
    assert _hit_type("pk") is _hit_type("pk")
