"""The SQLite disk buffer: ordered, persistent, bounded in bytes, keeps the newest."""

import sqlite3

import pytest

from missionctl_agent.disk_buffer import DiskBuffer
from missionctl_agent.samples import to_json


def sample(n, pad=0):
    values = {"cpu.percent": float(n)}
    if pad:
        values["mem.used_bytes"] = float(10**pad)  # changes the JSON size
    return {"host": "h", "kind": "vm", "timestamp": n, "values": values}


def size(s):
    return len(to_json(s).encode())


def timestamps(buffer):
    return [s["timestamp"] for _, s in buffer.oldest(10_000)]


def test_oldest_returns_samples_in_the_order_they_were_appended(tmp_path):
    buffer = DiskBuffer(str(tmp_path / "b.sqlite3"))
    buffer.append([sample(3), sample(1)])
    buffer.append([sample(2)])
    assert timestamps(buffer) == [3, 1, 2]


def test_samples_survive_closing_and_reopening_the_file(tmp_path):
    path = str(tmp_path / "b.sqlite3")
    buffer = DiskBuffer(path)
    buffer.append([sample(1), sample(2)])
    buffer.close()
    reopened = DiskBuffer(path)
    assert timestamps(reopened) == [1, 2]
    assert reopened.total_bytes == size(sample(1)) + size(sample(2))


def test_removed_rows_are_gone_and_order_of_the_rest_holds(tmp_path):
    buffer = DiskBuffer(str(tmp_path / "b.sqlite3"))
    buffer.append([sample(n) for n in range(5)])
    ids = [row_id for row_id, _ in buffer.oldest(5)]
    buffer.remove([ids[0], ids[2]])
    assert timestamps(buffer) == [1, 3, 4]
    assert len(buffer) == 3
    assert buffer.total_bytes == sum(size(sample(n)) for n in (1, 3, 4))


def test_order_holds_after_the_newest_row_was_removed(tmp_path):
    buffer = DiskBuffer(str(tmp_path / "b.sqlite3"))
    buffer.append([sample(1), sample(2)])
    buffer.remove([buffer.oldest(2)[1][0]])
    buffer.append([sample(3)])  # must not reuse the freed id and jump ahead
    assert timestamps(buffer) == [1, 3]


def test_when_full_the_oldest_are_dropped_and_the_newest_kept(tmp_path):
    one = size(sample(10))
    buffer = DiskBuffer(str(tmp_path / "b.sqlite3"), max_bytes=one * 3)
    dropped = sum(buffer.append([sample(n)]) for n in range(10, 20))
    assert timestamps(buffer) == [17, 18, 19]
    assert dropped == 7
    assert buffer.total_bytes <= buffer.max_bytes


def test_one_big_append_keeps_only_the_newest_that_fit(tmp_path):
    one = size(sample(10))
    buffer = DiskBuffer(str(tmp_path / "b.sqlite3"), max_bytes=one * 4)
    assert buffer.append([sample(n) for n in range(10, 20)]) == 6
    assert timestamps(buffer) == [16, 17, 18, 19]


def test_total_bytes_never_exceeds_the_bound_with_mixed_sizes(tmp_path):
    buffer = DiskBuffer(str(tmp_path / "b.sqlite3"), max_bytes=500)
    for n in range(200):
        buffer.append([sample(n, pad=n % 7)])
        assert buffer.total_bytes <= 500
        stored = sqlite3.connect(str(tmp_path / "b.sqlite3")).execute("SELECT SUM(size) FROM samples").fetchone()[0]
        assert stored == buffer.total_bytes
    assert timestamps(buffer)[-1] == 199


def test_a_sample_larger_than_the_whole_bound_is_dropped_on_arrival(tmp_path):
    buffer = DiskBuffer(str(tmp_path / "b.sqlite3"), max_bytes=size(sample(1)) + 5)
    buffer.append([sample(1)])
    assert buffer.append([sample(2, pad=30)]) == 1
    assert timestamps(buffer) == [1]


def test_a_lowered_bound_is_applied_when_the_file_is_reopened(tmp_path):
    path = str(tmp_path / "b.sqlite3")
    buffer = DiskBuffer(path)
    buffer.append([sample(n) for n in range(10, 20)])
    buffer.close()
    smaller = DiskBuffer(path, max_bytes=size(sample(10)) * 2)
    assert timestamps(smaller) == [18, 19]


def test_oldest_respects_the_byte_limit_but_returns_at_least_one(tmp_path):
    buffer = DiskBuffer(str(tmp_path / "b.sqlite3"))
    buffer.append([sample(n) for n in range(10, 15)])
    one = size(sample(10))
    assert [s["timestamp"] for _, s in buffer.oldest(500, max_bytes=one * 2)] == [10, 11]
    assert [s["timestamp"] for _, s in buffer.oldest(500, max_bytes=1)] == [10]
    assert [s["timestamp"] for _, s in buffer.oldest(3)] == [10, 11, 12]


def test_the_bound_must_be_positive(tmp_path):
    with pytest.raises(ValueError):
        DiskBuffer(str(tmp_path / "b.sqlite3"), max_bytes=0)
