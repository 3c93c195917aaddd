from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest

from elanus.errors import StorageError
from elanus.storage.wal import MAGIC, WriteAheadLog

HEADER = 16


def payload(i: int) -> bytes:
    return f"record-{i}-".encode() * (1 + i % 4)


def wal_files(directory: str) -> list[str]:
    return sorted(n for n in os.listdir(directory) if n.endswith(".wal"))


def write_records(directory: str, count: int, **kw: int) -> None:
    with WriteAheadLog(directory, **kw) as wal:
        for i in range(1, count + 1):
            assert wal.append([payload(i)]) == i


def test_append_returns_sequence_numbers_and_replay_yields_them(tmp_path) -> None:
    d = str(tmp_path)
    with WriteAheadLog(d) as wal:
        assert wal.last_seq == 0
        assert wal.append([b"a", b"", b"c"]) == 3
        assert wal.append([]) == 3
        assert wal.append([b"d"], sync=False) == 4
        wal.sync()
        assert list(wal.replay()) == [(1, b"a"), (2, b""), (3, b"c"), (4, b"d")]
        assert list(wal.replay(after_seq=2)) == [(3, b"c"), (4, b"d")]
    with WriteAheadLog(d) as wal:
        assert wal.recovery.clean and wal.recovery.records == 4
        assert wal.last_seq == 4
        assert wal.append([b"e"]) == 5
        assert [s for s, _ in wal.replay()] == [1, 2, 3, 4, 5]


def test_rotation_and_truncate_before(tmp_path) -> None:
    d = str(tmp_path)
    with WriteAheadLog(d, segment_bytes=200) as wal:
        for i in range(1, 41):
            wal.append([payload(i)])
        files = wal_files(d)
        assert len(files) > 3
        firsts = [int(n.split(".")[0]) for n in files]
        assert firsts[0] == 1
        assert wal.truncate_before(1) == 0
        removed = wal.truncate_before(firsts[2])
        assert removed == 2 and len(wal_files(d)) == len(files) - 2
        assert [s for s, _ in wal.replay(after_seq=firsts[2] - 1)][0] == firsts[2]
        assert [s for s, _ in wal.replay()][0] == firsts[2]
        wal.truncate_before(10**9)
        assert len(wal_files(d)) == 1  # the file being written stays
    with WriteAheadLog(d, segment_bytes=200) as wal:
        assert wal.last_seq == 40 and wal.recovery.clean
        assert wal.append([b"x"]) == 41
        assert list(wal.replay(after_seq=40)) == [(41, b"x")]


def test_torn_tail_at_every_byte_keeps_exactly_the_valid_prefix(tmp_path) -> None:
    src = str(tmp_path / "src")
    write_records(src, 3)
    (name,) = wal_files(src)
    full = (tmp_path / "src" / name).read_bytes()
    last_len = HEADER + len(payload(3))
    last_start = len(full) - last_len
    for cut in range(last_start, len(full)):
        d = tmp_path / f"cut{cut}"
        d.mkdir()
        (d / name).write_bytes(full[:cut])
        with WriteAheadLog(str(d)) as wal:
            report = wal.recovery
            assert [s for s, _ in wal.replay()] == [1, 2], cut
            assert report.last_seq == 2 and report.records == 2
            assert report.dropped_bytes == cut - last_start
            assert report.dropped_records == (1 if cut > last_start else 0)
            assert report.clean == (cut == last_start)
            # The log goes on from the valid prefix.
            assert wal.append([b"next"]) == 3
        assert (d / name).stat().st_size == last_start + HEADER + 4
        with WriteAheadLog(str(d)) as wal:
            assert list(wal.replay()) == [(1, payload(1)), (2, payload(2)), (3, b"next")]


@pytest.mark.parametrize("where", ["length", "crc", "seq", "payload"])
def test_flipped_byte_in_last_record_drops_only_that_record(tmp_path, where: str) -> None:
    d = str(tmp_path)
    write_records(d, 4)
    (name,) = wal_files(d)
    path = os.path.join(d, name)
    data = bytearray(Path(path).read_bytes())
    last_start = len(data) - (HEADER + len(payload(4)))
    offset = {"length": 0, "crc": 5, "seq": 9, "payload": HEADER + 3}[where]
    data[last_start + offset] ^= 0x40
    Path(path).write_bytes(bytes(data))
    with WriteAheadLog(d) as wal:
        assert [p for _, p in wal.replay()] == [payload(i) for i in (1, 2, 3)]
        assert wal.recovery.dropped_bytes == HEADER + len(payload(4))
        assert not wal.recovery.clean and wal.recovery.reason


def test_corruption_in_an_older_file_keeps_the_prefix_and_moves_the_rest_aside(
    tmp_path, caplog
) -> None:
    d = str(tmp_path)
    write_records(d, 30, segment_bytes=150)
    files = wal_files(d)
    assert len(files) >= 3
    second = os.path.join(d, files[1])
    first_of_second = int(files[1].split(".")[0])
    data = bytearray(Path(second).read_bytes())
    data[len(MAGIC) + HEADER] ^= 0xFF  # first payload byte of the second file
    Path(second).write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING), WriteAheadLog(d, segment_bytes=150) as wal:
        assert [s for s, _ in wal.replay()] == list(range(1, first_of_second))
        assert wal.last_seq == first_of_second - 1
        assert len(wal.recovery.moved_aside) == len(files) - 2
        assert "checksum" in wal.recovery.reason
        assert wal.append([b"z"]) == first_of_second
    assert "dropped" in caplog.text
    assert all(os.path.exists(os.path.join(d, n)) for n in wal.recovery.moved_aside)


def test_torn_file_header_is_recovered(tmp_path) -> None:
    d = str(tmp_path)
    write_records(d, 5, segment_bytes=80)
    last = wal_files(d)[-1]
    first = int(last.split(".")[0])
    with open(os.path.join(d, last), "wb") as fh:
        fh.write(MAGIC[:3])
    with WriteAheadLog(d, segment_bytes=80) as wal:
        assert wal.last_seq == first - 1
        assert wal.recovery.dropped_bytes == 3
        assert wal.append([b"again"]) == first


def test_empty_file_from_a_crash_during_creation_is_clean(tmp_path) -> None:
    d = str(tmp_path)
    write_records(d, 2)
    open(os.path.join(d, f"{3:020d}.wal"), "wb").close()
    with WriteAheadLog(d) as wal:
        assert wal.recovery.clean and wal.last_seq == 2
        assert wal.append([b"c"]) == 3


def test_concurrent_appends_get_unique_consecutive_sequences(tmp_path) -> None:
    d = str(tmp_path)
    results: list[tuple[int, bytes]] = []
    lock = threading.Lock()
    with WriteAheadLog(d, sync=False, segment_bytes=4096) as wal:

        def writer(t: int) -> None:
            for i in range(100):
                body = f"{t}:{i}".encode()
                seq = wal.append([body])
                with lock:
                    results.append((seq, body))

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert sorted(results) == list(wal.replay())
    with WriteAheadLog(d) as wal:
        assert sorted(results) == list(wal.replay())


def test_closed_log_refuses_appends(tmp_path) -> None:
    wal = WriteAheadLog(str(tmp_path))
    wal.close()
    with pytest.raises(StorageError, match="closed"):
        wal.append([b"x"])
