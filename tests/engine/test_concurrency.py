"""Many threads write and read one collection; readers never see part of a batch."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np

from elanus.engine.engine import Engine

sys.path.insert(0, str(Path(__file__).parent))
from engine_helpers import rows, simple_schema, visible  # noqa: E402

BATCH = 7


def test_readers_see_whole_batches_while_writers_insert_and_delete(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    with Engine.open(str(tmp_path), sync=False, seal_rows=200) as e:
        e.create_collection("default", "c", simple_schema())
        data = e.collections[e._meta("default", "c").collection_id]
        stop = threading.Event()

        def writer(w: int) -> None:
            try:
                for b in range(40):
                    base = (w * 1000 + b) * BATCH
                    e.insert("default", "c", *rows(list(range(base, base + BATCH)), w * 1000 + b))
                    if b % 5 == 4:  # delete a whole earlier batch at once
                        old = (w * 1000 + b - 2) * BATCH
                        e.delete("default", "c", ids=list(range(old, old + BATCH)))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def reader() -> None:
            try:
                while not stop.is_set():
                    snap = data.snapshot
                    tags = [
                        v.data.column("tag").to_numpy(zero_copy_only=False)[: v.num_rows][
                            ~v.deleted[: v.num_rows]
                        ]
                        for v in snap.segments
                    ]
                    if tags:
                        _, counts = np.unique(np.concatenate(tags), return_counts=True)
                        assert np.all(counts == BATCH), counts
            except BaseException as exc:  # pragma: no cover
                errors.append(exc)

        readers = [threading.Thread(target=reader) for _ in range(2)]
        writers = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
        for t in readers + writers:
            t.start()
        for t in writers:
            t.join()
        stop.set()
        for t in readers:
            t.join()
        assert not errors, errors[0]
        assert len(visible(e)) == 3 * (40 - 8) * BATCH
