"""SQLite-specific behaviour: several processes (chalice local, the worker, missionctl) share
one file."""
import threading

from chalicelib.storage.sqlite_engine import SqliteStore


def test_many_openers_of_a_new_file_at_once_all_succeed(tmp_path):
    for trial in range(10):
        path = str(tmp_path / f"new-{trial}.db")
        errors = []

        def open_and_write(n):
            try:
                SqliteStore(path).put("events", {"pk": f"p{n}", "sk": "e"})
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=open_and_write, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(SqliteStore(path).query("events", "p0").items) == 1


# -- connections: bounded by the work in flight, never by the threads that came and went -------

def _use_from_threads(store, count: int, first: int = 0) -> None:
    def work(n):
        store.put("events", {"pk": f"t{n}", "sk": "e"})
        store.query("events", f"t{n}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(first, first + count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_open_handles_stay_bounded_however_many_threads_come_and_go(tmp_path):
    from open_files import open_files
    from chalicelib.storage.sqlite_engine import POOL_SIZE
    store = SqliteStore(str(tmp_path / "store.db"))
    # Threads that end without releasing anything, as a thread-per-connection server's do.
    for round_ in range(4):
        _use_from_threads(store, 100, first=round_ * 100)
        # A connection holds the file, its WAL and the shared-memory index.
        assert len(open_files("self", str(tmp_path / "store.db"))) <= 3 * POOL_SIZE
    store.close()
    assert open_files("self", str(tmp_path / "store.db")) == []


def test_a_released_connection_serves_the_next_thread(tmp_path):
    from open_files import open_files
    store = SqliteStore(str(tmp_path / "store.db"))
    for n in range(50):  # one after the other, each releasing as a server does after a request
        worker = threading.Thread(target=lambda: (store.get("events", "a", "b"), store.release()))
        worker.start()
        worker.join()
    assert len(open_files("self", str(tmp_path / "store.db"))) <= 3


def test_a_thread_finds_a_connection_even_when_every_pooled_one_is_held(tmp_path, monkeypatch):
    from chalicelib.storage import sqlite_engine
    monkeypatch.setattr(sqlite_engine, "POOL_WAIT_S", 0.2)
    store = SqliteStore(str(tmp_path / "store.db"))
    holding, go_on = threading.Barrier(sqlite_engine.POOL_SIZE + 1), threading.Event()

    def hold():
        store.get("events", "a", "b")  # takes a connection and keeps it until released
        holding.wait()
        go_on.wait(timeout=30)
        store.release()

    holders = [threading.Thread(target=hold) for _ in range(sqlite_engine.POOL_SIZE)]
    for t in holders:
        t.start()
    holding.wait()
    # Every pooled connection is held (say, by requests waiting on this very process): after
    # the bounded wait an extra connection serves, instead of a deadlock.
    store.put("events", {"pk": "extra", "sk": "e"})
    store.release()
    go_on.set()
    for t in holders:
        t.join()
    assert store.get("events", "extra", "e") == {"pk": "extra", "sk": "e"}


# -- the change log: trimmed once read, its pages given back to the file system ----------------

def _log_changes(store, count: int, pk: str = "c") -> list[str]:
    for n in range(count):
        store.put("events", {"pk": pk, "sk": f"{n:05d}", "blob": "x" * 1000})
    return [c.sequence for c in store.changes("events", limit=count * 2).changes]


def test_only_changes_every_reader_has_read_are_forgotten(sqlite_store):
    sequences = _log_changes(sqlite_store, 6)
    # One reader is at the 4th change, another at the 2nd: the first two can go.
    assert sqlite_store.forget_changes("events", [sequences[3], sequences[1]], keep_s=0) == 2
    left = sqlite_store.changes("events").changes
    assert [c.sequence for c in left] == sequences[2:]
    # A reader that has read nothing yet keeps the whole log.
    assert sqlite_store.forget_changes("events", [sequences[5], None], keep_s=0) == 0
    # Changes younger than the margin stay, read or not.
    assert sqlite_store.forget_changes("events", [sequences[5]], keep_s=60) == 0
    # A table nobody reads keeps nothing past the margin.
    assert sqlite_store.forget_changes("events", [], keep_s=0) == 4
    assert sqlite_store.changes("events").changes == []


def test_the_stream_goes_on_after_a_trim(sqlite_store):
    sequences = _log_changes(sqlite_store, 3)
    sqlite_store.forget_changes("events", [sequences[-1]], keep_s=0)
    sqlite_store.put("events", {"pk": "d", "sk": "1"})
    after = sqlite_store.changes("events", after=sequences[-1]).changes
    assert [(c.event, c.keys) for c in after] == [("INSERT", {"pk": "d", "sk": "1"})]
    assert int(after[0].sequence) > int(sequences[-1])  # never a sequence number again


def test_a_trimmed_log_gives_its_pages_back_to_the_file_system(sqlite_store):
    import os
    _log_changes(sqlite_store, 2000)
    grown = os.path.getsize(sqlite_store.path) + os.path.getsize(sqlite_store.path + "-wal")
    sqlite_store.forget_changes("events", [], keep_s=0)
    given_back = sqlite_store.compact()
    assert given_back > 1_000_000  # the log's 2,000 images of 1 KB
    sqlite_store.close()  # the last connection checkpoints the WAL into the file, and removes it
    assert os.path.getsize(sqlite_store.path) < grown - 1_000_000


def test_a_file_made_before_incremental_vacuum_is_converted_once_on_request(tmp_path):
    import sqlite3
    path = str(tmp_path / "old.db")
    old = sqlite3.connect(path)
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE early (x)")  # tables exist: auto_vacuum can no longer change
    old.close()
    store = SqliteStore(path)
    _log_changes(store, 300)
    store.forget_changes("events", [], keep_s=0)
    assert store.compact() == 0  # nothing happens behind an operator's back: no VACUUM

    def mode():
        return store._conn().execute("PRAGMA auto_vacuum").fetchone()[0]
    assert mode() == 0
    assert store.compact(convert=True) > 0
    assert mode() == 2  # INCREMENTAL from now on
    store.close()
