"""Search iterator pages: every live row exactly once, ties at a page bound included."""

from __future__ import annotations

import numpy as np
import pytest
from test_search_kit import make_snapshot, make_table

from elanus.engine.requests import SearchRequest
from elanus.engine.search_iterator import search_iterator_page


@pytest.mark.parametrize("metric", ["L2", "IP"])
def test_pages_cover_every_row_once(metric: str) -> None:
    table = make_table(240, seed=9)
    table.vec[100:140] = table.vec[5]  # many equal distances, across page bounds
    deleted = np.zeros(240, dtype=bool)
    deleted[::11] = True
    snap = make_snapshot(table, [70, 160], deleted=deleted)
    request = SearchRequest(table.vec[:1], "vec", search_params={"metric_type": metric})
    seen: list[int] = []
    bound, exclude = None, None
    last_distances: list[float] = []
    for _ in range(100):
        page = search_iterator_page(
            snap, request, batch_size=17, last_bound=bound, exclude_ids=exclude
        )
        if page.results.topks[0] == 0:
            break
        seen.extend(np.asarray(page.results.ids).tolist())
        last_distances.extend(page.results.distances.tolist())
        bound, exclude = page.last_bound, page.ids_at_bound
    assert sorted(seen) == sorted(table.ids[~deleted].tolist())
    assert len(seen) == len(set(seen))
    d = np.asarray(last_distances)
    assert np.all(np.diff(d) >= 0) if metric == "L2" else np.all(np.diff(d) <= 0)
